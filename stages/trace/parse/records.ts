// In-memory records: a LineShape as a TraceRecord (for parseTraceText, parseTraceFile and the
// one-off command), and a TraceRecord as JSON in the streaming writer's form (so that tests can set
// the two paths side by side). Strings are decoded here; the byte writer never builds records, and
// this never sees files or output buffers.
import type { Num, TraceRecord } from '../record.js';
import * as numbers from './numbers.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { toNum } = numbers;
const { KIND_NAMES, K_INTEGER, K_MATRIX, K_NUMBER, K_PARTS, K_RECORD, K_STRING, K_VECTOR } = shape;

export function shapeToRecord(sh: LineShape, seq: number, line: number): TraceRecord {
  const rec: TraceRecord = { seq, line, prefix: sh.prefix, key: sh.key(), kind: KIND_NAMES[sh.kind] };
  switch (sh.kind) {
    case K_NUMBER:
    case K_INTEGER:
    case K_VECTOR:
    case K_MATRIX: {
      const values: Num[] = new Array(sh.n);
      for (let k = 0; k < sh.n; k++) values[k] = toNum(sh.raw(k), sh.flags[k]);
      rec.values = values;
      if (sh.kind === K_MATRIX) rec.shape = [sh.rows, sh.cols];
      if (sh.unitA >= 0) rec.unit = sh.unit();
      if (sh.dtype !== '') rec.dtype = sh.dtype;
      break;
    }
    case K_PARTS: {
      const parts: Array<{ label: string; value: Num | string }> = new Array(sh.n);
      for (let k = 0; k < sh.n; k++) {
        parts[k] = { label: sh.label(k), value: sh.flags[k] ? toNum(sh.raw(k), sh.flags[k]) : sh.raw(k) };
      }
      rec.parts = parts;
      break;
    }
    case K_RECORD:
      rec.fields = fieldsOf(sh);
      break;
    case K_STRING:
      rec.text = sh.text();
      break;
  }
  return rec;
}

/** A record shape's fields as the object JSON.parse would make of them (see FIELDS_* in shape.ts). */
export function fieldsOf(sh: LineShape): Record<string, Num | string> {
  const fields: Record<string, Num | string> = {};
  for (let k = 0; k < sh.n; k++) {
    const value = sh.flags[k] ? toNum(sh.raw(k), sh.flags[k]) : sh.raw(k);
    // Same result as JSON.parse for a field named __proto__: an own property.
    Object.defineProperty(fields, sh.label(k), { value, enumerable: true, writable: true, configurable: true });
  }
  return fields;
}

/** The members of a fields object as JSON, without the braces. */
export function fieldsJson(fields: Record<string, Num | string>): string {
  return Object.entries(fields)
    .map(([k, v]) => JSON.stringify(k) + ':' + numToJson(v))
    .join(',');
}

/** JSON of one record; keeps -0 (which JSON.stringify would print as 0). */
export function traceRecordJson(r: TraceRecord): string {
  let out = `{"seq":${r.seq},"line":${r.line},"prefix":${JSON.stringify(r.prefix)},"key":${JSON.stringify(r.key)},"kind":"${r.kind}"`;
  if (r.values) out += ',"values":[' + r.values.map(numToJson).join(',') + ']';
  if (r.shape) out += `,"shape":[${r.shape[0]},${r.shape[1]}]`;
  if (r.unit !== undefined) out += ',"unit":' + JSON.stringify(r.unit);
  if (r.dtype !== undefined) out += ',"dtype":' + JSON.stringify(r.dtype);
  if (r.parts) out += ',"parts":[' + r.parts.map((p) => `{"label":${JSON.stringify(p.label)},"value":${numToJson(p.value)}}`).join(',') + ']';
  if (r.fields) {
    out += ',"fields":{' + fieldsJson(r.fields) + '}';
  }
  if (r.text !== undefined) out += ',"text":' + JSON.stringify(r.text);
  return out + '}';
}

/** A stored number as JSON text, keeping the sign of zero (JSON.stringify drops it). */
export function numToJson(v: Num | string): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return Object.is(v, -0) ? '-0' : String(v);
}
