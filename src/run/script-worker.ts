// Runs a user's `uses:` script in a worker thread of its own, so that it can be stopped like a
// command: on Ctrl-C or at its timeout its signal is aborted, and once --grace has passed the
// thread is terminated, which ends JavaScript even in a synchronous loop. The thread is also ended
// when the stage is over (and awaited: ~9 ms), so that a timer the script left running cannot
// write into the next stage. Only then does the stage end: a run never ends while it still writes.
//
// Measured (2 cores, load average ~4, a script that writes one file, medians of 21): in the
// runner's own thread 0.4-1.5 ms; in a fresh worker 70-130 ms; in a child node process 170-270 ms
// (which is why a thread and not a process). A worker started ahead of need costs 11-16 ms (~3 ms
// to hand it the stage and run it, ~9 ms to end it). So one worker is booted ahead of need
// (`prepare`: from a run's first executed stage on, while script stages are still to come), and a
// script stage downstream of anything that ran pays the 11-16 ms, not the start; at most one
// spare per run is started for nothing (all scripts up to date), off the critical path.
//
// What a script cannot do in a worker that it could in the runner's thread: process.chdir (it
// throws) and process.exit (it ends only its thread, and the stage fails). Processes a script
// starts itself are its own to end; zx's `ctx.$` ends its own when the signal aborts. Knows nothing
// about the scheduler.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StageFailure } from '../stage-api/index.js';
import type { FromWorker, ToWorker } from './stage-worker.js';
import type { StageLog, UsesData } from './uses-stage.js';

export interface ScriptRun {
  data: UsesData;
  log: StageLog;
  /** Aborted on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  timeoutMs?: number;
  /** Between aborting the script's signal and ending its thread. */
  graceMs: number;
}

let entry: string | undefined;

/**
 * The compiled worker entry. The CLI is one bundled file in dist/src/cli/ and the tsc output sits
 * in dist/src/run/: '../run/' reaches it from both. Tests that import the TypeScript sources
 * (src/run/) use the build of dist/, which their global setup makes.
 */
function workerEntry(): string {
  if (entry) return entry;
  const candidates = [new URL('../run/stage-worker.js', import.meta.url), new URL('../../dist/src/run/stage-worker.js', import.meta.url)].map((u) => fileURLToPath(u));
  entry = candidates.find((c) => existsSync(c)) ?? candidates[0]!;
  return entry;
}

/** Workers that ended on their own before they were given a stage (an entry that failed to load). */
const ended = new WeakSet<Worker>();

function startWorker(): Worker {
  const w = new Worker(workerEntry());
  // An idle spare must not keep a finished run's process alive.
  w.unref();
  // Until a stage is handed to it, nobody else listens: a spare that died is replaced when used,
  // and the fresh one reports whatever killed it.
  w.on('error', () => undefined);
  w.once('exit', () => ended.add(w));
  return w;
}

/** The workers of one run: at most one started ahead of need; each stage's thread ends with it. */
export class ScriptWorkers {
  private spare: Worker | undefined;

  /** Starts a worker now, for a script stage that may come. */
  prepare(): void {
    this.spare ??= startWorker();
  }

  async run(r: ScriptRun): Promise<unknown> {
    const worker = this.spare && !ended.has(this.spare) ? this.spare : startWorker();
    this.spare = undefined;
    worker.ref();
    try {
      return await drive(worker, r);
    } finally {
      await worker.terminate();
    }
  }

  /** Ends the spare worker, if one is left. */
  async close(): Promise<void> {
    const w = this.spare;
    this.spare = undefined;
    if (w) await w.terminate();
  }
}

function drive(worker: Worker, r: ScriptRun): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    let stopTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(stopTimer);
      clearTimeout(timeoutTimer);
      r.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const stopped = () => new StageFailure(timedOut ? 'timeout' : 'interrupted', timedOut ? `timed out after ${r.timeoutMs} ms` : 'interrupted');
    // The script's signal aborts now; its thread ends after the grace period, however it behaves.
    const stop = () => {
      if (stopTimer) return;
      worker.postMessage({ type: 'abort' } satisfies ToWorker);
      stopTimer = setTimeout(() => finish(() => reject(stopped())), r.graceMs);
    };
    const onAbort = () => stop();
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'log') r.log(m.level, m.message);
      else if (stopTimer) finish(() => reject(stopped()));
      else if (m.type === 'done') finish(() => resolve(m.value));
      else finish(() => reject(rebuild(m)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(stopTimer ? stopped() : new StageFailure('exception', `the script's thread ended (exit code ${code}) before the stage finished: process.exit() in a script ends only its own thread`))));
    if (r.signal.aborted) stop();
    else r.signal.addEventListener('abort', onAbort, { once: true });
    if (r.timeoutMs) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        stop();
      }, r.timeoutMs);
    }
    worker.postMessage({ type: 'run', data: r.data } satisfies ToWorker);
  });
}

/** A failure as the stage threw it: its reason when it named one, else its message and stack. */
function rebuild(m: Extract<FromWorker, { type: 'failed' }>): Error {
  if (m.reason) return Object.assign(new Error(m.message), { reason: m.reason });
  const e = new Error(m.message);
  if (m.name) e.name = m.name;
  e.stack = m.stack;
  return e;
}
