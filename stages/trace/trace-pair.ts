// The two traces of a comparison, read at once: the reference in a worker thread
// (read-worker.ts), the port on this one. Reading is most of a large comparison's time (a
// million-record trace JSON takes ~0.4 s), and a machine with two cores does both in the time of
// one. Whenever the worker cannot help (no compiled worker module, as when tests run the sources;
// a file for the general path; any failure) this thread reads that file itself, so results and
// errors are those of readTraceFile.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TraceColumns } from './columns.js';
import { readTraceFile } from './trace-json.js';

const WORKER = new URL('./read-worker.js', import.meta.url);

/** Below this size a file is read here: a worker costs ~30 ms to start. */
const WORTH_A_WORKER = 8 << 20;

function inWorker(file: string): Promise<TraceColumns | undefined> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(WORKER, { workerData: { file } });
    } catch {
      resolve(undefined);
      return;
    }
    worker.once('message', (m: WorkerColumns | null) => resolve(m ? columnsFrom(m) : undefined));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
}

interface WorkerColumns {
  meta: TraceColumns['meta'];
  length: number;
  strings: string[];
  arrays: [Int32Array, Int32Array, Uint8Array, Int32Array, Uint8Array, Int32Array, Float64Array];
  text: TraceColumns['text'];
  extra: TraceColumns['extra'];
  odd: TraceColumns['odd'];
}

function columnsFrom(m: WorkerColumns): TraceColumns {
  const [prefix, key, kind, line, flags, start, num] = m.arrays;
  return new TraceColumns(m.meta, m.length, m.strings, prefix, key, kind, line, flags, start, num, m.text, m.extra, m.odd);
}

/** Both trace JSON files as columns (see the module header); a bad reference is reported before a bad port. */
export async function readTracePair(reference: string, port: string): Promise<[TraceColumns, TraceColumns]> {
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  if (size(reference) < WORTH_A_WORKER || size(port) < WORTH_A_WORKER || !existsSync(fileURLToPath(WORKER))) {
    return [readTraceFile(reference), readTraceFile(port)];
  }
  const pending = inWorker(reference);
  let p: TraceColumns | undefined;
  let failed: unknown;
  try {
    p = readTraceFile(port);
  } catch (err) {
    failed = err;
  }
  const r = (await pending) ?? readTraceFile(reference);
  if (failed !== undefined) throw failed;
  return [r, p!];
}
