// The executor of `uses:` stages (and, through runUsesStage, of the blocker). Where a stage runs
// depends on whose code it is, because only a thread can stop code that will not stop itself:
//   - a user's script runs in a worker thread (script-worker.ts), ended once --grace has passed
//     after a timeout or Ctrl-C, and at the end of its stage. Its code may ignore ctx.signal or
//     loop synchronously; a run must end all the same, and must not end while it still writes.
//   - a catalog kind (the built-ins) runs in this process. Measured (2 cores, load ~4, medians of
//     21): 0.4-1.5 ms a stage here, against 70-130 ms in a fresh worker and 11-16 ms in one started
//     ahead of need; a cold run of the default pipeline has four of them on its critical path.
//     Their code is ours and honours ctx.signal (between chunks of a parse, between compare steps,
//     handed to every process they start); a stopped one is still awaited, up to the grace
//     period, so that its last write lands before the run goes on. Running them in a worker
//     would also need the catalog to name a module a thread can import, not a load() closure.
// Loads nothing until a stage actually runs.
import { asStageFailure, StageFailure, type StageCatalog } from '../stage-api/index.js';
import { isScriptReference } from '../pipeline/paths.js';
import { failed, type Execution, type ExecutionResult, type Executor } from './executor.js';
import { ScriptWorkers } from './script-worker.js';
import { checkScriptInputs, loadStageModule, stageContext, type UsesData } from './uses-stage.js';

export { loadStageModule } from './uses-stage.js';

/** A uses-stage's data plus how this process watches over it (not sent to a worker). */
export interface UsesSpec extends UsesData {
  signal: AbortSignal;
  timeoutMs?: number;
  /** Between aborting the stage's signal and giving up on it (default 5 s, as `--grace`). */
  graceMs?: number;
  log: (level: 'info' | 'warn', message: string) => void;
}

const DEFAULT_GRACE_MS = 5000;

function dataOf(spec: UsesSpec): UsesData {
  const { signal: _signal, timeoutMs: _timeout, graceMs: _grace, log: _log, ...data } = spec;
  return data;
}

/**
 * Runs the stage; resolves on success (with what the stage returned), throws StageFailure (or any
 * error) on failure. `workers`: the run's script workers (one is made for this call otherwise).
 */
export async function runUsesStage(spec: UsesSpec, catalog: StageCatalog, workers?: ScriptWorkers): Promise<unknown> {
  const graceMs = spec.graceMs ?? DEFAULT_GRACE_MS;
  if (isScriptReference(spec.uses)) {
    const own = workers ?? new ScriptWorkers();
    try {
      return await own.run({ data: dataOf(spec), log: spec.log, signal: spec.signal, timeoutMs: spec.timeoutMs, graceMs });
    } finally {
      if (!workers) await own.close();
    }
  }
  const mod = await loadStageModule(spec.uses, spec.root, catalog);
  checkScriptInputs(dataOf(spec), mod);
  const controller = new AbortController();
  const onAbort = () => controller.abort(spec.signal.reason);
  spec.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  let work: Promise<unknown> | undefined;
  try {
    work = Promise.resolve(mod.run(stageContext(dataOf(spec), controller.signal, spec.log)));
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new StageFailure(timedOut ? 'timeout' : 'interrupted', timedOut ? `timed out after ${spec.timeoutMs} ms` : 'interrupted')), { once: true });
    });
    if (spec.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('timeout'));
      }, spec.timeoutMs);
    }
    return await Promise.race([work, aborted]);
  } finally {
    clearTimeout(timer);
    spec.signal.removeEventListener('abort', onAbort);
    // A stopped stage is over only once its work settled (a built-in's last write), or the grace passed.
    if (controller.signal.aborted && work) await settledWithin(work, graceMs);
  }
}

function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    work.then(
      () => (clearTimeout(t), resolve()),
      () => (clearTimeout(t), resolve()),
    );
  });
}

/** The executor of uses-stages: a failure thrown by the stage becomes a result with its reason. */
export function inProcessExecutor(catalog: StageCatalog): Executor & { prepare(): void; close(): Promise<void> } {
  const workers = new ScriptWorkers();
  return {
    captures: false,
    prepare: () => workers.prepare(),
    close: () => workers.close(),
    async execute(x: Execution): Promise<ExecutionResult> {
      const { stage } = x;
      try {
        await runUsesStage(
          {
            stage: stage.name,
            uses: stage.uses!,
            with: stage.with,
            root: x.root,
            cwd: x.cwd,
            outs: stage.outs.map((o) => o.path),
            primaryOut: x.primaryOut,
            deps: stage.deps.map((d) => d.pattern),
            params: x.params,
            env: stage.env,
            pipeline: x.pipeline,
            signal: x.signal,
            timeoutMs: stage.timeoutMs,
            graceMs: x.graceMs,
            log: x.log,
          },
          catalog,
          workers,
        );
        return { ok: true };
      } catch (err) {
        const known = asStageFailure(err);
        if (known) return failed(known.reason, known.message);
        if (x.signal.aborted) return failed('interrupted', 'interrupted');
        const e = err as Error;
        return failed('exception', `${e?.message ?? String(err)}${e?.stack ? `\n${e.stack}` : ''}`);
      }
    },
  };
}
