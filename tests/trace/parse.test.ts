// Table-driven tests of the trace parser on lines copied from real logs (tests/fixtures), the
// prefix rules, numbers C and Python print, `require`, streaming against in-memory parsing, the
// trace schema, the parse-trace stage and the one-off `evidence parse` command.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, openSync, writeSync, closeSync, createReadStream, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import {
  MAX_LINE,
  parseTraceFile,
  parseTraceFileColumns,
  parseTraceFileTo,
  parseTraceFileToSink,
  parseTraceLines,
  parseTraceText,
  traceRecordJson,
  type ParseTraceOptions,
} from '../../stages/trace/parse.js';
import { parseCommand } from '../../stages/trace/parse-command.js';
import type { TraceDocument, TraceRecord } from '../../stages/trace/record.js';
import { numValue } from '../../stages/trace/record.js';
import parseTraceStage from '../../stages/parse-trace.js';
import { StageFailure, type StageContext } from '../../src/stage-api/index.js';
import { compileSchemaFile, compileSchemaObject, issuesOf } from '../../src/schema/validate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'tests', 'fixtures');
const traceSchema = join(root, 'schemas', 'trace.schema.json');

/** The one record a single line gives, without the positional fields. */
function one(line: string, opts: ParseTraceOptions = {}): Omit<TraceRecord, 'seq' | 'line'> | undefined {
  const doc = parseTraceText(line + '\n', opts);
  expect(doc.records.length).toBeLessThanOrEqual(1);
  if (!doc.records.length) return undefined;
  const { seq: _seq, line: _line, ...rest } = doc.records[0];
  return rest;
}

function validateTrace(doc: unknown) {
  const validate = compileSchemaFile(traceSchema);
  return validate(doc) ? [] : issuesOf(validate.errors);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'evidence-parse-test-'));
}

function logFiles(): string[] {
  const out: string[] = [];
  for (const group of ['nanobragg', 'real-pairs']) {
    for (const dir of readdirSync(join(fixtures, group)).sort()) {
      const full = join(fixtures, group, dir);
      if (!statSync(full).isDirectory()) continue;
      for (const f of readdirSync(full).sort()) if (f.endsWith('.log')) out.push(join(full, f));
    }
  }
  return out;
}

describe('one line of each format found in real logs', () => {
  const C = { prefix: ['TRACE_C', 'TRACE_C_PHI'] };
  const PY = { prefix: ['TRACE_PY', 'TRACE_PY_PHI', 'TRACE_PY_TRICUBIC', 'TRACE_PY_TRICUBIC_H_COORDS'] };
  const cases: Array<{ what: string; line: string; opts?: ParseTraceOptions; want: Omit<TraceRecord, 'seq' | 'line'> | undefined }> = [
    {
      what: 'C set-up vector (key=a b c)',
      line: 'TRACE_C:fdet_after_rotz=0 0 1',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'fdet_after_rotz', kind: 'vector', values: [0, 0, 1] },
    },
    {
      what: 'C set-up string',
      line: 'TRACE_C:detector_convention=MOSFLM',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'detector_convention', kind: 'string', text: 'MOSFLM' },
    },
    {
      what: 'C labelled parts',
      line: 'TRACE_C:angles_rad=rotx:0 roty:0 rotz:0 twotheta:0',
      opts: C,
      want: {
        prefix: 'TRACE_C',
        key: 'angles_rad',
        kind: 'parts',
        parts: [
          { label: 'rotx', value: 0 },
          { label: 'roty', value: 0 },
          { label: 'rotz', value: 0 },
          { label: 'twotheta', value: 0 },
        ],
      },
    },
    {
      what: 'C labelled parts with exponents',
      line: 'TRACE_C:beam_center_m=Xclose:0.000211818 Yclose:0.000217322 pixel_mm:0.172',
      opts: C,
      want: {
        prefix: 'TRACE_C',
        key: 'beam_center_m',
        kind: 'parts',
        parts: [
          { label: 'Xclose', value: 0.000211818 },
          { label: 'Yclose', value: 0.000217322 },
          { label: 'pixel_mm', value: 0.172 },
        ],
      },
    },
    {
      what: 'C matrix with -0',
      line: 'TRACE_C:Rx=[1 0 0; 0 1 -0; 0 0 1]',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'Rx', kind: 'matrix', values: [1, 0, 0, 0, 1, -0, 0, 0, 1], shape: [3, 3] },
    },
    {
      what: 'C string with unicode arrows, commas and brackets',
      line: 'TRACE_C:convention_mapping=Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]',
      opts: C,
      want: {
        prefix: 'TRACE_C',
        key: 'convention_mapping',
        kind: 'string',
        text: 'Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]',
      },
    },
    { what: 'C set-up number', line: 'TRACE_C:Fbeam_m=0.0033', opts: C, want: { prefix: 'TRACE_C', key: 'Fbeam_m', kind: 'number', values: [0.0033] } },
    {
      what: 'C chain vector',
      line: 'TRACE_C: pix0_vector_meters -0.216475836204836 0.216343050492215 -0.230192414300537',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'pix0_vector_meters', kind: 'vector', values: [-0.216475836204836, 0.216343050492215, -0.230192414300537] },
    },
    {
      what: 'C chain number with %g exponent',
      line: 'TRACE_C: omega_pixel_sr 4.20412684465831e-07',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'omega_pixel_sr', kind: 'number', values: [4.20412684465831e-7] },
    },
    { what: 'C chain integer', line: 'TRACE_C: steps 10', opts: C, want: { prefix: 'TRACE_C', key: 'steps', kind: 'integer', values: [10] } },
    {
      what: 'C integer vector at INT_MIN',
      line: 'TRACE_C: hkl_rounded -2147483648 -2147483648 -2147483648',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'hkl_rounded', kind: 'vector', values: [-2147483648, -2147483648, -2147483648] },
    },
    {
      what: 'C infinities',
      line: 'TRACE_C: scattering_vec_A_inv inf -inf inf',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'scattering_vec_A_inv', kind: 'vector', values: ['Infinity', '-Infinity', 'Infinity'] },
    },
    {
      what: 'C -nan',
      line: 'TRACE_C: hkl_frac -nan -inf -nan',
      opts: C,
      want: { prefix: 'TRACE_C', key: 'hkl_frac', kind: 'vector', values: ['NaN', '-Infinity', 'NaN'] },
    },
    {
      what: 'C per-phi record',
      line: 'TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=-inf F_latt_b=1 F_latt=1',
      opts: C,
      want: {
        prefix: 'TRACE_C_PHI',
        key: 'TRACE_C_PHI',
        kind: 'record',
        fields: { phi_tic: 0, phi_deg: 0, k_frac: '-Infinity', F_latt_b: 1, F_latt: 1 },
      },
    },
    {
      what: 'port %.15e vector',
      line: 'TRACE_PY: fdet_after_rotz 0.000000000000000e+00 0.000000000000000e+00 1.000000000000000e+00',
      opts: PY,
      want: { prefix: 'TRACE_PY', key: 'fdet_after_rotz', kind: 'vector', values: [0, 0, 1] },
    },
    {
      what: 'port %.15e -0',
      line: 'TRACE_PY: term_fast -0.000000000000000e+00 -0.000000000000000e+00 -1.024250000000000e-01',
      opts: PY,
      want: { prefix: 'TRACE_PY', key: 'term_fast', kind: 'vector', values: [-0, -0, -0.102425] },
    },
    {
      what: 'port integer printed as a float is a number',
      line: 'TRACE_PY: capture_fraction 1.000000000000000e+00',
      opts: PY,
      want: { prefix: 'TRACE_PY', key: 'capture_fraction', kind: 'number', values: [1] },
    },
    { what: 'port string after the key', line: 'TRACE_PY: detector_convention MOSFLM', opts: PY, want: { prefix: 'TRACE_PY', key: 'detector_convention', kind: 'string', text: 'MOSFLM' } },
    {
      what: 'port parts after the key',
      line: 'TRACE_PY: beam_center_m X:1.024250000000000e-01 Y:1.024250000000000e-01 pixel_mm:0.05',
      opts: PY,
      want: {
        prefix: 'TRACE_PY',
        key: 'beam_center_m',
        kind: 'parts',
        parts: [
          { label: 'X', value: 0.102425 },
          { label: 'Y', value: 0.102425 },
          { label: 'pixel_mm', value: 0.05 },
        ],
      },
    },
    {
      what: 'port matrix after the key',
      line: 'TRACE_PY: R_total [1 0 0; 0 1 0; 0 0 1]',
      opts: PY,
      want: { prefix: 'TRACE_PY', key: 'R_total', kind: 'matrix', values: [1, 0, 0, 0, 1, 0, 0, 0, 1], shape: [3, 3] },
    },
    {
      what: 'port unicode string after the key',
      line: 'TRACE_PY: convention_mapping Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]',
      opts: PY,
      want: { prefix: 'TRACE_PY', key: 'convention_mapping', kind: 'string', text: 'Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]' },
    },
    {
      what: 'port per-phi record',
      line: 'TRACE_PY_PHI phi_tic=3 phi_deg=0.03 k_frac=-0.595169352192279 F_latt_b=-0.0887847980135704 F_latt=0.160224626828858',
      opts: PY,
      want: {
        prefix: 'TRACE_PY_PHI',
        key: 'TRACE_PY_PHI',
        kind: 'record',
        fields: { phi_tic: 3, phi_deg: 0.03, k_frac: -0.595169352192279, F_latt_b: -0.0887847980135704, F_latt: 0.160224626828858 },
      },
    },
    {
      what: 'indexed grid value: the index is the key',
      line: 'TRACE_PY_TRICUBIC: [0,0,0]=181.309997558594',
      opts: PY,
      want: { prefix: 'TRACE_PY_TRICUBIC', key: '[0,0,0]', kind: 'number', values: [181.309997558594] },
    },
    {
      what: 'a Python list with no key: the prefix is the key',
      line: 'TRACE_PY_TRICUBIC_H_COORDS: [-1.0, 0.0, 1.0, 2.0]',
      opts: PY,
      want: { prefix: 'TRACE_PY_TRICUBIC_H_COORDS', key: 'TRACE_PY_TRICUBIC_H_COORDS', kind: 'vector', values: [-1, 0, 1, 2] },
    },
    { what: 'a bare marker holds no record', line: 'TRACE_PY_TRICUBIC_GRID_START', want: undefined },
    {
      what: 'free text `name = value` when TRACE is asked for',
      line: 'TRACE: Omega (solid angle) = 4.169013458370e-07',
      opts: { prefix: 'TRACE' },
      want: { prefix: 'TRACE', key: 'Omega (solid angle)', kind: 'number', values: [4.16901345837e-7] },
    },
    {
      what: 'free text with a bracketed vector',
      line: 'TRACE:     a_star = [0.01, 0, 0]',
      opts: { prefix: 'TRACE' },
      want: { prefix: 'TRACE', key: 'a_star', kind: 'vector', values: [0.01, 0, 0] },
    },
    {
      what: 'free text that is not a plain value stays text',
      line: 'TRACE:   a = [100, 6.12323e-15, 6.12323e-15] |a| = 100',
      opts: { prefix: 'TRACE' },
      want: { prefix: 'TRACE', key: 'a', kind: 'string', text: '[100, 6.12323e-15, 6.12323e-15] |a| = 100' },
    },
    { what: 'a free-text heading holds no record', line: 'TRACE: Computing cross products of reciprocal vectors:', opts: { prefix: 'TRACE' }, want: undefined },
    {
      what: 'TRACE_CONFIG is a TRACE_ prefix by default',
      line: 'TRACE_CONFIG: tracing pixel (spixel=685, fpixel=1039)',
      want: { prefix: 'TRACE_CONFIG', key: 'tracing', kind: 'string', text: 'pixel (spixel=685, fpixel=1039)' },
    },
  ];
  for (const c of cases) {
    it(`reads ${c.what}`, () => {
      const got = one(c.line, c.opts);
      expect(got).toEqual(c.want);
      if (got?.values) got.values.forEach((v, i) => expect(Object.is(v, c.want!.values![i])).toBe(true));
    });
  }
});

describe('prefixes match only as a whole first token', () => {
  const lines = [
    'TRACE_C: a 1',
    'TRACE_C:b=2',
    'TRACE_C_PHI phi_tic=0 k_frac=1',
    'TRACE_CONFIG: tracing pixel (spixel=20, fpixel=30)',
    'TRACE: c = 3',
    'TRACE_PY: d 4',
    '  TRACE_C: e 5',
    'xTRACE_C: f 6',
    '# TRACE_C: g 7',
    'trace_c: h 8',
    'TRACE_c: i 9',
    'TRACE_: j 10',
  ];
  const keysFor = (prefix?: string | string[]) => parseTraceLines(lines, { prefix }).records.map((r) => `${r.prefix}/${r.key}`);
  const cases: Array<{ prefix?: string | string[]; want: string[] }> = [
    { prefix: 'TRACE_C', want: ['TRACE_C/a', 'TRACE_C/b', 'TRACE_C/e'] },
    { prefix: ['TRACE_C', 'TRACE_C_PHI'], want: ['TRACE_C/a', 'TRACE_C/b', 'TRACE_C_PHI/TRACE_C_PHI', 'TRACE_C/e'] },
    { prefix: 'TRACE', want: ['TRACE/c'] },
    { prefix: 'TRACE_PY', want: ['TRACE_PY/d'] },
    { prefix: 'TRACE_CONFIG', want: ['TRACE_CONFIG/tracing'] },
    { prefix: 'TRACE_c', want: ['TRACE_c/i'] },
    {
      prefix: undefined,
      want: ['TRACE_C/a', 'TRACE_C/b', 'TRACE_C_PHI/TRACE_C_PHI', 'TRACE_CONFIG/tracing', 'TRACE_PY/d', 'TRACE_C/e'],
    },
    {
      prefix: [],
      want: ['TRACE_C/a', 'TRACE_C/b', 'TRACE_C_PHI/TRACE_C_PHI', 'TRACE_CONFIG/tracing', 'TRACE_PY/d', 'TRACE_C/e'],
    },
  ];
  for (const c of cases) {
    it(`keeps ${c.want.length} lines for prefix ${JSON.stringify(c.prefix)}`, () => {
      expect(keysFor(c.prefix)).toEqual(c.want);
    });
  }

  it('lists the prefixes met in order of first appearance', () => {
    expect(parseTraceLines(lines).prefixes).toEqual(['TRACE_C', 'TRACE_C_PHI', 'TRACE_CONFIG', 'TRACE_PY']);
  });

  it('rejects a prefix that could never match a token', () => {
    expect(() => parseTraceText('', { prefix: 'TRACE C' })).toThrow(/invalid trace prefix/);
    expect(() => parseTraceText('', { prefix: 'TRACE_C:' })).toThrow(/invalid trace prefix/);
    expect(() => parseTraceText('', { prefix: [''] })).toThrow(/invalid trace prefix/);
  });
});

describe('numbers as C and Python print them', () => {
  const cases: Array<[string, unknown, string]> = [
    ['-0', -0, 'integer'],
    ['0', 0, 'integer'],
    ['-0.0', -0, 'number'],
    ['nan', 'NaN', 'number'],
    ['-nan', 'NaN', 'number'],
    ['NaN', 'NaN', 'number'],
    ['inf', 'Infinity', 'number'],
    ['-inf', '-Infinity', 'number'],
    ['+inf', 'Infinity', 'number'],
    ['Infinity', 'Infinity', 'number'],
    ['-infinity', '-Infinity', 'number'],
    ['1e999', 'Infinity', 'number'],
    ['-1e999', '-Infinity', 'number'],
    ['1e-400', 0, 'number'],
    ['1.7976931348623157e308', 1.7976931348623157e308, 'number'],
    ['+5', 5, 'integer'],
    ['007', 7, 'integer'],
    ['.5', 0.5, 'number'],
    ['5.', 5, 'number'],
    ['1E5', 100000, 'number'],
    ['1e+29', 1e29, 'number'],
    ['9007199254740993', 9007199254740992, 'integer'],
    ['100.0', 100, 'number'],
    ['123456789012345678901234567890123456789', 1.2345678901234568e38, 'integer'],
  ];
  for (const [token, want, kind] of cases) {
    it(`reads ${token} as ${kind} ${String(want)}`, () => {
      const r = one(`TRACE_C: x ${token}`)!;
      expect(r.kind).toBe(kind);
      expect(Object.is(r.values![0], want)).toBe(true);
    });
  }
  for (const token of ['0x10', '1,5', '1e', 'e5', '--1', '1.2.3', 'nanx', 'in', '-', '.', '+']) {
    it(`keeps ${token} as text`, () => {
      expect(one(`TRACE_C: x ${token}`)).toEqual({ prefix: 'TRACE_C', key: 'x', kind: 'string', text: token });
    });
  }
  it('numValue turns stored non-finite markers back into numbers', () => {
    expect(numValue('NaN')).toBeNaN();
    expect(numValue('Infinity')).toBe(Infinity);
    expect(numValue('-Infinity')).toBe(-Infinity);
    expect(numValue(-2.5)).toBe(-2.5);
  });
});

describe('matrices, vectors and odd brackets', () => {
  const cases: Array<[string, Omit<TraceRecord, 'seq' | 'line' | 'prefix' | 'key'>]> = [
    ['[1 2; 3 4; 5 6]', { kind: 'matrix', values: [1, 2, 3, 4, 5, 6], shape: [3, 2] }],
    ['[1 2 3]', { kind: 'vector', values: [1, 2, 3] }],
    ['[5]', { kind: 'vector', values: [5] }],
    ['[1,2,3]', { kind: 'vector', values: [1, 2, 3] }],
    ['[1 2; 3]', { kind: 'string', text: '[1 2; 3]' }],
    ['[1 2;]', { kind: 'string', text: '[1 2;]' }],
    ['[]', { kind: 'string', text: '[]' }],
    ['[[1, 2], [3, 4]]', { kind: 'string', text: '[[1, 2], [3, 4]]' }],
    ['[nan inf; -inf -0]', { kind: 'matrix', values: ['NaN', 'Infinity', '-Infinity', -0], shape: [2, 2] }],
    ['(0.1, 0.2, 0.3)', { kind: 'vector', values: [0.1, 0.2, 0.3] }],
    ['(5,)', { kind: 'vector', values: [5] }],
    ['1.5, 2.5, 3.5', { kind: 'vector', values: [1.5, 2.5, 3.5] }],
    ['1.5, 2.5,', { kind: 'string', text: '1.5, 2.5,' }],
    ['1e+06, V_star = 1e-06', { kind: 'string', text: '1e+06, V_star = 1e-06' }],
    ['tensor([0.1000, 0.2000])', { kind: 'vector', values: [0.1, 0.2] }], // issue 9 item 6: was text
  ];
  for (const [value, want] of cases) {
    it(`reads ${value}`, () => {
      expect(one(`TRACE_C:m=${value}`)).toEqual({ prefix: 'TRACE_C', key: 'm', ...want });
    });
  }
});

describe('lines around the records', () => {
  const log = [
    'nanoBragg nanocrystal diffraction simulator - James Holton and Ken Frankel 5-17-17',
    'TRACE_C:fdet_after_rotz=0 0 1',
    '0% done',
    '1% done',
    'TRACE_C: F_latt 4.97933824551147',
    '',
    '  created a total of 1 sources:',
    'TRACE_C:fdet_after_rotz=0 0 1',
    'TRACE_C: F_latt -2.38319665299058',
    '96% done',
  ].join('\n');

  it('ignores banner and progress lines, and counts them', () => {
    const doc = parseTraceText(log + '\n', { prefix: 'TRACE_C' });
    expect(doc.records.map((r) => r.line)).toEqual([2, 5, 8, 9]);
    expect(doc.stats).toEqual({ lines: 10, records: 4, ignored: 6, bytes: Buffer.byteLength(log) + 1 });
  });

  it('keeps a repeated key once per occurrence, in order', () => {
    const doc = parseTraceText(log, { prefix: 'TRACE_C' });
    const latt = doc.records.filter((r) => r.key === 'F_latt');
    expect(latt.map((r) => [r.seq, r.line, r.values![0]])).toEqual([
      [1, 5, 4.97933824551147],
      [3, 9, -2.38319665299058],
    ]);
    expect(doc.records.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('counts a last line without a newline, and no line for an empty text', () => {
    expect(parseTraceText('TRACE_C: a 1').stats).toMatchObject({ lines: 1, records: 1 });
    expect(parseTraceText('TRACE_C: a 1\n').stats).toMatchObject({ lines: 1, records: 1 });
    expect(parseTraceText('').stats).toEqual({ lines: 0, records: 0, ignored: 0, bytes: 0 });
    expect(parseTraceText('\n').stats).toMatchObject({ lines: 1, records: 0, ignored: 1 });
  });

  it('reads CRLF logs and a byte-order mark', () => {
    const doc = parseTraceText('\uFEFFTRACE_C: a 1\r\nTRACE_C:m=MOSFLM\r\nTRACE_C: v 1 2 3\r\n');
    expect(doc.records.map((r) => [r.key, r.values ?? r.text])).toEqual([
      ['a', [1]],
      ['m', 'MOSFLM'],
      ['v', [1, 2, 3]],
    ]);
  });

  it(`ignores a line longer than ${MAX_LINE} bytes and says so`, () => {
    const warnings: string[] = [];
    const long = 'TRACE_C: big ' + '1 '.repeat(MAX_LINE / 2);
    const doc = parseTraceText(`TRACE_C: a 1\n${long}\nTRACE_C: b 2\n`, { warn: (m) => warnings.push(m) });
    expect(doc.records.map((r) => [r.key, r.line])).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
    expect(doc.stats).toMatchObject({ lines: 3, records: 2, ignored: 1 });
    expect(warnings).toEqual([expect.stringMatching(/ignored 1 line\(s\) longer than/)]);
  });
});

describe('require', () => {
  const catchFailure = (f: () => unknown): StageFailure => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(StageFailure);
      return err as StageFailure;
    }
    throw new Error('expected a StageFailure');
  };

  it('fails naming the key and the file when a required key is missing', () => {
    const err = catchFailure(() => parseTraceText('TRACE_C: F_cell 100\n', { require: ['F_latt'], source: 'c.log' }));
    expect(err.reason).toBe('require');
    expect(err.message).toMatch(/required key 'F_latt' not found in c\.log/);
  });

  it('names every unmet key in one failure', () => {
    const err = catchFailure(() => parseTraceText('TRACE_C: F_latt nan\n', { require: ['F_latt', 'steps', 'F_cell'], source: 'c.log' }));
    expect(err.message).toMatch(/'F_latt'.*placeholder.*line 1/);
    expect(err.message).toMatch(/'steps' not found/);
    expect(err.message).toMatch(/'F_cell' not found/);
  });

  for (const placeholder of ['NOT_EXTRACTED', 'N/A', 'None', 'null', 'nan', '-nan', 'NaN nan nan', '[nan nan; nan nan]', 'a:nan b:N/A', '']) {
    it(`fails when every occurrence holds a placeholder (${JSON.stringify(placeholder)})`, () => {
      const text = `TRACE_PY: F_latt ${placeholder}\nTRACE_PY: F_latt ${placeholder}\n`;
      const err = catchFailure(() => parseTraceText(text, { require: ['F_latt'], source: 'port.log' }));
      expect(err.message).toMatch(/required key 'F_latt' in port\.log holds only placeholder values .* lines 1, 2/);
    });
  }

  it('passes when one occurrence holds a real value, or some components are real', () => {
    expect(() => parseTraceText('TRACE_PY: F_latt None\nTRACE_PY: F_latt 1.35\n', { require: ['F_latt'] })).not.toThrow();
    expect(() => parseTraceText('TRACE_C: hkl_frac -nan -inf -nan\n', { require: ['hkl_frac'] })).not.toThrow();
  });

  it('is met by a field of a key=value record', () => {
    const phi = 'TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=-0.607255839576692 F_latt=-2.38\n';
    expect(() => parseTraceText(phi, { require: ['k_frac', 'TRACE_C_PHI'] })).not.toThrow();
    const err = catchFailure(() => parseTraceText('TRACE_C_PHI phi_tic=0 k_frac=NOT_EXTRACTED\n', { require: ['k_frac'] }));
    expect(err.message).toMatch(/'k_frac'.*placeholder/);
  });

  it('judges a field named twice in one record by the value the document keeps, its last', () => {
    const err = catchFailure(() => parseTraceText('TRACE_C_PHI k_frac=0.5 k_frac=nan\n', { require: ['k_frac'] }));
    expect(err.message).toMatch(/'k_frac'.*placeholder/);
    expect(() => parseTraceText('TRACE_C_PHI k_frac=nan k_frac=0.5\n', { require: ['k_frac'] })).not.toThrow();
  });

  it('looks only at the prefixes asked for', () => {
    const err = catchFailure(() => parseTraceText('TRACE_PY: F_latt 1\n', { prefix: 'TRACE_C', require: ['F_latt'], source: 'x.log' }));
    expect(err.message).toMatch(/not found in x\.log \(no trace lines matched\)/);
  });
});

describe('every fixture log', () => {
  for (const file of logFiles()) {
    const name = file.slice(fixtures.length + 1);
    it(`parses ${name} with one record per trace line`, async () => {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      const family = /port_py/.test(name) ? 'TRACE_PY' : 'TRACE_C';
      // Counted independently: chain lines `P: key v...`, and every line led by the prefix token.
      const chainLines = lines.filter((l) => new RegExp(`^${family}: \\S+ \\S`).test(l)).length;
      const prefixed = lines.filter((l) => new RegExp(`^${family}[:\\s]\\s*\\S`).test(l)).length;

      const doc = await parseTraceFile(file, { prefix: family });
      expect(doc.records.length).toBe(prefixed);
      const chain = doc.records.filter((r) => lines[r.line - 1].startsWith(`${family}: `));
      expect(chain.length).toBe(chainLines);
      expect(doc.stats.lines).toBe(text.endsWith('\n') ? lines.length - 1 : lines.length);
      expect(doc.stats.bytes).toBe(Buffer.byteLength(text));
      expect(doc.records.every((r) => r.prefix === family)).toBe(true);
      expect(validateTrace(doc)).toEqual([]);
      expect(validateTrace(await parseTraceFile(file))).toEqual([]);
    });
  }

  it('gives the nanoBragg per-pixel chain in the order its README lists', async () => {
    const chain = ['pix0_vector_meters', 'fdet_vec', 'sdet_vec', 'pixel_pos_meters', 'R_distance_meters', 'omega_pixel_sr', 'close_distance_meters',
      'obliquity_factor', 'diffracted_vec', 'incident_vec', 'lambda_meters', 'lambda_angstroms', 'scattering_vec_A_inv', 'rot_a_angstroms',
      'rot_b_angstroms', 'rot_c_angstroms', 'rot_a_star_A_inv', 'rot_b_star_A_inv', 'rot_c_star_A_inv', 'hkl_frac', 'hkl_rounded', 'F_latt_a',
      'F_latt_b', 'F_latt_c', 'F_latt', 'F_cell', 'I_before_scaling', 'r_e_meters', 'r_e_sqr', 'fluence_photons_per_m2', 'steps',
      'oversample_thick', 'oversample_polar', 'oversample_omega', 'capture_fraction', 'polar', 'omega_pixel', 'cos_2theta', 'I_pixel_final',
      'floatimage_accumulated'];
    for (const dir of ['cubic-default', 'mono-phi', 'ortho-beam', 'triclinic-hkl']) {
      const doc = await parseTraceFile(join(fixtures, 'nanobragg', dir, 'trace_c.log'), { prefix: 'TRACE_C' });
      const keys = doc.records.map((r) => r.key);
      expect(keys.slice(keys.indexOf('pix0_vector_meters'))).toEqual(chain);
    }
  });

  it('keeps the 10 per-phi records of a C log in phi_tic order', async () => {
    const doc = await parseTraceFile(join(fixtures, 'real-pairs', 'per-phi-k-frac', 'ref_c.log'), { prefix: 'TRACE_C_PHI' });
    expect(doc.records.map((r) => r.fields!.phi_tic)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(doc.records[0].fields!.k_frac).toBe(-0.607255839576692);
  });
});

/** Reads a streamed document record by record (one per line), so a large one is never held whole. */
async function readStreamedRecords(file: string, each: (r: TraceRecord, i: number) => void): Promise<Omit<TraceDocument, 'records'>> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let head = '';
  let tail = '';
  let i = 0;
  let inRecords = false;
  for await (const line of rl) {
    if (!inRecords) {
      head = line;
      inRecords = true;
    } else if (line.startsWith('{')) {
      each(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line), i++);
    } else tail += line;
  }
  const { records: _none, ...rest } = JSON.parse(head + ']' + tail.replace(/^\]/, '')) as TraceDocument;
  return rest;
}

describe('streaming against in-memory parsing', () => {
  it('gives the same document for a generated ~50 MB log of every format', async () => {
    const dir = tempDir();
    const log = join(dir, 'big.log');
    const fixtureText = logFiles().map((f) => readFileSync(f, 'utf8')).join('');
    const odd = [
      'TRACE_C: quoted "a\\b" \u0001 text',
      'TRACE_C:lat1=caf\u00e9 \u00ff',
      'TRACE_PY: crlf 1 2 3\r',
      'TRACE_C: nums 1e999 -1e999 +5 .5 5. 007 -0 nan',
      'TRACE_C_PHI phi_tic=1 __proto__=2 k=NOT_EXTRACTED',
    ].join('\n');
    const block = Buffer.from(fixtureText + odd + '\n');
    const fd = openSync(log, 'w');
    let size = 0;
    while (size < 50 * (1 << 20)) {
      writeSync(fd, block);
      size += block.length;
      if (size > 20 << 20 && size < 21 << 20) {
        // one line longer than the read buffer, one between MAX_LINE and the buffer, mid-file
        const huge = Buffer.alloc(5 << 20, 0x31);
        writeSync(fd, Buffer.concat([Buffer.from('TRACE_C: huge '), huge, Buffer.from('\n')]));
        writeSync(fd, Buffer.concat([Buffer.from('TRACE_C: large '), huge.subarray(0, 2 << 20), Buffer.from('\n')]));
        size += 7 << 20;
      }
    }
    writeSync(fd, Buffer.from('TRACE_C: last 1 2 3')); // no final newline
    closeSync(fd);

    const out = join(dir, 'big.json');
    const warnings: string[] = [];
    const summary = await parseTraceFileTo(log, out, { warn: (m) => warnings.push(m) });
    const memory = await parseTraceFile(log);
    expect(warnings).toEqual([expect.stringMatching(/ignored 2 line\(s\)/)]);
    expect(summary.stats).toEqual(memory.stats);
    expect(summary.prefixes).toEqual(memory.prefixes);
    let mismatches = 0;
    const rest = await readStreamedRecords(out, (r, i) => {
      if (mismatches < 3 && traceRecordJson(r) !== traceRecordJson(memory.records[i])) {
        mismatches++;
        expect(r).toEqual(memory.records[i]);
      }
    });
    expect(mismatches).toBe(0);
    expect(rest).toEqual({ format: 'evidence-trace/1', source: log, prefixes: memory.prefixes, stats: memory.stats });
    expect(memory.records.at(-1)).toMatchObject({ key: 'last', values: [1, 2, 3] });
    expect(memory.stats.records).toBe(memory.records.length);
  }, 120_000);

  it('writes a document that JSON.parse reads back equal, -0 included', async () => {
    const dir = tempDir();
    const log = join(dir, 'c.log');
    writeFileSync(log, readFileSync(join(fixtures, 'nanobragg', 'cubic-default', 'trace_c.log')));
    const out = join(dir, 'nested', 'trace.json');
    await parseTraceFileTo(log, out, { source: 'c.log' });
    const streamed = JSON.parse(readFileSync(out, 'utf8'));
    expect(streamed).toEqual(await parseTraceFile(log, { source: 'c.log' }));
    expect(Object.is(streamed.records.find((r: TraceRecord) => r.key === 'Rx').values[5], -0)).toBe(true);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['trace.json']);
  });

  it('writes a record that names a field twice, or a field like an index, as the object every reader makes of it', async () => {
    const dir = tempDir();
    const log = join(dir, 'r.log');
    // Distinct bytes 0x80 and 0xff both decode to U+FFFD: one field for an object.
    const lines = ['TRACE_C_PHI phi_tic=0 F_latt=1.5 phi_tic=1', 'TRACE_C_PHI b=1 7=2 a=3', 'TRACE_C_PHI \x80=1 \xff=2 z=3', 'TRACE_C_PHI h=1 k=2 l=3', 'TRACE_C_PHI k=1 k=2'];
    writeFileSync(log, Buffer.from(lines.join('\n') + '\n', 'latin1'));
    const warnings: string[] = [];
    const memory = await parseTraceFile(log, { source: 'r.log', warn: (w) => warnings.push(w) });
    expect(memory.records.map((r) => Object.entries(r.fields!))).toEqual([
      [['phi_tic', 1], ['F_latt', 1.5]],
      [['7', 2], ['b', 1], ['a', 3]],
      [['\uFFFD', 2], ['z', 3]],
      [['h', 1], ['k', 2], ['l', 3]],
      [['k', 2]],
    ]);
    expect(warnings).toEqual(['r.log:1: field "phi_tic" is given twice in one record; only its last value is kept (and 2 more record lines name a field twice)']);

    const out = join(dir, 'r.json');
    await parseTraceFileTo(log, out, { source: 'r.log' });
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n').slice(1, -2).map((l) => l.replace(/,$/, ''))).toEqual(memory.records.map(traceRecordJson));
    expect(JSON.parse(text)).toEqual(memory);
    const columns = await parseTraceFileColumns(log);
    expect(memory.records.map((_, i) => columns.record(i).fields)).toEqual(memory.records.map((r) => r.fields));
  });

  it('does not warn about records whose fields are all named once', () => {
    const warnings: string[] = [];
    parseTraceText('TRACE_C_PHI phi_tic=0 k_frac=1 F_latt=2 F_latt_b=3 phi_deg=0.1\nTRACE_C: k 1\nTRACE_C_PHI phi_tic=0\n', { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
  });

  it('leaves no output, not even a temporary file, when require fails', async () => {
    const dir = tempDir();
    const log = join(dir, 'c.log');
    writeFileSync(log, 'TRACE_C: F_latt nan\n');
    await expect(parseTraceFileTo(log, join(dir, 'out.json'), { require: ['F_latt'] })).rejects.toBeInstanceOf(StageFailure);
    expect(readdirSync(dir)).toEqual(['c.log']);
  });

  it('stops when aborted', async () => {
    const dir = tempDir();
    const log = join(dir, 'c.log');
    writeFileSync(log, 'TRACE_C: a 1\n');
    const ac = new AbortController();
    ac.abort();
    await expect(parseTraceFileTo(log, join(dir, 'out.json'), { signal: ac.signal })).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['c.log']);
  });

  it('streams into any sink', async () => {
    const chunks: string[] = [];
    await parseTraceFileToSink(join(fixtures, 'real-pairs', 'per-phi-k-frac', 'port_py.log'), {
      write: async (d) => void chunks.push(typeof d === 'string' ? d : Buffer.from(d).toString('utf8')),
    }, { source: 'p.log' });
    const doc = JSON.parse(chunks.join(''));
    expect(doc.records).toHaveLength(10);
    expect(doc.source).toBe('p.log');
  });
});

describe('schemas/trace.schema.json', () => {
  const base = (): TraceDocument => parseTraceText(
    [
      'TRACE_C: F_latt 1.5',
      'TRACE_C:Rx=[1 0; 0 1]',
      'TRACE_C:angles=rotx:0 roty:0',
      'TRACE_C_PHI phi_tic=0 k=1',
      'TRACE_C:conv=MOSFLM',
      'TRACE_C: hkl nan inf -inf',
    ].join('\n'),
  );

  it('accepts what the parser produces', () => {
    expect(validateTrace(base())).toEqual([]);
  });

  const corruptions: Array<{ what: string; corrupt: (d: any) => void; path: string; message?: RegExp }> = [
    { what: 'values that are not an array', corrupt: (d) => (d.records[0].values = 'abc'), path: '/records/0/values', message: /array/ },
    { what: 'a value that is not a number', corrupt: (d) => (d.records[0].values = ['abc']), path: '/records/0/values/0' },
    { what: 'a missing key', corrupt: (d) => delete d.records[2].key, path: '/records/2', message: /required property 'key'/ },
    { what: 'an unknown kind', corrupt: (d) => (d.records[4].kind = 'blob'), path: '/records/4/kind', message: /must be one of/ },
    { what: 'an unknown property on a record', corrupt: (d) => (d.records[1].extra = 1), path: '/records/1', message: /unknown property 'extra'/ },
    { what: 'a matrix without shape', corrupt: (d) => delete d.records[1].shape, path: '/records/1', message: /required property 'shape'/ },
    { what: 'a number with two values', corrupt: (d) => d.records[0].values.push(2), path: '/records/0/values' },
    { what: 'a string record without text', corrupt: (d) => delete d.records[4].text, path: '/records/4', message: /'text'/ },
    { what: 'a record without fields', corrupt: (d) => delete d.records[3].fields, path: '/records/3', message: /'fields'/ },
    { what: 'a part without a label', corrupt: (d) => delete d.records[2].parts[1].label, path: '/records/2/parts/1' },
    { what: 'a line number of 0', corrupt: (d) => (d.records[0].line = 0), path: '/records/0/line' },
    { what: 'a negative line count', corrupt: (d) => (d.stats.lines = -1), path: '/stats/lines' },
    { what: 'another format', corrupt: (d) => (d.format = 'evidence-trace/2'), path: '/format' },
    { what: 'a non-finite marker spelt otherwise', corrupt: (d) => (d.records[5].values[0] = 'nan'), path: '/records/5/values/0' },
  ];
  for (const c of corruptions) {
    it(`rejects ${c.what} at ${c.path}`, () => {
      const doc = JSON.parse(JSON.stringify(base()));
      c.corrupt(doc);
      const issues = validateTrace(doc);
      expect(issues.map((i) => i.path)).toContain(c.path);
      if (c.message) expect(issues.find((i) => i.path === c.path && c.message!.test(i.message))).toBeTruthy();
    });
  }
});

function fakeContext(dir: string, withBlock: Record<string, unknown>, outs: string[]) {
  const infos: string[] = [];
  const warns: string[] = [];
  const ctx: StageContext = {
    stage: 'parse-c',
    root: dir,
    cwd: dir,
    with: withBlock,
    outs,
    deps: [],
    params: {},
    env: {},
    log: { info: (m) => infos.push(m), warn: (m) => warns.push(m) },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: { file: join(dir, 'pipeline.yaml'), params: {}, env: {}, stages: [] },
  };
  return { ctx, infos, warns };
}

describe('the parse-trace stage', () => {
  it('writes the document to its first out and logs one line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ref_c.log'), readFileSync(join(fixtures, 'real-pairs', 'source-weights', 'ref_c.log')));
    const { ctx, infos } = fakeContext(dir, { input: 'ref_c.log', prefix: ['TRACE_C', 'TRACE_C_PHI'], require: ['F_latt', 'k_frac'] }, ['evidence/trace_c.json']);
    await parseTraceStage.run(ctx);
    const doc = JSON.parse(readFileSync(join(dir, 'evidence', 'trace_c.json'), 'utf8'));
    expect(validateTrace(doc)).toEqual([]);
    expect(doc.source).toBe('ref_c.log');
    expect(doc.prefixes).toEqual(['TRACE_C', 'TRACE_C_PHI']);
    expect(infos).toEqual([expect.stringMatching(/^ref_c\.log: \d+ records \(TRACE_C, TRACE_C_PHI\) from 326 lines, \d+ ignored$/)]);
  });

  it('writes to with.output when given', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.log'), 'TRACE_PY: F_latt 1.35\n');
    const { ctx } = fakeContext(dir, { input: 'p.log', output: 'out/p.json' }, []);
    await parseTraceStage.run(ctx);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'p.json'), 'utf8')).records[0].values).toEqual([1.35]);
  });

  it('fails with reason require, naming key and file, and writes nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.log'), 'TRACE_PY: F_latt NOT_EXTRACTED\n');
    const { ctx } = fakeContext(dir, { input: 'p.log', require: ['F_latt'] }, ['p.json']);
    const err = await parseTraceStage.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailure);
    expect((err as StageFailure).reason).toBe('require');
    expect((err as StageFailure).message).toMatch(/'F_latt' in p\.log/);
    expect(existsSync(join(dir, 'p.json'))).toBe(false);
  });

  it('declares an input schema that accepts good with-blocks and rejects bad ones', () => {
    expect(parseTraceStage.name).toBe('parse-trace');
    const validate = compileSchemaObject('test:parse-trace.input', parseTraceStage.inputSchema);
    expect(validate({ input: 'a.log' })).toBe(true);
    expect(validate({ input: 'a.log', prefix: 'TRACE_C', require: ['F_latt'], output: 'a.json' })).toBe(true);
    expect(validate({ input: 'a.log', prefix: ['TRACE_C', 'TRACE_C_PHI'] })).toBe(true);
    const bad = (w: unknown) => (validate(w) ? [] : issuesOf(validate.errors).map((i) => i.path));
    expect(bad({})).toContain('');
    expect(bad({ input: 'a.log', prefix: 'TRACE C' })).toContain('/prefix');
    expect(bad({ input: 'a.log', prefix: [] })).toContain('/prefix');
    expect(bad({ input: 'a.log', require: 'F_latt' })).toContain('/require');
    expect(bad({ input: 'a.log', prefixes: ['x'] })).toContain('');
  });
});

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe('evidence parse (the one-off command)', () => {
  const log = join(fixtures, 'real-pairs', 'source-weights', 'ref_c.log');

  it('prints a compact table of line, prefix, key, kind and values', async () => {
    const out = new Collect();
    const code = await parseCommand({ log, prefixes: ['TRACE_C', 'TRACE_C_PHI'], require: [], json: false, out });
    expect(code).toBe(0);
    const rows = out.text.split('\n');
    expect(rows[0]).toMatch(/^\s*line\s+prefix\s+key\s+kind\s+values$/);
    expect(out.text).toMatch(/\n\s*283 +TRACE_C +hkl_frac +vector +NaN -Infinity NaN\n/);
    expect(out.text).toMatch(/TRACE_C +Rx +matrix +\[1 0 0; 0 1 -0; 0 0 1\]/);
    expect(out.text).toMatch(/TRACE_C_PHI +TRACE_C_PHI +record +phi_tic=0 phi_deg=0 k_frac=-Infinity F_latt_b=1 F_latt=1/);
    expect(out.text).toMatch(/angles_rad +parts +rotx:0 roty:0 rotz:0 twotheta:0/);
    expect(out.text).toMatch(/\d+ records \(TRACE_C, TRACE_C_PHI\) from 326 lines, \d+ ignored\n$/);
  });

  it('prints the document with --json', async () => {
    const out = new Collect();
    expect(await parseCommand({ log, prefixes: ['TRACE_C'], require: ['steps'], json: true, out })).toBe(0);
    const doc = JSON.parse(out.text);
    expect(validateTrace(doc)).toEqual([]);
    expect(doc.records.find((r: TraceRecord) => r.key === 'steps').values).toEqual([4]);
  });

  it('says on its error stream, not in the --json document, that a record names a field twice', async () => {
    const dir = tempDir();
    const twice = join(dir, 'twice.log');
    writeFileSync(twice, 'TRACE_C: k 1\nTRACE_C_PHI phi_tic=0 phi_tic=1\n');
    const out = new Collect();
    const err = new Collect();
    expect(await parseCommand({ log: twice, prefixes: [], require: [], json: true, out, err })).toBe(0);
    expect(JSON.parse(out.text).records[1].fields).toEqual({ phi_tic: 1 });
    expect(err.text).toBe(`warning: ${twice}:2: field "phi_tic" is given twice in one record; only its last value is kept\n`);
  });

  it('exits 1 when a required key is missing and 2 when the log cannot be read', async () => {
    const out = new Collect();
    const err = new Collect();
    expect(await parseCommand({ log, prefixes: ['TRACE_C'], require: ['no_such_key'], json: false, out, err })).toBe(1);
    expect(err.text).toMatch(/^error: required key 'no_such_key' not found in .*ref_c\.log/);
    expect(await parseCommand({ log: join(fixtures, 'missing.log'), prefixes: [], require: [], json: false, out, err })).toBe(2);
    expect(err.text).toMatch(/ENOENT/);
  });
});
