// The trace JSON reader (stages/trace/trace-json.ts): on real parsed traces, on documents written
// by hand in every way JSON allows, and on random ones, it gives the records JSON.parse gives (-0
// and the last bit of every number included), whatever the size of the pieces it reads; anything
// the schema rejects it leaves to the general path, whose error names the file and the path.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { columnsOf, type TraceColumns } from '../../stages/trace/columns.js';
import { parseTraceFileTo } from '../../stages/trace/parse.js';
import { readTraceFile, readTraceJsonFast } from '../../stages/trace/trace-json.js';
import type { TraceDocument } from '../../stages/trace/record.js';
import { readValidatedJson, toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'evidence-trace-json-'));
const schema = join(toolSchemasDir(), 'trace.schema.json');
const fixtures = join(import.meta.dirname, '..', 'fixtures');
let n = 0;

function file(text: string): string {
  const f = join(dir, `t${n++}.json`);
  writeFileSync(f, text);
  return f;
}

/** Every record of a as of b, compared with Object.is (so -0 is not 0). */
function sameRecords(a: TraceColumns, b: TraceColumns): void {
  expect(a.length).toBe(b.length);
  expect(a.meta).toEqual(b.meta);
  const same = (x: unknown, y: unknown): boolean => {
    if (typeof x === 'number' && typeof y === 'number') return Object.is(x, y);
    if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => same(v, y[i]));
    if (x && typeof x === 'object') {
      const kx = Object.keys(x);
      const ky = Object.keys(y ?? {});
      return kx.length === ky.length && kx.every((k, i) => k === ky[i] && same((x as never)[k], (y as never)[k]));
    }
    return x === y;
  };
  for (let i = 0; i < a.length; i++) {
    if (!same(a.record(i), b.record(i))) expect(a.record(i)).toEqual(b.record(i));
    expect(a.lineOf(i)).toBe(b.lineOf(i));
  }
}

/** The reader on `text`, with pieces of every size given, against JSON.parse. */
function readsLikeJsonParse(text: string, pieces = [1, 2, 7, 64, 1 << 20]): void {
  const f = file(text);
  const expected = columnsOf(JSON.parse(readFileSync(f, 'utf8')) as TraceDocument);
  for (const piece of pieces) {
    const got = readTraceJsonFast(f, piece);
    expect(got, `piece ${piece}`).toBeDefined();
    sameRecords(got!, expected);
  }
}

const doc = (records: string, head = '"format":"evidence-trace/1","source":"s.log","prefixes":["P"]') =>
  `{${head},"records":[${records}],"stats":{"lines":9,"records":1,"ignored":0,"bytes":0}}`;

describe('reading trace JSON into columns', () => {
  it('reads what parse-trace writes from the real logs exactly as JSON.parse does', async () => {
    for (const log of ['real-runs/supervisor/trace_c.log', 'real-runs/supervisor/trace_py.log', 'real-pairs/per-phi-k-frac/ref_c.log', 'real-pairs/scattering-units/port_py.log']) {
      const out = join(dir, `t${n++}.json`);
      await parseTraceFileTo(join(fixtures, log), out);
      readsLikeJsonParse(readFileSync(out, 'utf8'), [3, 100, 1 << 20]);
    }
  });

  it('reads members in any order, with blanks, escapes, non-ASCII text and every number form', () => {
    readsLikeJsonParse(doc('{"kind":"vector","values":[ -0 , 1e400, -1E-400, 1.5e+3, 0.0000001, 123456789012345678901234567890, 5e-324, 1.7976931348623157e308, 0.1, 17.000000000000004 ],"key":"k","prefix":"P","line":1,"seq":0}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k\\u00e9\\n","kind":"record","fields":{"phi_tic":3,"F_latt":"NaN","név":"text \\"quoted\\"","x":-0}}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"parts","parts":[{"value":"x","label":"L"},{"label":"Å","value":2.5}]}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"matrix","values":[1,2,3,4],"shape":[2,2],"unit":"Å","dtype":"float32"}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"string","text":"MOSFLM"}'));
    readsLikeJsonParse(doc('', '"stats":{"lines":0,"records":0,"ignored":0,"bytes":0},"source":"s","prefixes":[],"format":"evidence-trace/1"').replace(',"stats":{"lines":9,"records":1,"ignored":0,"bytes":0}', ''));
    readsLikeJsonParse(`\n  ${doc('\n {"seq" : 0 ,\n "line":1, "prefix":"P","key":"k","kind":"number","values":[ "Infinity" ]}\n')}\n\n`);
  });

  it('keeps whole, as JSON.parse reads them, records whose body the columns do not hold', () => {
    // Two bodies; a repeated field; a field named like an index (objects list it first); __proto__.
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"vector","values":[1,2],"text":"raw"}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"record","fields":{"a":1,"a":2,"b":"x"}}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"record","fields":{"b":1,"2":3}}'));
    readsLikeJsonParse(doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"record","fields":{"__proto__":1,"b":"x"}}'));
    readsLikeJsonParse(doc('{"seq":0,"line":4000000000,"prefix":"P","key":"k","kind":"integer","values":[1.0]}'));
  });

  it('leaves to the general path, which names the file and the failing path, anything the schema rejects', () => {
    const bad = [
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"vectr","values":[1]}'),
      doc('{"seq":0,"line":0,"prefix":"P","key":"k","kind":"number","values":[1]}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1,2]}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":["nan"]}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"matrix","values":[1]}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"string","text":"x","unit":"m"}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1],"extra":1}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1]}', '"format":"evidence-trace/2","source":"s","prefixes":["P"]'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1]}', '"format":"evidence-trace/1","source":"s","prefixes":["P","P"]'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[01]}'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1]},'),
      doc('{"seq":0,"line":1,"prefix":"P","key":"k","kind":"number","values":[1]}').slice(0, -3),
      '\uFEFF' + doc(''),
    ];
    const missing = join(dir, 'missing.json');
    expect(readTraceJsonFast(missing)).toBeUndefined();
    expect(() => readTraceFile(missing)).toThrow(`${missing}: not valid JSON (ENOENT`);
    for (const text of bad) {
      const f = file(text);
      expect(readTraceJsonFast(f, 5), text).toBeUndefined();
      let expected = '';
      try {
        readValidatedJson(f, schema);
      } catch (err) {
        expected = (err as Error).message;
      }
      expect(expected).toContain(f);
      expect(() => readTraceFile(f)).toThrow(expected);
    }
  });

  it('agrees with JSON.parse and the schema on random documents and random corruptions of them', () => {
    const num = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.constantFrom(-0, 0.1, 1e21, 1e-7, 'NaN', 'Infinity', '-Infinity'),
    );
    const name = fc.stringMatching(/^[A-Za-z_é][A-Za-z0-9_]{0,6}$/);
    const record = fc.oneof(
      fc.record({ kind: fc.constant('vector'), values: fc.array(num, { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('number'), values: fc.tuple(num) }),
      fc.record({ kind: fc.constant('record'), fields: fc.dictionary(name, fc.oneof(num, fc.string({ maxLength: 4 })), { minKeys: 1, maxKeys: 4 }) }),
      fc.record({ kind: fc.constant('parts'), parts: fc.array(fc.record({ label: name, value: fc.oneof(num, fc.string({ maxLength: 3 })) }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('string'), text: fc.string({ maxLength: 6 }) }),
    );
    const records = fc.array(fc.tuple(fc.constantFrom('P', 'P_PHI', 'Q'), name, record), { maxLength: 12 });
    fc.assert(
      fc.property(records, fc.nat(), fc.constantFrom(1, 3, 50, 1 << 20), fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ' ', '"', ',', '}', '0', '-', 'e', '\\')), { maxLength: 2 }), (recs, space, piece, edits) => {
        const d = {
          format: 'evidence-trace/1',
          source: 's',
          prefixes: [...new Set(recs.map((r) => r[0]))],
          records: recs.map(([prefix, key, body], i) => ({ seq: i, line: i + 1, prefix, key: body.kind === 'record' ? prefix : key, ...body })),
          stats: { lines: recs.length, records: recs.length, ignored: 0, bytes: 0 },
        };
        let text = JSON.stringify(d, null, space % 3);
        for (const [at, s] of edits) {
          const p = at % (text.length + 1);
          text = text.slice(0, p) + s + text.slice(p + 1);
        }
        const f = file(text);
        let valid = false;
        let parsed: TraceDocument | undefined;
        try {
          parsed = JSON.parse(readFileSync(f, 'utf8')) as TraceDocument;
          valid = validateAgainst(schema, parsed).length === 0;
        } catch {
          valid = false;
        }
        const got = readTraceJsonFast(f, piece);
        if (!valid) expect(got).toBeUndefined();
        else if (got) sameRecords(got, columnsOf(parsed!));
        else expect(edits.length).toBeGreaterThan(0); // only a corrupted document may take the general path
      }),
      { numRuns: 300 },
    );
  });
});
