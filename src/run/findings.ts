// Reads the findings of settled stages through their kinds in the catalog: the one way reporters
// and the run's gate learn what a stage found. Knows no stage kind; a kind without a findings
// reader (every cmd stage, most uses-stages) simply has none.
import type { Pipeline } from '../pipeline/model.js';
import type { StageStatus } from './events.js';
import type { Findings, StageCatalog, StageKind } from '../stage-api/index.js';
import { primaryOutOf } from '../pipeline/primary-out.js';
import { pipelineView } from '../pipeline/view.js';

export interface StageFindings {
  stage: string;
  findings: Findings;
}

const SETTLED: ReadonlySet<StageStatus> = new Set(['done', 'up-to-date', 'restored']);

/**
 * The findings of the stages among `statuses` whose outs are in place (ran, up to date or
 * restored), in that order; `only` narrows the stages asked (e.g. to those with a gate).
 */
export async function readFindings(
  pipeline: Pipeline,
  catalog: StageCatalog,
  statuses: ReadonlyMap<string, StageStatus>,
  only?: (kind: StageKind, withValue: Record<string, unknown>) => boolean,
): Promise<StageFindings[]> {
  const out: StageFindings[] = [];
  let view: ReturnType<typeof pipelineView> | undefined;
  for (const [name, status] of statuses) {
    const stage = pipeline.stages.get(name);
    const kind = stage?.uses ? catalog.kinds.get(stage.uses) : undefined;
    if (!stage || !kind?.findings || !SETTLED.has(status)) continue;
    if (only && !only(kind, stage.with)) continue;
    view ??= pipelineView(pipeline);
    try {
      const findings = await kind.findings({ stage: name, root: pipeline.root, cwd: stage.cwd, with: stage.with, outs: stage.outs.map((o) => o.path), primaryOut: primaryOutOf(stage, kind), pipeline: view });
      out.push({ stage: name, findings });
    } catch (err) {
      const message = `cannot read the findings of ${name}: ${(err as Error)?.message ?? String(err)}`;
      out.push({ stage: name, findings: { severity: 'notice', headline: message, warnings: [message] } });
    }
  }
  return out;
}
