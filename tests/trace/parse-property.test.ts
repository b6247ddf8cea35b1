// Property tests of the trace parser: whatever the bytes, it terminates, never throws (except
// StageFailure for `require`), produces a document the schema accepts, reads back the numbers it
// was given, and streaming and in-memory parsing agree.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTraceFile, parseTraceFileColumns, parseTraceFileTo, parseTraceLines, parseTraceText, traceRecordJson } from '../../stages/trace/parse.js';
import { columnsOf } from '../../stages/trace/columns.js';
import type { TraceDocument } from '../../stages/trace/record.js';
import { StageFailure } from '../../src/stage-api/index.js';
import { compileSchemaFile, issuesOf } from '../../src/schema/validate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const validate = compileSchemaFile(join(root, 'schemas', 'trace.schema.json'));
const dir = mkdtempSync(join(tmpdir(), 'evidence-parse-prop-'));

function checkDocument(doc: TraceDocument): void {
  const ok = validate(doc);
  if (!ok) throw new Error(`schema: ${JSON.stringify(issuesOf(validate.errors).slice(0, 3))}`);
  expect(doc.stats.records).toBe(doc.records.length);
  expect(doc.stats.records + doc.stats.ignored).toBe(doc.stats.lines);
  doc.records.forEach((r, i) => {
    expect(r.seq).toBe(i);
    expect(r.line).toBeGreaterThanOrEqual(1);
    expect(r.line).toBeLessThanOrEqual(doc.stats.lines);
    if (i > 0) expect(r.line).toBeGreaterThan(doc.records[i - 1].line);
  });
}

// Fragments real logs are made of, so that random lines often look like trace lines.
const fragment = fc.oneof(
  fc.constantFrom('TRACE_C', 'TRACE_C_PHI', 'TRACE_PY', 'TRACE', 'TRACE_CONFIG', 'TRACE_', 'trace_c', '\uFEFF'),
  fc.constantFrom(':', ': ', ' ', '  ', '\t', '=', ' = ', ';', ',', '[', ']', '; ', ':', '\r', '\u0000', '"', '\\', '←', '\u00e9', '\uD83D\uDE00'),
  fc.constantFrom('nan', '-nan', 'inf', '-inf', 'Infinity', '-0', '+5', '.5', '5.', '007', '1e999', '1e-400', 'e5', 'N/A', 'None', 'NOT_EXTRACTED'),
  fc.double().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => d.toExponential(15)),
  fc.integer().map(String),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
  fc.string({ maxLength: 8 }),
);
const line = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(''));
const log = fc.array(line, { maxLength: 40 }).map((lines) => lines.join('\n'));

describe('parser properties', () => {
  it('never throws on lines assembled from trace fragments, and the schema accepts the result', () => {
    fc.assert(
      fc.property(log, fc.option(fc.constantFrom('TRACE_C', 'TRACE', 'TRACE_C_PHI')), (text, prefix) => {
        checkDocument(parseTraceText(text, prefix ? { prefix } : {}));
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on arbitrary strings, line by line or as one text', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { maxLength: 20 }), (lines) => {
        checkDocument(parseTraceLines(lines));
        checkDocument(parseTraceText(lines.join('\n')));
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but StageFailure when keys are required', () => {
    fc.assert(
      fc.property(log, fc.array(fc.constantFrom('F_latt', 'k_frac', 'TRACE_C_PHI', 'x', ''), { maxLength: 3 }), (text, require) => {
        try {
          checkDocument(parseTraceText(text, { require }));
        } catch (err) {
          expect(err).toBeInstanceOf(StageFailure);
          expect((err as StageFailure).reason).toBe('require');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads back every double it is given, in C, Python and %.15e spellings, -0 included', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (d) => {
        const text = [`TRACE_C: x ${Object.is(d, -0) ? '-0' : String(d)}`, `TRACE_C: y ${d.toExponential(15)} ${d.toPrecision(17)}`, `TRACE_C:m=[${d} ${d}; ${d} ${d}]`].join('\n');
        const doc = parseTraceText(text);
        const want = Number.isFinite(d) ? d : d > 0 ? 'Infinity' : '-Infinity';
        expect(Object.is(doc.records[0].values![0], want)).toBe(true);
        // %.15e and %.17g round: they give back the double %.17g names
        const rounded = Number(d.toPrecision(17));
        const want17 = Number.isFinite(d) ? rounded : want;
        expect(Object.is(doc.records[1].values![1], want17)).toBe(true);
        expect(doc.records[2].values).toHaveLength(4);
      }),
      { numRuns: 500 },
    );
  });

  it('streams the same document it builds in memory, from arbitrary bytes', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), log.map((t) => new Uint8Array(Buffer.from(t)))), async (bytes) => {
        const file = join(dir, `in-${run}.log`);
        const out = join(dir, `out-${run++}.json`);
        writeFileSync(file, bytes);
        const memory = await parseTraceFile(file);
        checkDocument(memory);
        await parseTraceFileTo(file, out);
        const streamed = JSON.parse(readFileSync(out, 'utf8')) as TraceDocument;
        expect(streamed.stats).toEqual(memory.stats);
        expect(streamed.prefixes).toEqual(memory.prefixes);
        expect(streamed.records.map(traceRecordJson)).toEqual(memory.records.map(traceRecordJson));
        // the file parser and the text parser agree on valid UTF-8
        const text = Buffer.from(bytes).toString('utf8');
        if (Buffer.from(text, 'utf8').equals(Buffer.from(bytes))) {
          expect(parseTraceText(text, { source: file }).records.map(traceRecordJson)).toEqual(memory.records.map(traceRecordJson));
        }
      }),
      { numRuns: 150 },
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes text byte for byte as JSON.stringify of the decoded text, whatever bytes it holds', async () => {
    // Lines of text with UTF-8 sequences, well-formed or not (lone continuation bytes, overlong
    // forms, encoded surrogates, cut sequences), escapes and control characters; and fields named
    // twice or like an index, which an object merges or moves first.
    const piece = fc.oneof(
      fc.constantFrom('a', ' ', 'x=1', ' x=2', ' 3=1', '←', 'é', 'Å', '\uD83D\uDE00', '"', '\\', '\t', '\u007f'),
      fc.constantFrom([0x80], [0xc0, 0xaf], [0xc2], [0xe2, 0x86], [0xed, 0xa0, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xe0, 0x80, 0xaf], [0xf0, 0x9f, 0x98]).map((b) => Buffer.from(b).toString('latin1')),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(piece, { maxLength: 8 }), { minLength: 1, maxLength: 6 }), async (lines) => {
        const bytes = Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from('TRACE_C:convention='), ...l.map((s) => (/^[\x00-\x7f]*$/.test(s) ? Buffer.from(s) : Buffer.from(s, /[\u0080-\u00ff]/.test(s) && !/[^\x00-\xff]/.test(s) ? 'latin1' : 'utf8'))), Buffer.from('\n')])));
        const file = join(dir, `utf8-${run}.log`);
        const out = join(dir, `utf8-${run++}.json`);
        writeFileSync(file, bytes);
        const memory = await parseTraceFile(file);
        await parseTraceFileTo(file, out);
        const text = readFileSync(out);
        const start = text.indexOf('"records":[\n') + '"records":[\n'.length;
        const end = text.lastIndexOf('\n],"prefixes"');
        expect(text.subarray(start, end).equals(Buffer.from(memory.records.map(traceRecordJson).join(',\n')))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('parses a log into the columns of the document it builds in memory', async () => {
    let run = 0;
    const same = (x: unknown, y: unknown): boolean => JSON.stringify(x, (_, v) => (Object.is(v, -0) ? '-0' : v)) === JSON.stringify(y, (_, v) => (Object.is(v, -0) ? '-0' : v));
    await fc.assert(
      fc.asyncProperty(fc.oneof(log, fc.array(printoutLine, { maxLength: 10 }).map((l) => l.join('\n')), fc.constant('TRACE_C P a=1 a=2 3=4\nTRACE_C Q b=1 __proto__=2')), async (text) => {
        const file = join(dir, `columns-${run++}.log`);
        writeFileSync(file, text);
        const memory = columnsOf(await parseTraceFile(file));
        const direct = await parseTraceFileColumns(file);
        expect(direct.length).toBe(memory.length);
        expect(direct.meta).toEqual(memory.meta);
        for (let i = 0; i < direct.length; i++) expect(same(direct.record(i), memory.record(i)), JSON.stringify(memory.record(i))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  // PyTorch/NumPy printouts and units (stages/trace/parse/printouts.ts): pieces of them, shuffled.
  const printoutFragment = fc.oneof(
    fragment,
    fc.constantFrom('tensor(', 'array(', 'np.float64(', 'np.', 'torch.tensor(', '(', ')', '[[', ']]', '[', ']', ', ', ','),
    fc.constantFrom('dtype=torch.float64', 'dtype=float32', ", device='cuda:0'", ', grad_fn=<MulBackward0>', 'dtype=', '=', 'requires_grad=True'),
    fc.constantFrom(' Å', ' Å^-3', ' keV', ' mm', ' photons/m^2', ' %', ' °', ' m', 'Å', '^', '^-', '/', ' 1e-06', ' 1.', ' nan', ' -inf', '1.0000'),
  );
  const printoutLine = fc
    .tuple(fc.constantFrom('TRACE_PY: k ', 'TRACE_PY:k=', 'TRACE_PY: ', 'TRACE_PY ', 'TRACE_C: k '), fc.array(printoutFragment, { maxLength: 14 }))
    .map(([head, parts]) => head + parts.join(''));

  it('never throws or disagrees with the stream on random tensor, array and unit lines', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(printoutLine, { maxLength: 20 }), async (lines) => {
        const text = lines.join('\n');
        const memory = parseTraceText(text, { source: 'x' });
        checkDocument(memory);
        const file = join(dir, `printout-${run}.log`);
        const out = join(dir, `printout-${run++}.json`);
        writeFileSync(file, text);
        await parseTraceFileTo(file, out);
        const streamed = JSON.parse(readFileSync(out, 'utf8')) as TraceDocument;
        expect(streamed.records.map(traceRecordJson)).toEqual(memory.records.map(traceRecordJson));
      }),
      { numRuns: 300 },
    );
  });

  it('terminates on pathological printouts: deep brackets, long keyword lists, long units', () => {
    const texts = [
      'TRACE_PY: x tensor(' + '['.repeat(100_000),
      'TRACE_PY: x tensor([' + '1., '.repeat(100_000) + '])',
      'TRACE_PY: x array([' + '[1, 2], '.repeat(50_000) + '])',
      'TRACE_PY: x tensor(1, ' + 'dtype=float32, '.repeat(50_000) + ')',
      'TRACE_PY: x 1' + ',1'.repeat(200_000),
      'TRACE_PY: x 1 ' + 'Å'.repeat(100_000),
      'TRACE_PY: x 1 ' + 'm/'.repeat(100_000) + 'm',
    ];
    for (const text of texts) checkDocument(parseTraceText(text));
  });

  it('terminates on pathological lines: long runs of one byte, deep brackets, many tokens', () => {
    const texts = [
      'TRACE_C: x ' + '['.repeat(100_000),
      'TRACE_C: x ' + '1 '.repeat(200_000),
      'TRACE_C:' + '='.repeat(100_000),
      'TRACE_C ' + 'a=1 '.repeat(100_000),
      'TRACE_C: x ' + '1;'.repeat(100_000),
      'TRACE_C: ' + ':'.repeat(100_000),
      '\u0000'.repeat(300_000),
      'TRACE_C: x ' + '9'.repeat(400_000),
    ];
    for (const text of texts) checkDocument(parseTraceText(text));
  });
});
