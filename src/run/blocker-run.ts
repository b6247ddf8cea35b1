// After a failed run: hands the first failure to the pipeline's blocker stage (the built-in
// `blocker` or a user script with the same contract) and reports what it recorded. The blocker
// never changes the run's outcome: when it fails, that is reported beside the original failure.
import type { Pipeline } from '../pipeline/model.js';
import type { EventSink } from './events.js';
import type { RunOutcome } from './scheduler.js';
import { pipelineView } from '../pipeline/view.js';
import { runUsesStage } from './in-process-executor.js';
import type { StageCatalog } from '../stage-api/index.js';

export interface BlockerRunOptions {
  emit: EventSink;
  catalog: StageCatalog;
  /** Aborted by a Ctrl-C during the blocker itself. */
  signal: AbortSignal;
  /** A blocker that hangs (a git on a network drive) must not hold the run for ever. */
  timeoutMs?: number;
  /** Between aborting a stopped blocker's signal and ending it (default 5 s, as `--grace`). */
  graceMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Runs the blocker when the pipeline has one and a stage failed (not when the run was interrupted). */
export async function runBlocker(pipeline: Pipeline, outcome: RunOutcome, opts: BlockerRunOptions): Promise<'none' | 'done' | 'failed'> {
  const spec = pipeline.blocker;
  if (!spec || outcome.status === 'interrupted') return 'none';
  const failure = outcome.failures.find((f) => f.reason !== 'interrupted');
  if (!failure) return 'none';
  try {
    const returned = await runUsesStage({
      stage: 'blocker',
      uses: spec.uses,
      with: spec.with,
      root: pipeline.root,
      cwd: pipeline.root,
      outs: [],
      deps: [],
      params: pipeline.params,
      env: pipeline.env,
      pipeline: pipelineView(pipeline),
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      graceMs: opts.graceMs,
      failure,
      log: (level, message) => opts.emit({ type: 'stage-log', time: Date.now(), stage: 'blocker', level, message }),
    }, opts.catalog);
    const listed = (returned as { artifacts?: unknown } | undefined)?.artifacts;
    const artifacts = Array.isArray(listed) ? listed.filter((a): a is string => typeof a === 'string') : [];
    opts.emit({ type: 'blocker-done', time: Date.now(), stage: failure.stage, artifacts });
    return 'done';
  } catch (err) {
    opts.emit({ type: 'blocker-failed', time: Date.now(), stage: failure.stage, message: (err as Error)?.message ?? String(err) });
    return 'failed';
  }
}
