// Table-driven tests of PyTorch/NumPy printouts and numbers with units (stages/trace/parse/printouts.ts):
// each line reads as a number, vector or matrix with its unit and dtype, the same in memory and as
// streamed bytes, and the schema accepts the document. Lines that are not such printouts stay text.
// The `Wavelength:` line is copied from ../shared/fixtures/real-runs/supervisor/trace_py.log.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTraceFileTo, parseTraceText, traceRecordJson, type ParseTraceOptions } from '../../stages/trace/parse.js';
import type { TraceDocument, TraceRecord } from '../../stages/trace/record.js';
import { compileSchemaFile, issuesOf } from '../../src/schema/validate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const validate = compileSchemaFile(join(root, 'schemas', 'trace.schema.json'));
const dir = mkdtempSync(join(tmpdir(), 'evidence-parse-printouts-'));

type Want = Omit<TraceRecord, 'seq' | 'line' | 'prefix'>;
const cases: Array<{ line: string; want: Want; streamedValues?: string; opts?: ParseTraceOptions }> = [
  { line: 'TRACE_PY: F_latt tensor([1.0000, 2.0000])', want: { key: 'F_latt', kind: 'vector', values: [1, 2] }, streamedValues: '[1.0000,2.0000]' },
  { line: 'TRACE_PY: F_latt tensor(1.5, dtype=torch.float64)', want: { key: 'F_latt', kind: 'number', values: [1.5], dtype: 'float64' } },
  { line: 'TRACE_PY: F_latt=tensor(1.3518, dtype=torch.float64)', want: { key: 'F_latt', kind: 'number', values: [1.3518], dtype: 'float64' } },
  { line: 'TRACE_PY: steps tensor(10)', want: { key: 'steps', kind: 'integer', values: [10] } },
  {
    line: 'TRACE_PY: R_total tensor([[1., 2.], [3., 4.]], dtype=torch.float32)',
    want: { key: 'R_total', kind: 'matrix', values: [1, 2, 3, 4], shape: [2, 2], dtype: 'float32' },
  },
  {
    line: "TRACE_PY: pix0_vector_meters tensor([-0.2165,  0.2163, -0.2302], device='cuda:0', dtype=torch.float64)",
    want: { key: 'pix0_vector_meters', kind: 'vector', values: [-0.2165, 0.2163, -0.2302], dtype: 'float64' },
  },
  {
    line: 'TRACE_PY: I_pixel tensor(4.2041e-07, grad_fn=<MulBackward0>)',
    want: { key: 'I_pixel', kind: 'number', values: [4.2041e-7] },
  },
  { line: 'TRACE_PY: hkl_frac tensor([nan, -inf, 1.])', want: { key: 'hkl_frac', kind: 'vector', values: ['NaN', '-Infinity', 1] } },
  { line: 'TRACE_PY: a_star array([1., 2.], dtype=float32)', want: { key: 'a_star', kind: 'vector', values: [1, 2], dtype: 'float32' } },
  { line: 'TRACE_PY: a_star array([ 0.0290511, -0.0293959,  0.0107499])', want: { key: 'a_star', kind: 'vector', values: [0.0290511, -0.0293959, 0.0107499] } },
  { line: 'TRACE_PY: array([[1, 0], [0, 1]])', want: { key: 'TRACE_PY', kind: 'matrix', values: [1, 0, 0, 1], shape: [2, 2] } },
  { line: 'TRACE_PY: m [[1, 2], [3, 4]] mm', want: { key: 'm', kind: 'matrix', values: [1, 2, 3, 4], shape: [2, 2], unit: 'mm' } },
  { line: 'TRACE_PY: k_frac np.float64(-0.589139352775903)', want: { key: 'k_frac', kind: 'number', values: [-0.589139352775903], dtype: 'float64' } },
  { line: 'TRACE_PY: x [1, 2, 3]', want: { key: 'x', kind: 'vector', values: [1, 2, 3] } },
  { line: 'TRACE_PY: x 1,2,3', want: { key: 'x', kind: 'vector', values: [1, 2, 3] } },
  { line: 'TRACE_PY: lambda_angstroms 0.9768 Å', want: { key: 'lambda_angstroms', kind: 'number', values: [0.9768], unit: 'Å' } },
  { line: 'TRACE_PY: density 1e-06 Å^-3', want: { key: 'density', kind: 'number', values: [1e-6], unit: 'Å^-3' }, streamedValues: '[1e-06]' },
  { line: 'TRACE_PY:energy=12.4 keV', want: { key: 'energy', kind: 'number', values: [12.4], unit: 'keV' } },
  { line: 'TRACE_PY: pixel_size 0.1 mm', want: { key: 'pixel_size', kind: 'number', values: [0.1], unit: 'mm' } },
  { line: 'TRACE_PY: fluence 1.25e+24 photons/m^2', want: { key: 'fluence', kind: 'number', values: [1.25e24], unit: 'photons/m^2' } },
  { line: 'TRACE_PY: rot_a 0.1 0.2 0.3 Å', want: { key: 'rot_a', kind: 'vector', values: [0.1, 0.2, 0.3], unit: 'Å' } },
  { line: 'TRACE_PY: lambda tensor(0.9768, dtype=torch.float64) Å', want: { key: 'lambda', kind: 'number', values: [0.9768], unit: 'Å', dtype: 'float64' } },
  // Real lines of the port's banner, read with the banner's word as the prefix.
  { line: '  Wavelength: 0.98 Å', want: { key: 'Wavelength', kind: 'number', values: [0.98], unit: 'Å' }, opts: { prefix: 'Wavelength' } },
  // Not printouts: kept as text.
  { line: 'TRACE_PY: status 5 pixels wide', want: { key: 'status', kind: 'string', text: '5 pixels wide' } },
  { line: 'TRACE_PY: m [[1, 2], [3, 4]]', want: { key: 'm', kind: 'string', text: '[[1, 2], [3, 4]]' } },
  { line: 'TRACE_PY: x 1,5', want: { key: 'x', kind: 'string', text: '1,5' } },
  { line: 'TRACE_PY: x 1,,2', want: { key: 'x', kind: 'string', text: '1,,2' } },
  { line: 'TRACE_PY: t tensor([1., 2.]', want: { key: 't', kind: 'string', text: 'tensor([1., 2.]' } },
  { line: 'TRACE_PY: t tensor([[[1.]]])', want: { key: 't', kind: 'string', text: 'tensor([[[1.]]])' } },
  { line: 'TRACE_PY: t tensor([[1., 2.], [3.]])', want: { key: 't', kind: 'string', text: 'tensor([[1., 2.], [3.]])' } },
  { line: 'TRACE_PY: t array([1, ..., 9])', want: { key: 't', kind: 'string', text: 'array([1, ..., 9])' } },
  { line: 'TRACE_PY: t tensor(1.5, dtype=torch.float64', want: { key: 't', kind: 'string', text: 'tensor(1.5, dtype=torch.float64' } },
];

describe('parse-trace on PyTorch/NumPy printouts and units', () => {
  it.each(cases)('reads $line', async ({ line, want, streamedValues, opts }) => {
    const doc = parseTraceText(line, { source: 'x', ...opts });
    expect(validate(doc), JSON.stringify(issuesOf(validate.errors))).toBe(true);
    expect(doc.records).toHaveLength(1);
    const { seq: _seq, line: _line, prefix: _prefix, ...got } = doc.records[0];
    expect(got).toEqual(want);
    // The streaming writer writes the same record, numbers as printed.
    const file = join(dir, 'in.log');
    const out = join(dir, 'out.json');
    writeFileSync(file, line + '\n');
    await parseTraceFileTo(file, out, opts);
    const text = readFileSync(out, 'utf8');
    const streamed = JSON.parse(text) as TraceDocument;
    expect(streamed.records.map(traceRecordJson)).toEqual(doc.records.map(traceRecordJson));
    if (streamedValues) expect(text).toContain(`"values":${streamedValues}`);
  });

  it('does not carry a unit or dtype over to the next line', () => {
    const doc = parseTraceText('TRACE_PY: a 1 Å\nTRACE_PY: b 2\nTRACE_PY: c tensor(1., dtype=torch.float64)\nTRACE_PY:d=1 2', { source: 'x' });
    expect(doc.records.map((r) => [r.unit, r.dtype])).toEqual([['Å', undefined], [undefined, undefined], [undefined, 'float64'], [undefined, undefined]]);
    expect(doc.records.map(traceRecordJson)[1]).toBe('{"seq":1,"line":2,"prefix":"TRACE_PY","key":"b","kind":"integer","values":[2]}');
  });
});
