// The pipeline as a stage sees it (the stage API's PipelineView): plain data, no source locations.
import type { PipelineView } from '../stage-api/index.js';
import type { Pipeline } from './model.js';

export function pipelineView(pipeline: Pipeline): PipelineView {
  return {
    file: pipeline.file,
    params: pipeline.params,
    env: pipeline.env,
    stages: [...pipeline.stages.values()].map((s) => ({
      name: s.name,
      uses: s.uses,
      cwd: s.cwd,
      command: s.display,
      deps: s.deps.map((d) => d.pattern),
      outs: s.outs.map((o) => o.path),
      env: s.env,
    })),
  };
}
