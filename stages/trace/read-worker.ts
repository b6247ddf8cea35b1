// Reads one trace JSON file into columns in a worker thread (trace-pair.ts starts it), so that the
// two traces of a comparison are read at once on two cores. Posts the columns, their arrays
// transferred rather than copied, or `null` when the file needs the general path, which the main
// thread then takes itself (its errors are the ones to report).
import { parentPort, workerData } from 'node:worker_threads';
import { readTraceJsonFast } from './trace-json.js';

const file = (workerData as { file: string }).file;
let cols;
try {
  cols = readTraceJsonFast(file);
} catch {
  cols = undefined;
}
if (!cols) parentPort!.postMessage(null);
else {
  const { meta, length, strings, prefix, key, kind, line, flags, start, num, text, extra, odd } = cols;
  const arrays = [prefix, key, kind, line, flags, start, num];
  parentPort!.postMessage({ meta, length, strings, arrays, text, extra, odd }, arrays.map((a) => a.buffer as ArrayBuffer));
}
