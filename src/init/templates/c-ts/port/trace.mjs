// trace.mjs: one traced value per line, in the form evidence's parse-trace stage reads:
//
//     TRACE_TS: key v1 v2 ...
//
// Numbers are printed as C's printf("%.15g") prints them, digit for digit (format.mjs), which is
// what reference/trace.h prints: the two programs agree on the format by construction, and only
// the numbers can differ.
//
//     trace('pix0_vector_meters', x, y, z);   numbers, bigints, booleans (1/0)
//     trace('rotation', matrix);              arrays and typed arrays, nested ones row-major
//     const log = makeTrace('TRACE_TS_PHI');  another label, e.g. for per-step records
//
// Written by `evidence init`; plain ES module JavaScript, so it runs on Node without a compiler
// and a TypeScript port imports it as it is (trace.d.mts holds its types).
import { formatNumber } from './format.mjs';

export const PREFIX = 'TRACE_TS';

function flatten(value, out) {
  if (typeof value === 'number') out.push(formatNumber(value));
  else if (typeof value === 'bigint') out.push(value.toString());
  else if (typeof value === 'boolean') out.push(value ? '1' : '0');
  else if (value !== null && typeof value === 'object' && typeof value.length === 'number') {
    for (let i = 0; i < value.length; i++) flatten(value[i], out);
  } else {
    throw new TypeError(`trace: cannot print ${value === null ? 'null' : typeof value} as numbers`);
  }
}

/** A trace function that labels its lines with `prefix` and hands each line to `write`. */
export function makeTrace(prefix = PREFIX, write = (line) => process.stdout.write(line)) {
  return (key, ...values) => {
    if (typeof key !== 'string' || !/^[^\s:]+$/.test(key)) throw new TypeError(`trace: a key is one word without blanks or ':', got ${JSON.stringify(key)}`);
    const parts = [];
    for (const v of values) flatten(v, parts);
    if (parts.length === 0) throw new TypeError(`trace: no values for '${key}'`);
    write(`${prefix}: ${key} ${parts.join(' ')}\n`);
  };
}

/** trace(key, ...values): prints `TRACE_TS: key v1 v2 ...` on stdout. */
export const trace = makeTrace();
