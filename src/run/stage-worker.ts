// The worker thread a user's `uses:` script runs in (started by script-worker.ts). It waits for
// one stage, runs it with the same StageContext as in the runner's own thread (uses-stage.ts), and
// reports back in messages: log lines, then how the stage ended. Its signal is aborted when the
// runner says so; whether the script honours it or not, the runner ends this thread once the grace
// period has passed. Knows nothing about the scheduler.
import { parentPort } from 'node:worker_threads';
import { asStageFailure } from '../stage-api/index.js';
import { checkScriptInputs, loadStageModule, stageContext, type UsesData } from './uses-stage.js';

export type ToWorker = { type: 'run'; data: UsesData } | { type: 'abort' };

export type FromWorker =
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; reason?: string; name?: string; message: string; stack?: string };

const port = parentPort!;
const controller = new AbortController();
const post = (m: FromWorker) => port.postMessage(m);

async function run(data: UsesData): Promise<void> {
  try {
    const mod = await loadStageModule(data.uses, data.root);
    checkScriptInputs(data, mod);
    const value = await mod.run(stageContext(data, controller.signal, (level, message) => post({ type: 'log', level, message })));
    try {
      post({ type: 'done', value });
    } catch {
      // What the stage returned cannot cross threads (a function, a handle): it succeeded all the same.
      post({ type: 'done', value: undefined });
    }
  } catch (err) {
    const known = asStageFailure(err);
    const e = err as Error | undefined;
    post({ type: 'failed', reason: known?.reason, name: e?.name, message: known?.message ?? e?.message ?? String(err), stack: known ? undefined : e?.stack });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') controller.abort(new Error('interrupted'));
  else void run(m.data);
});
