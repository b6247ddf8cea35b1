// Table-driven tests of compareTraces on traces parsed from real-looking lines, plus property tests.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareComponents, compareTraces, traceFamily, type CompareOptions, type ComparedItem } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';
import type { Num, TraceDocument, TraceRecord } from '../../stages/trace/record.js';

const trace = (...lines: string[]): TraceDocument => parseTraceText(lines.join('\n') + '\n');
const item = (items: ComparedItem[], name: string): ComparedItem => {
  const found = items.find((i) => i.name === name);
  if (!found) throw new Error(`no item ${name}; have ${items.map((i) => i.name).join(', ')}`);
  return found;
};

describe('status of one compared value', () => {
  const cases: Array<{ what: string; c: string; py: string; status: string; options?: CompareOptions }> = [
    { what: 'identical scalars', c: 'F_latt 35.8890618450812', py: 'F_latt 35.8890618450812', status: 'MATCH' },
    { what: 'a difference within rel 1e-6', c: 'F_latt 35.8890618450812', py: 'F_latt 35.88906', status: 'MATCH' },
    { what: 'a difference of rel 1e-4 (beyond tolerance, below minor)', c: 'F_latt 100', py: 'F_latt 100.01', status: 'MINOR' },
    { what: 'a difference of rel 3e-2', c: 'k_frac -0.607255839576692', py: 'k_frac -0.589139352775903', status: 'DIVERGENT' },
    { what: 'a factor of 2', c: 'steps 4', py: 'steps 2', status: 'DIVERGENT' },
    { what: 'an order of magnitude', c: 'fluence 1.25932015286227e+29', py: 'fluence 1.273239544735163e+20', status: 'CRITICAL' },
    { what: 'zero against non-zero', c: 'lambda_meters 0', py: 'lambda_meters 9.768e-11', status: 'CRITICAL' },
    { what: 'a sign flip', c: 'F_latt -2.38319665299058', py: 'F_latt 2.38319665299058', status: 'CRITICAL' },
    { what: 'nan on one side', c: 'hkl_frac -nan -inf -nan', py: 'hkl_frac 0.41 -0.42 0.40', status: 'CRITICAL' },
    { what: 'nan on both sides', c: 'x nan', py: 'x -nan', status: 'MATCH' },
    { what: 'the same infinity', c: 'x inf', py: 'x inf', status: 'MATCH' },
    { what: 'opposite infinities', c: 'x inf', py: 'x -inf', status: 'CRITICAL' },
    { what: 'integers exactly: off by one in a million', c: 'count 1000000', py: 'count 1000001', status: 'DIVERGENT' },
    { what: 'an integer against the float a port prints', c: 'capture_fraction 1', py: 'capture_fraction 1.000000000000000e+00', status: 'MATCH' },
    { what: 'equal strings', c: 'convention=MOSFLM', py: 'convention=MOSFLM', status: 'MATCH' },
    { what: 'different strings', c: 'convention=MOSFLM', py: 'convention=CUSTOM', status: 'DIVERGENT' },
    { what: 'text against a number', c: 'convention=MOSFLM', py: 'convention=1', status: 'CRITICAL' },
    { what: 'a vector against a scalar', c: 'v 1 2 3', py: 'v 1', status: 'CRITICAL' },
    { what: 'matrices of different shape', c: 'R=[1 0; 0 1]', py: 'R=[1 0 0; 0 1 0; 0 0 1]', status: 'CRITICAL' },
    {
      what: 'round-off zeros in a vector of size 100',
      c: 'rot_a_angstroms 100 6.12323399573677e-15 6.12323399573677e-15',
      py: 'rot_a_angstroms 100 0 1e-17',
      status: 'MATCH',
    },
    { what: 'a tiny scalar against zero without an abs floor', c: 'x 0', py: 'x 1e-20', status: 'CRITICAL' },
    { what: 'a tiny scalar against zero with abs 1e-15', c: 'x 0', py: 'x 1e-20', status: 'MATCH', options: { tolerance: { abs: 1e-15 } } },
    { what: 'r_e_sqr off by 6e-7 relative', c: 'r_e_sqr 7.94079248018965e-30', py: 'r_e_sqr 7.940787662298581e-30', status: 'MATCH' },
    { what: 'r_e_sqr off by a factor 2 (no fixed floor hides it)', c: 'r_e_sqr 7.94079248018965e-30', py: 'r_e_sqr 1.58815849603793e-29', status: 'DIVERGENT' },
    { what: 'a looser rel makes rel 1e-4 a MATCH', c: 'F_latt 100', py: 'F_latt 100.01', status: 'MATCH', options: { tolerance: { rel: 1e-3 } } },
    { what: 'labelled parts', c: 'angles_rad=rotx:0 roty:0 rotz:0', py: 'angles_rad=rotx:0 roty:0 rotz:0.5', status: 'CRITICAL' },
  ];
  it.each(cases)('$what → $status', ({ c, py, status, options }) => {
    const sep = (l: string) => (l.includes('=') && !l.includes(' ') ? ':' : ': ');
    const ref = trace(`TRACE_C${sep(c)}${c}`);
    const port = trace(`TRACE_PY${sep(py)}${py}`);
    const cmp = compareTraces(ref, port, options);
    expect(cmp.items).toHaveLength(1);
    expect(cmp.items[0].status).toBe(status);
  });

  it('reports abs, rel, the signed delta (port − reference) and the worst component', () => {
    const cmp = compareTraces(
      trace('TRACE_C: pix0_vector_meters -0.216475836204836 0.216343050492215 -0.230192414300537'),
      trace('TRACE_PY: pix0_vector_meters -0.216336293 0.215205512 -0.230200866'),
    );
    const it0 = cmp.items[0];
    expect(it0.worst).toBe(1);
    expect(it0.delta).toBeCloseTo(0.215205512 - 0.216343050492215, 15);
    expect(it0.abs).toBeCloseTo(Math.abs(0.215205512 - 0.216343050492215), 15);
    expect(it0.rel).toBeCloseTo(Math.abs(0.215205512 - 0.216343050492215) / 0.230200866, 12);
    expect(it0.deltas).toHaveLength(3);
    expect(it0.deltas![0]).toBeCloseTo(-0.216336293 - -0.216475836204836, 15);
  });

  it('compareComponents is usable on its own', () => {
    expect(compareComponents([1, 2, 3], [1, 2, 3]).status).toBe('MATCH');
    expect(compareComponents([1], ['NaN']).status).toBe('CRITICAL');
    expect(compareComponents([4], [2], {}, true)).toMatchObject({ status: 'DIVERGENT', ratio: 0.5, delta: -2, worst: 0 });
  });
});

describe('alignment', () => {
  it('pairs repeated keys by occurrence and names them key#n', () => {
    const cmp = compareTraces(
      trace('TRACE_C: F_latt 1', 'TRACE_C: F_cell 5', 'TRACE_C: F_latt 2', 'TRACE_C: F_latt 3'),
      trace('TRACE_PY: F_latt 1', 'TRACE_PY: F_latt 2.5', 'TRACE_PY: F_cell 5', 'TRACE_PY: F_latt 3'),
    );
    expect(cmp.items.map((i) => [i.name, i.status])).toEqual([
      ['F_latt#0', 'MATCH'],
      ['F_cell', 'MATCH'],
      ['F_latt#1', 'DIVERGENT'],
      ['F_latt#2', 'MATCH'],
    ]);
    expect(item(cmp.items, 'F_latt#1').occurrence).toBe(1);
    expect(cmp.firstDivergence?.name).toBe('F_latt#1');
  });

  it('reports keys present in one trace only as MISSING, both ways', () => {
    const cmp = compareTraces(
      trace('TRACE_C: a 1', 'TRACE_C: only_c 2', 'TRACE_C: b 3'),
      trace('TRACE_PY: a 1', 'TRACE_PY: b 3', 'TRACE_PY: only_py 4'),
    );
    expect(cmp.items.map((i) => [i.name, i.status])).toEqual([
      ['a', 'MATCH'],
      ['only_c', 'MISSING'],
      ['b', 'MATCH'],
      ['only_py', 'MISSING'],
    ]);
    expect(item(cmp.items, 'only_c')).toMatchObject({ reference: [2], port: null });
    expect(item(cmp.items, 'only_py')).toMatchObject({ reference: null, port: [4] });
    expect(cmp.totals).toMatchObject({ MATCH: 2, MISSING: 2, compared: 4 });
    expect(cmp.firstDivergence).toBeNull();
    expect(cmp.firstNonMatch).toMatchObject({ name: 'only_c', status: 'MISSING' });
    expect(cmp.verdict).toBe('MATCH');
  });

  it('extra repetitions on one side are MISSING, the shared ones compared', () => {
    const cmp = compareTraces(trace('TRACE_C: steps 4', 'TRACE_C: steps 4'), trace('TRACE_PY: steps 4'));
    expect(cmp.items.map((i) => [i.name, i.status])).toEqual([
      ['steps#0', 'MATCH'],
      ['steps#1', 'MISSING'],
    ]);
  });

  const phiC = [
    'TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=-0.607255839576692 F_latt=-2.38319665299058',
    'TRACE_C_PHI phi_tic=1 phi_deg=0.01 k_frac=-0.591177727127411 F_latt=1.09860741704307',
    'TRACE_C_PHI phi_tic=2 phi_deg=0.02 k_frac=-0.593187745641004 F_latt=0.679724660042308',
  ];
  const phiPy = [
    'TRACE_PY_PHI phi_tic=2 phi_deg=0.02 k_frac=-0.593187745641004 F_latt=0.679724660042308',
    'TRACE_PY_PHI phi_tic=1 phi_deg=0.01 k_frac=-0.591177727127411 F_latt=1.09860741704307',
    'TRACE_PY_PHI phi_tic=0 phi_deg=0 k_frac=-0.589139352775903 F_latt=1.3517866940893',
  ];

  it('pairs record lines by a field (phi_tic), across TRACE_C_PHI and TRACE_PY_PHI, field by field', () => {
    const cmp = compareTraces(trace('TRACE_C: F_cell 190.27', ...phiC), trace('TRACE_PY: F_cell 190.27', ...phiPy), { matchBy: 'phi_tic' });
    expect(cmp.port.family).toBe('TRACE_PY');
    const names = cmp.items.map((i) => i.name);
    expect(names).toEqual([
      'F_cell',
      'TRACE_C_PHI[phi_tic=0].phi_deg',
      'TRACE_C_PHI[phi_tic=0].k_frac',
      'TRACE_C_PHI[phi_tic=0].F_latt',
      'TRACE_C_PHI[phi_tic=1].phi_deg',
      'TRACE_C_PHI[phi_tic=1].k_frac',
      'TRACE_C_PHI[phi_tic=1].F_latt',
      'TRACE_C_PHI[phi_tic=2].phi_deg',
      'TRACE_C_PHI[phi_tic=2].k_frac',
      'TRACE_C_PHI[phi_tic=2].F_latt',
    ]);
    const k0 = item(cmp.items, 'TRACE_C_PHI[phi_tic=0].k_frac');
    expect(k0).toMatchObject({ key: 'TRACE_C_PHI', portKey: 'TRACE_PY_PHI', field: 'k_frac', match: { field: 'phi_tic', value: 0 }, status: 'DIVERGENT' });
    expect(cmp.items.filter((i) => i.status !== 'MATCH').map((i) => i.name)).toEqual([
      'TRACE_C_PHI[phi_tic=0].k_frac',
      'TRACE_C_PHI[phi_tic=0].F_latt',
    ]);
    expect(cmp.firstDivergence?.name).toBe('TRACE_C_PHI[phi_tic=0].k_frac');
  });

  it('match_by may name the record group in either spelling', () => {
    for (const matchBy of [{ TRACE_C_PHI: 'phi_tic' }, { TRACE_PY_PHI: 'phi_tic' }]) {
      const cmp = compareTraces(trace(...phiC), trace(...phiPy), { matchBy });
      expect(cmp.items.filter((i) => i.status !== 'MATCH')).toHaveLength(2);
    }
  });

  it('without match_by, record lines pair by occurrence (and the reordered port disagrees)', () => {
    const cmp = compareTraces(trace(...phiC), trace(...phiPy));
    expect(item(cmp.items, 'TRACE_C_PHI#0.phi_deg').status).toBe('CRITICAL'); // 0 against 0.02
    expect(item(cmp.items, 'TRACE_C_PHI#0.phi_tic').status).toBe('CRITICAL');
  });

  it('aliases pair a port key with a differently named reference key', () => {
    const cmp = compareTraces(
      trace('TRACE_C: F_latt 0.0049', 'TRACE_C: F_cell 100'),
      trace('TRACE_PY: F_latt 0.0049', 'TRACE_PY: F_cell_interpolated 90.9398040771484'),
      { aliases: { F_cell_interpolated: 'F_cell' } },
    );
    expect(cmp.items).toHaveLength(2);
    expect(item(cmp.items, 'F_cell')).toMatchObject({ key: 'F_cell', portKey: 'F_cell_interpolated', status: 'DIVERGENT' });
  });

  it('ignore globs leave items out and count them', () => {
    const cmp = compareTraces(
      trace('TRACE_C: a 1', 'TRACE_C: b 2'),
      trace('TRACE_PY: a 1', 'TRACE_PY: spindle_axis_raw 0 0 1', 'TRACE_PY_TRICUBIC: [0,0,0]=181.3', 'TRACE_PY_TRICUBIC: [0,0,1]=156.6', 'TRACE_PY: b 2'),
      { ignore: ['TRACE_PY_TRICUBIC*', 'spindle_*'] },
    );
    expect(cmp.items.map((i) => i.name)).toEqual(['a', 'b']);
    expect(cmp.totals.ignored).toBe(3);
    expect(cmp.verdict).toBe('MATCH');
  });

  it('ignore can single out one occurrence or one field', () => {
    const cmp = compareTraces(
      trace('TRACE_C: F_latt 1', 'TRACE_C: F_latt 2', 'TRACE_C_PHI phi_tic=0 k_frac=1 F_latt=2'),
      trace('TRACE_PY: F_latt 1', 'TRACE_PY: F_latt 5', 'TRACE_PY_PHI phi_tic=0 k_frac=9 F_latt=2'),
      { ignore: ['F_latt#1', 'TRACE_C_PHI[phi_tic=0].k_frac'], matchBy: 'phi_tic' },
    );
    expect(cmp.items.map((i) => i.name)).toEqual(['F_latt#0', 'TRACE_C_PHI[phi_tic=0].F_latt']);
    expect(cmp.totals.ignored).toBe(2);
  });

  it('per-key tolerance globs apply to fields in either spelling; later entries override earlier ones', () => {
    const c = trace('TRACE_C_PHI phi_tic=1 k_frac=-0.591177727127411 F_latt=1.09860741704307', 'TRACE_C: polar 0.5');
    const py = trace('TRACE_PY_PHI phi_tic=1 k_frac=-0.591149425118622 F_latt=1.09860741704307', 'TRACE_PY: polar 0.5001');
    const strict = compareTraces(c, py, { matchBy: 'phi_tic' });
    expect(item(strict.items, 'TRACE_C_PHI[phi_tic=1].k_frac').status).toBe('MINOR');
    for (const pattern of ['*.k_frac', 'TRACE_PY_PHI.k_frac', 'k_frac']) {
      const loose = compareTraces(c, py, { matchBy: 'phi_tic', tolerance: { keys: { [pattern]: { abs: 5e-4 } } } });
      const k = item(loose.items, 'TRACE_C_PHI[phi_tic=1].k_frac');
      expect(k.status, pattern).toBe('MATCH');
      expect(k.tolerance).toEqual({ rel: 1e-6, abs: 5e-4, minor: 1e-3 });
      expect(item(loose.items, 'polar').status).toBe('MINOR');
    }
    const override = compareTraces(c, py, { tolerance: { keys: { 'pol*': { rel: 1e-2 }, polar: { rel: 1e-9 } } } });
    expect(item(override.items, 'polar').status).toBe('MINOR');
  });
});

describe('first divergence and checkpoints', () => {
  const ref = trace('TRACE_C: pix0 1 2 3', 'TRACE_C: hkl 1.5', 'TRACE_C: F_latt 10', 'TRACE_C: F_cell 5', 'TRACE_C: I_pixel 100');

  it('names the first item beyond tolerance, a MINOR one included, as the first divergence', () => {
    const port = trace('TRACE_PY: pix0 1 2 3.0001', 'TRACE_PY: hkl 1.6', 'TRACE_PY: F_latt 12', 'TRACE_PY: F_cell 5', 'TRACE_PY: I_pixel 150');
    const cmp = compareTraces(ref, port, { checkpoints: ['pix0', 'hkl', 'F_latt', 'nope'] });
    expect(cmp.firstNonMatch).toMatchObject({ name: 'pix0', status: 'MINOR', index: 0 });
    expect(cmp.firstDivergence).toMatchObject({ name: 'pix0', status: 'MINOR', index: 0 });
    expect(cmp.divergences).toEqual([0, 1, 2, 4]);
    expect(cmp.checkpoints).toEqual([
      { key: 'pix0', index: 0, status: 'MINOR', relation: 'at' },
      { key: 'hkl', index: 1, status: 'DIVERGENT', relation: 'upstream' },
      { key: 'F_latt', index: 2, status: 'DIVERGENT', relation: 'upstream' },
      { key: 'nope', index: null, status: null, relation: 'not-found' },
    ]);
    expect(cmp.verdict).toBe('DIVERGENT');
  });

  it('says no-divergence for checkpoints when everything matches, and records fail_on', () => {
    const cmp = compareTraces(ref, trace('TRACE_PY: pix0 1 2 3', 'TRACE_PY: hkl 1.5', 'TRACE_PY: F_latt 10', 'TRACE_PY: F_cell 5', 'TRACE_PY: I_pixel 100'), {
      checkpoints: ['F_latt'],
    });
    expect(cmp.checkpoints[0]).toEqual({ key: 'F_latt', index: 2, status: 'MATCH', relation: 'no-divergence' });
    expect(cmp.failed).toBe(false);
    expect(cmp.options.fail_on).toBe('never');
  });

  it.each([
    ['divergent', 'DIVERGENT', true],
    ['critical', 'DIVERGENT', false],
    ['never', 'DIVERGENT', false],
    ['critical', 'CRITICAL', true],
  ] as const)('fail_on %s with verdict %s → failed %s', (failOn, verdict, failed) => {
    const port = trace(verdict === 'CRITICAL' ? 'TRACE_PY: pix0 -1 2 3' : 'TRACE_PY: pix0 1 2 3.5');
    const cmp = compareTraces(trace('TRACE_C: pix0 1 2 3'), port, { failOn });
    expect(cmp.verdict).toBe(verdict);
    expect(cmp.failed).toBe(failed);
  });

  it('a checkpoint on a record field (TRACE_C_PHI.k_frac) counts as at when that field diverges first', () => {
    const cmp = compareTraces(
      trace('TRACE_C: F_cell 1', 'TRACE_C_PHI phi_tic=0 k_frac=1 F_latt=2'),
      trace('TRACE_PY: F_cell 1', 'TRACE_PY_PHI phi_tic=0 k_frac=1.5 F_latt=2'),
      { matchBy: 'phi_tic', checkpoints: ['TRACE_C_PHI.k_frac', 'TRACE_PY_PHI.F_latt', 'F_cell'] },
    );
    expect(cmp.checkpoints.map((c) => c.relation)).toEqual(['at', 'upstream', 'downstream']);
  });
});

describe('trace families', () => {
  it('finds the main family under sub-families and noise prefixes', () => {
    const py = trace(
      'TRACE_PY: a 1',
      'TRACE_PY: b 2',
      ...Array.from({ length: 10 }, (_, i) => `TRACE_PY_TRICUBIC: [0,0,${i}]=1`),
      'TRACE_PY_TRICUBIC_H_COORDS: [-1.0, 0.0, 1.0, 2.0]',
    );
    expect(traceFamily(py)).toBe('TRACE_PY');
    expect(traceFamily(trace('TRACE_PY_PHI phi_tic=0 k_frac=1'))).toBe('TRACE_PY');
    expect(traceFamily(trace('TRACE_C: a 1', 'TRACE_CONFIG: tracing pixel (spixel=1, fpixel=2)', 'TRACE_C_PHI phi_tic=0 k=1'))).toBe('TRACE_C');
  });

  it('a prefix outside the family pairs only with the same prefix', () => {
    const cmp = compareTraces(trace('TRACE_C: a 1', 'TRACE_CONFIG: tracing x'), trace('TRACE_PY: a 1', 'TRACE_CONFIG: tracing x'));
    expect(cmp.items.map((i) => [i.name, i.status])).toEqual([
      ['a', 'MATCH'],
      ['TRACE_CONFIG:tracing', 'MATCH'],
    ]);
  });

  it('families can be set by hand', () => {
    const cmp = compareTraces(trace('TRACE_C: a 1'), trace('TRACE_TS: a 1'), { families: { reference: 'TRACE_C', port: 'TRACE_TS' } });
    expect(cmp.items[0].status).toBe('MATCH');
  });
});

describe('properties', () => {
  const num = fc.oneof(
    fc.double({ noNaN: false }),
    fc.constantFrom<Num>('NaN', 'Infinity', '-Infinity', 0, -0, 1e-300),
  );
  const record = fc.record({
    prefix: fc.constantFrom('TRACE_C', 'TRACE_C_PHI', 'TRACE_PY', 'TRACE_PY_PHI', 'TRACE_X'),
    key: fc.constantFrom('a', 'b', 'F_latt', 'k_frac', '[0,0,0]'),
    kind: fc.constantFrom('number', 'integer', 'vector', 'matrix', 'string', 'parts', 'record'),
    values: fc.array(num, { minLength: 1, maxLength: 4 }),
    text: fc.string(),
  });
  const doc = fc.array(record, { maxLength: 30 }).map((rs): TraceDocument => {
    const records: TraceRecord[] = rs.map((r, i) => {
      const base = { seq: i, line: i + 1, prefix: r.prefix, key: r.kind === 'record' ? r.prefix : r.key, kind: r.kind as TraceRecord['kind'] };
      switch (r.kind) {
        case 'string':
          return { ...base, text: r.text };
        case 'parts':
          return { ...base, parts: r.values.map((v, k) => ({ label: `l${k}`, value: v })) };
        case 'record':
          return { ...base, fields: Object.fromEntries(r.values.map((v, k) => [k === 0 ? 'phi_tic' : `f${k}`, v])) };
        case 'matrix':
          return { ...base, values: r.values, shape: [1, r.values.length] as [number, number] };
        default:
          return { ...base, values: r.kind === 'vector' ? r.values : [r.values[0]] };
      }
    });
    return { format: 'evidence-trace/1', source: 'gen', prefixes: [...new Set(records.map((r) => r.prefix))], records, stats: { lines: 0, records: 0, ignored: 0, bytes: 0 } };
  });

  it('never throws, totals add up, and every record is accounted for', () => {
    fc.assert(
      fc.property(doc, doc, fc.boolean(), (a, b, byPhi) => {
        const cmp = compareTraces(a, b, byPhi ? { matchBy: 'phi_tic', checkpoints: ['a'] } : {});
        const t = cmp.totals;
        expect(t.MATCH + t.MINOR + t.DIVERGENT + t.CRITICAL + t.MISSING).toBe(cmp.items.length);
        expect(JSON.parse(JSON.stringify(cmp)).items).toHaveLength(cmp.items.length);
        if (cmp.firstDivergence) expect(['DIVERGENT', 'CRITICAL']).toContain(cmp.items[cmp.firstDivergence.index].status);
      }),
      { numRuns: 300 },
    );
  });

  it('a trace compared with itself matches everywhere', () => {
    fc.assert(
      fc.property(doc, (a) => {
        const cmp = compareTraces(a, a);
        expect(cmp.items.every((i) => i.status === 'MATCH')).toBe(true);
        expect(cmp.firstDivergence).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
