// Tests of the parser's one-pass readings (stages/trace/parse.ts reads the common line shapes,
// `P: key n n n`, `P:key=n n n`, bracketed values and `P k=v ...` records, in one pass and falls
// back to its general reader for anything else): lines at the edges of those shapes read exactly
// as before, in memory and as streamed bytes (the expectations were taken from the parser before
// it had those readings), and the streaming writer's caches and buffers keep the output the same
// at their limits (a head table full of keys, a prefix that needs escaping, records that outgrow
// the output buffer).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceFile, parseTraceFileTo, parseTraceText, traceRecordJson, type ParseTraceOptions } from '../../stages/trace/parse.js';
import type { TraceRecord } from '../../stages/trace/record.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'evidence-parse-shapes-'));
}

/** The record lines of a streamed document (one per line, the separating comma cut). */
function streamedRecords(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"seq"'))
    .map((l) => (l.endsWith(',') ? l.slice(0, -1) : l));
}

// The record each line gave the parser before it read any shape in one pass: in memory (without
// seq and line) and as the bytes it streamed (numbers that are valid JSON are copied verbatim).
const cases: Array<{ line: string; want: Omit<TraceRecord, 'seq' | 'line'> | undefined; streamed: string }> = [
  {
    line: 'TRACE_C: k 1 -2 3.5',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, -2, 3.5] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,-2,3.5]}',
  },
  {
    line: 'TRACE_C: k -0 1e5 1E+05 -1.5e-07',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [-0, 100000, 100000, -1.5e-7] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[-0,1e5,1E+05,-1.5e-07]}',
  },
  {
    line: 'TRACE_C:k=1 2 3',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C:k= 1 2',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,2]}',
  },
  {
    line: 'TRACE_C:k=',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: '' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":""}',
  },
  {
    line: 'TRACE_C:=1',
    want: { prefix: 'TRACE_C', key: '=1', kind: 'string', text: '' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"=1","kind":"string","text":""}',
  },
  {
    line: 'TRACE_C: k',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: '' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":""}',
  },
  {
    line: 'TRACE_C:\u0009k\u00091\u000d',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C: k 1 2 3\u000d',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C: k 1\u000d2',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,2]}',
  },
  {
    line: 'TRACE_C: k 1, 2, 3',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C: k 1,',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: '1,' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":"1,"}',
  },
  {
    line: 'TRACE_C: k 1 x',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: '1 x' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":"1 x"}',
  },
  {
    line: 'TRACE_C: k x 1',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: 'x 1' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":"x 1"}',
  },
  {
    line: 'TRACE_C: k nan -nan inf -inf Infinity -INFINITY NaN',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: ['NaN', 'NaN', 'Infinity', '-Infinity', 'Infinity', '-Infinity', 'NaN'] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":["NaN","NaN","Infinity","-Infinity","Infinity","-Infinity","NaN"]}',
  },
  {
    line: 'TRACE_C: k infinit nanx',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: 'infinit nanx' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":"infinit nanx"}',
  },
  {
    line: 'TRACE_C: k +5 .5 5. 007 -00 0.0',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [5, 0.5, 5, 7, -0, 0] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[5,0.5,5,7,-0,0.0]}',
  },
  {
    line: 'TRACE_C: k 1e999 -1e999 1e-400 1e100 1e10',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: ['Infinity', '-Infinity', 0, 1e+100, 10000000000] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":["Infinity","-Infinity",0,1e+100,1e10]}',
  },
  {
    line: 'TRACE_C: k 1e 1e+ 1e5x 1x - + . -. 0x1f',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'string', text: '1e 1e+ 1e5x 1x - + . -. 0x1f' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"string","text":"1e 1e+ 1e5x 1x - + . -. 0x1f"}',
  },
  {
    line: 'TRACE_C: k 12345678901234567890123456789012 123456789012345678901234567890123',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'vector', values: [1.2345678901234567e+31, 1.2345678901234569e+32] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"vector","values":[12345678901234567890123456789012,1.2345678901234569e+32]}',
  },
  {
    line: 'TRACE_C: k 1.0000000000000000000000000000000',
    want: { prefix: 'TRACE_C', key: 'k', kind: 'number', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k","kind":"number","values":[1]}',
  },
  {
    line: 'TRACE_C: nan 1 2',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'vector', values: ['NaN', 1, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"vector","values":["NaN",1,2]}',
  },
  {
    line: 'TRACE_C: inf',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'number', values: ['Infinity'] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"number","values":["Infinity"]}',
  },
  {
    line: 'TRACE_C: 1 2 3',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C: -5',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'integer', values: [-5] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"integer","values":[-5]}',
  },
  {
    line: 'TRACE_C: [0,0,0]=181.3',
    want: { prefix: 'TRACE_C', key: '[0,0,0]', kind: 'number', values: [181.3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"[0,0,0]","kind":"number","values":[181.3]}',
  },
  {
    line: 'TRACE_C: Omega (solid angle) = 4.2e-07',
    want: { prefix: 'TRACE_C', key: 'Omega (solid angle)', kind: 'number', values: [4.2e-7] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"Omega (solid angle)","kind":"number","values":[4.2e-07]}',
  },
  {
    line: 'TRACE_C: a = 1 2',
    want: { prefix: 'TRACE_C', key: 'a', kind: 'vector', values: [1, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a","kind":"vector","values":[1,2]}',
  },
  { line: 'TRACE_C: Heading:', want: undefined, streamed: '' },
  {
    line: 'TRACE_C: k 1 =',
    want: { prefix: 'TRACE_C', key: 'k 1', kind: 'string', text: '' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"k 1","kind":"string","text":""}',
  },
  {
    line: 'TRACE_C:a=b=c',
    want: { prefix: 'TRACE_C', key: 'a', kind: 'string', text: 'b=c' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a","kind":"string","text":"b=c"}',
  },
  {
    line: 'TRACE_C:a=1=2',
    want: { prefix: 'TRACE_C', key: 'a', kind: 'string', text: '1=2' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a","kind":"string","text":"1=2"}',
  },
  {
    line: 'TRACE_C: a=1',
    want: { prefix: 'TRACE_C', key: 'a', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C: a=1 b=2',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'record', fields: { a: 1, b: 2 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"record","fields":{"a":1,"b":2}}',
  },
  {
    line: 'TRACE_C:a=1 b=2',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'record', fields: { a: 1, b: 2 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"record","fields":{"a":1,"b":2}}',
  },
  {
    line: 'TRACE_C: caf\u00e9 1',
    want: { prefix: 'TRACE_C', key: 'caf\u00e9', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"caf\u00e9","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C: a"b 1',
    want: { prefix: 'TRACE_C', key: 'a"b', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a\\"b","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C: a\\b 1',
    want: { prefix: 'TRACE_C', key: 'a\\b', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"a\\\\b","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C: \u0001 1',
    want: { prefix: 'TRACE_C', key: '\u0001', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"\\u0001","kind":"integer","values":[1]}',
  },
  {
    line: '\ufeffTRACE_C: bom 1',
    want: { prefix: 'TRACE_C', key: 'bom', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"bom","kind":"integer","values":[1]}',
  },
  {
    line: '  TRACE_C: lead 1',
    want: { prefix: 'TRACE_C', key: 'lead', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"lead","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C:m=[1 2; 3 4]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'matrix', values: [1, 2, 3, 4], shape: [2, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"matrix","values":[1,2,3,4],"shape":[2,2]}',
  },
  {
    line: 'TRACE_C:m=[1 2; 3 4]  ',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'matrix', values: [1, 2, 3, 4], shape: [2, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"matrix","values":[1,2,3,4],"shape":[2,2]}',
  },
  {
    line: 'TRACE_C:m= [1 2;3 4]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'matrix', values: [1, 2, 3, 4], shape: [2, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"matrix","values":[1,2,3,4],"shape":[2,2]}',
  },
  {
    line: 'TRACE_C: m [1, 2, 3]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C: m (1, 2, 3)',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C: m (1; 2)',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'matrix', values: [1, 2], shape: [2, 1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"matrix","values":[1,2],"shape":[2,1]}',
  },
  {
    line: 'TRACE_C: m [1 2; 3]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[1 2; 3]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[1 2; 3]"}',
  },
  {
    line: 'TRACE_C: m [1 2;]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[1 2;]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[1 2;]"}',
  },
  {
    line: 'TRACE_C: m []',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[]"}',
  },
  {
    line: 'TRACE_C: m [',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"["}',
  },
  {
    line: 'TRACE_C: m [1 2) ',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[1 2)' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[1 2)"}',
  },
  {
    line: 'TRACE_C: m [1 x]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[1 x]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[1 x]"}',
  },
  {
    line: 'TRACE_C: m [nan, -inf; +1, .5]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'matrix', values: ['NaN', '-Infinity', 1, 0.5], shape: [2, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"matrix","values":["NaN","-Infinity",1,0.5],"shape":[2,2]}',
  },
  {
    line: 'TRACE_C: m [1 2] 3',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[1 2] 3' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[1 2] 3"}',
  },
  {
    line: 'TRACE_C: m [1 2] |a| = 3',
    want: { prefix: 'TRACE_C', key: 'm [1 2] |a|', kind: 'integer', values: [3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m [1 2] |a|","kind":"integer","values":[3]}',
  },
  {
    line: 'TRACE_C: m [[1 2]]',
    want: { prefix: 'TRACE_C', key: 'm', kind: 'string', text: '[[1 2]]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"m","kind":"string","text":"[[1 2]]"}',
  },
  {
    line: 'TRACE_C:[1 2 3]',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'vector', values: [1, 2, 3] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"vector","values":[1,2,3]}',
  },
  {
    line: 'TRACE_C:R=[1 x=2]',
    want: { prefix: 'TRACE_C', key: 'TRACE_C', kind: 'record', fields: { R: '[1', x: '2]' } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"TRACE_C","kind":"record","fields":{"R":"[1","x":"2]"}}',
  },
  {
    line: 'TRACE_C:beam=X:1 Y:-2e-3 pixel_mm:0.1',
    want: { prefix: 'TRACE_C', key: 'beam', kind: 'parts', parts: [{ label: 'X', value: 1 }, { label: 'Y', value: -0.002 }, { label: 'pixel_mm', value: 0.1 }] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"beam","kind":"parts","parts":[{"label":"X","value":1},{"label":"Y","value":-2e-3},{"label":"pixel_mm","value":0.1}]}',
  },
  {
    line: 'TRACE_C: beam X:1 Y:abc',
    want: { prefix: 'TRACE_C', key: 'beam', kind: 'parts', parts: [{ label: 'X', value: 1 }, { label: 'Y', value: 'abc' }] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"beam","kind":"parts","parts":[{"label":"X","value":1},{"label":"Y","value":"abc"}]}',
  },
  {
    line: 'TRACE_C: beam X: Y:1',
    want: { prefix: 'TRACE_C', key: 'beam', kind: 'string', text: 'X: Y:1' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"beam","kind":"string","text":"X: Y:1"}',
  },
  {
    line: 'TRACE_C:conv=MOSFLM',
    want: { prefix: 'TRACE_C', key: 'conv', kind: 'string', text: 'MOSFLM' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"conv","kind":"string","text":"MOSFLM"}',
  },
  {
    line: 'TRACE_C:conv=Fbeam\u2190Ybeam_mm(+0.5px),beam_vec=[1 0 0]',
    want: { prefix: 'TRACE_C', key: 'conv', kind: 'string', text: 'Fbeam\u2190Ybeam_mm(+0.5px),beam_vec=[1 0 0]' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C","key":"conv","kind":"string","text":"Fbeam\u2190Ybeam_mm(+0.5px),beam_vec=[1 0 0]"}',
  },
  {
    line: 'TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=-inf F_latt_b=1 F_latt=1',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { phi_tic: 0, phi_deg: 0, k_frac: '-Infinity', F_latt_b: 1, F_latt: 1 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"phi_tic":0,"phi_deg":0,"k_frac":"-Infinity","F_latt_b":1,"F_latt":1}}',
  },
  {
    line: 'TRACE_C_PHI k=NOT_EXTRACTED x= y=1e5 z=a=b w=1=2',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { k: 'NOT_EXTRACTED', x: '', y: 100000, z: 'a=b', w: '1=2' } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"k":"NOT_EXTRACTED","x":"","y":1e5,"z":"a=b","w":"1=2"}}',
  },
  {
    line: 'TRACE_C_PHI __proto__=2 k=1',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { ['__proto__']: 2, k: 1 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"__proto__":2,"k":1}}',
  },
  {
    line: 'TRACE_C_PHI k=1 k=2',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { k: 2 } },
    // Written as the object it is read back as: a repeated name once (it used to be written twice).
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"k":2}}',
  },
  {
    line: 'TRACE_C_PHI =1',
    want: { prefix: 'TRACE_C_PHI', key: '=1', kind: 'string', text: '' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"=1","kind":"string","text":""}',
  },
  {
    line: 'TRACE_C_PHI k=1 x',
    want: { prefix: 'TRACE_C_PHI', key: 'k', kind: 'string', text: '1 x' },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"k","kind":"string","text":"1 x"}',
  },
  {
    line: 'TRACE_C_PHI k=1\u0009j=-0\u000d',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { k: 1, j: -0 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"k":1,"j":-0}}',
  },
  {
    line: 'TRACE_C_PHI caf\u00e9=1 "q"=2',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { 'caf\u00e9': 1, '"q"': 2 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"caf\u00e9":1,"\\"q\\"":2}}',
  },
  { line: 'TRACE_C_PHI', want: undefined, streamed: '' },
  { line: 'TRACE_C_PHI:', want: undefined, streamed: '' },
  {
    line: 'TRACE_C_PHI: k=1',
    want: { prefix: 'TRACE_C_PHI', key: 'k', kind: 'integer', values: [1] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"k","kind":"integer","values":[1]}',
  },
  {
    line: 'TRACE_C_PHI: k=1 j=2',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { k: 1, j: 2 } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"k":1,"j":2}}',
  },
  {
    line: 'TRACE_C_PHI k=[1 2]',
    want: { prefix: 'TRACE_C_PHI', key: 'k', kind: 'vector', values: [1, 2] },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"k","kind":"vector","values":[1,2]}',
  },
  {
    line: 'TRACE_C_PHI k=1,',
    want: { prefix: 'TRACE_C_PHI', key: 'TRACE_C_PHI', kind: 'record', fields: { k: '1,' } },
    streamed: '{"seq":0,"line":1,"prefix":"TRACE_C_PHI","key":"TRACE_C_PHI","kind":"record","fields":{"k":"1,"}}',
  },
];

describe('lines at the edges of the one-pass shapes', () => {
  const dir = tempDir();
  cases.forEach((c, i) => {
    it(`reads ${JSON.stringify(c.line)} as the general reader did`, async () => {
      const doc = parseTraceText(c.line + '\n');
      if (c.want === undefined) expect(doc.records).toEqual([]);
      else {
        expect(doc.records).toHaveLength(1);
        const { seq: _seq, line: _line, ...rest } = doc.records[0];
        expect(rest).toStrictEqual(c.want);
      }
      const log = join(dir, `case-${i}.log`);
      writeFileSync(log, c.line + '\n');
      await parseTraceFileTo(log, join(dir, `case-${i}.json`));
      expect(streamedRecords(join(dir, `case-${i}.json`)).join('\n')).toBe(c.streamed);
    });
  });
});

describe('the streaming writer past its caches and buffers', () => {
  async function expectStreamedAsInMemory(log: string, opts: ParseTraceOptions = {}): Promise<void> {
    const out = log.replace(/\.log$/, '.json');
    await parseTraceFileTo(log, out, opts);
    const memory = await parseTraceFile(log, opts);
    const streamed = streamedRecords(out).map((l) => traceRecordJson(JSON.parse(l) as TraceRecord));
    expect(streamed.length).toBe(memory.records.length);
    let mismatches = 0;
    for (let i = 0; i < streamed.length && mismatches < 3; i++) {
      if (streamed[i] !== traceRecordJson(memory.records[i])) {
        mismatches++;
        expect(streamed[i]).toBe(traceRecordJson(memory.records[i]));
      }
    }
    expect(JSON.parse(readFileSync(out, 'utf8')).stats).toEqual(memory.stats);
  }

  it('writes the same records when there are more distinct keys than its head table holds', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 5000; k++) lines.push(`TRACE_C: key_${k} ${k} -${k}.5e-3`, `TRACE_PY:key_${k}=${k}`);
    }
    writeFileSync(join(dir, 'keys.log'), lines.join('\n') + '\n');
    await expectStreamedAsInMemory(join(dir, 'keys.log'));
  });

  it('writes the same records for a long prefix that needs escaping, as key and as prefix', async () => {
    const dir = tempDir();
    const prefix = 'P' + '\u0001"\\'.repeat(30);
    const lines = [`${prefix} a=1 b=2`, `${prefix}: 1 2 3`, `${prefix}: k 1`, `${prefix}:k=x`, `${prefix}: k [1 2; 3 4]`];
    writeFileSync(join(dir, 'prefix.log'), lines.join('\n') + '\n');
    await expectStreamedAsInMemory(join(dir, 'prefix.log'), { prefix });
  });

  it('writes the same records around text that outgrows the output buffer', async () => {
    const dir = tempDir();
    const numbers = Array.from({ length: 60_000 }, (_, k) => `TRACE_C: pix0_vector_meters ${k} -0.${k} ${k}e-7`).join('\n');
    // Control bytes are escaped six-fold: ten 400 kB lines of them in a row put 2.4 MB of JSON
    // each into the output buffer, and any read of 2 MiB holds four, more than its 8 MiB.
    const text = Array.from({ length: 10 }, (_, k) => `TRACE_C:note_${k}=${'\u0001'.repeat(400_000)}`).join('\n');
    writeFileSync(join(dir, 'big.log'), [numbers, text, numbers].join('\n') + '\n');
    await expectStreamedAsInMemory(join(dir, 'big.log'));
  }, 60_000);
});
