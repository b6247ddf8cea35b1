// Where a summary or a notes section takes its provenance from: the config snapshot of this run
// when the stage is given one (checked to describe this run: see snapshot.ts), else the pipeline
// the stage runs in and git, read now. Either way params and command lines are those that produced
// this comparison: the runner re-runs a snapshot, and a stage without one, whenever any param or
// stage definition changes (the kinds' `describesPipeline`).
import { createHash } from 'node:crypto';
import type { StageContext } from '../../src/stage-api/index.js';
import { readGitState, type GitState } from './git.js';
import { evidenceVersion, readCurrentSnapshot, recordPipeline } from './snapshot.js';

export interface Provenance {
  git: GitState;
  /** evidence's version, then each declared tool's first version line (or its error). */
  tools: Array<{ name: string; version: string }>;
  /** Every param, redacted. */
  params: Record<string, unknown>;
  /** Every stage's command line, redacted. */
  commands: Array<{ name: string; command: string }>;
  /** The snapshot it came from (project-relative, sha256 of its bytes), or null: read when the stage ran. */
  snapshot: { path: string; sha256: string } | null;
}

export async function gatherProvenance(ctx: StageContext, snapshotPath: string | undefined): Promise<Provenance> {
  if (snapshotPath !== undefined) {
    const { snapshot, path, bytes } = readCurrentSnapshot(ctx, snapshotPath);
    return {
      git: snapshot.git,
      tools: [
        { name: 'evidence', version: snapshot.evidence },
        ...Object.entries(snapshot.tools).map(([name, t]) => ({ name, version: t.version ?? `unknown (${t.error ?? 'no output'})` })),
      ],
      params: snapshot.params,
      commands: snapshot.stages.map((s) => ({ name: s.name, command: s.command })),
      snapshot: { path, sha256: createHash('sha256').update(bytes).digest('hex') },
    };
  }
  const record = recordPipeline(ctx.pipeline, ctx.params);
  const outs = [...new Set([...ctx.outs, ...ctx.pipeline.stages.flatMap((s) => s.outs)])];
  return {
    git: await readGitState(ctx.root, outs, ctx.signal),
    tools: [{ name: 'evidence', version: evidenceVersion() }],
    params: record.params,
    commands: record.stages.map((s) => ({ name: s.name, command: s.command })),
    snapshot: null,
  };
}
