// How items beyond round-off are read as findings (onsets.ts) and related to each other
// (relations.ts): table-driven on short traces built from real-looking lines, with the reading each
// rule gives and the cases where it must not fire.
import { describe, expect, it } from 'vitest';
import { compareTraces, type CompareOptions, type ComparedItem, type Comparison } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';

const run = (c: string[], py: string[], options: CompareOptions = {}): Comparison =>
  compareTraces(parseTraceText(c.join('\n') + '\n'), parseTraceText(py.join('\n') + '\n'), options);
const item = (c: Comparison, name: string): ComparedItem => c.items.find((i) => i.name === name)!;
const names = (c: Comparison) => c.findings.map((f) => f.name);

describe('findings', () => {
  it('an item with the same values as an earlier one (a per-phi record repeating the chain) reads with it', () => {
    const c = run(
      ['TRACE_C: F_latt -2.38319665299058', 'TRACE_C_PHI phi_tic=0 F_latt=-2.38319665299058'],
      ['TRACE_PY: F_latt 1.3517866940893', 'TRACE_PY_PHI phi_tic=0 F_latt=1.3517866940893'],
      { matchBy: 'phi_tic' },
    );
    expect(names(c)).toEqual(['F_latt']);
    expect(item(c, 'TRACE_C_PHI[phi_tic=0].F_latt').relation).toEqual({ kind: 'repeat', item: 0 });
  });

  it('a downstream drift after the first divergence is not a new finding, even across agreeing values', () => {
    const c = run(
      ['TRACE_C: pixel_pos_meters 0.12 0.00505 -0.00605', 'TRACE_C: close_distance_meters 0.12', 'TRACE_C: obliquity_factor 0.997850526658012', 'TRACE_C: I 31358808.8953488'],
      ['TRACE_PY: pixel_pos_meters 0.12 0.0051 -0.0061', 'TRACE_PY: close_distance_meters 0.12', 'TRACE_PY: obliquity_factor 0.997812062720477', 'TRACE_PY: I 17030938.0699914'],
    );
    expect(names(c)).toEqual(['pixel_pos_meters']);
    expect(item(c, 'obliquity_factor').relation).toMatchObject({ kind: 'downstream' });
    expect(item(c, 'I').finding).toBe(0);
  });

  it('a same-sign jump by orders of magnitude after values agreed again is a new finding; its product with another finding is not', () => {
    const c = run(
      ['TRACE_C: I_before_scaling 943654.80923755', 'TRACE_C: r_e_sqr 7.94079248018965e-30', 'TRACE_C: fluence 1e+24', 'TRACE_C: polar 0.91463969894451', 'TRACE_C: I_pixel_final 2.88139542684698e-07'],
      ['TRACE_PY: I_before_scaling 805465.25', 'TRACE_PY: r_e_sqr 7.94079248018965e-30', 'TRACE_PY: fluence 1.25932017574725e+29', 'TRACE_PY: polar 0.91463969894451', 'TRACE_PY: I_pixel_final 0.0309722255915403'],
    );
    expect(names(c)).toEqual(['I_before_scaling', 'fluence']);
    expect(c.findings[1]!.reason).toBe('after-agreement');
    expect(item(c, 'I_pixel_final').relation).toMatchObject({ kind: 'combination', items: [0, 2] });
    expect(item(c, 'I_pixel_final').diagnoses![0]!.message).toMatch(/= I_before_scaling's 0\.853559 × fluence's 125932/);
  });

  it('a sign flip of a steep function after agreement is read as a consequence, not a finding', () => {
    const c = run(
      ['TRACE_C: incident_vec 0 0 0', 'TRACE_C: omega 5.52540430832495e-07', 'TRACE_C: cos_2theta -0.0137539217011681'],
      ['TRACE_PY: incident_vec 1 0 0', 'TRACE_PY: omega 5.52540430832495e-07', 'TRACE_PY: cos_2theta 0.999664843082428'],
    );
    expect(names(c)).toEqual(['incident_vec']);
  });

  it('a moderate difference between garbage and agreement is a new finding; inside garbage it is not', () => {
    const garbage = ['TRACE_C: hkl 1 3 -4', 'TRACE_C: F_latt_a -2.21017033816669', 'TRACE_C: F_latt_c 9.03803453110035', 'TRACE_C: F_latt 49.7653094406618'];
    const portGarbage = ['TRACE_PY: hkl 0 0 0', 'TRACE_PY: F_latt_a 10', 'TRACE_PY: F_latt_c 10', 'TRACE_PY: F_latt 1000'];
    const inside = run(garbage, portGarbage);
    expect(names(inside)).toEqual(['hkl']);
    const after = run([...garbage, 'TRACE_C: I 943654.80923755', 'TRACE_C: r_e 2.81794117756025e-15'], [...portGarbage, 'TRACE_PY: I 805465.25', 'TRACE_PY: r_e 2.81794117756025e-15']);
    expect(names(after)).toEqual(['hkl', 'I']);
    expect(after.findings[1]!.reason).toBe('after-large');
  });

  it('a new unit factor or a simple fraction starts a finding even right after other divergences', () => {
    const c = run(['TRACE_C: a 1.5', 'TRACE_C: steps 4', 'TRACE_C: lambda_meters 9.768e-11'], ['TRACE_PY: a 1.6', 'TRACE_PY: steps 2', 'TRACE_PY: lambda_meters 0.9768']);
    expect(names(c)).toEqual(['a', 'steps', 'lambda_meters']);
    expect(c.findings.slice(1).map((f) => f.reason)).toEqual(['new-factor', 'new-factor']);
  });

  it('items off by the same unit factor as a finding read with it, even after agreement', () => {
    const c = run(
      ['TRACE_C: rot_a 57.07 10.06 -15.53', 'TRACE_C: star 0.0172546030068347 0 0', 'TRACE_C: hkl 1.08117446036483 2.92097136170246 -4.02466379085398'],
      ['TRACE_PY: rot_a 5.707e-9 1.006e-9 -1.553e-9', 'TRACE_PY: star 0.0172546030068347 0 0', 'TRACE_PY: hkl 1.08117446036483e-10 2.92097136170246e-10 -4.02466379085398e-10'],
    );
    expect(names(c)).toEqual(['rot_a']);
    expect(item(c, 'hkl').relation).toEqual({ kind: 'same-factor', item: 0 });
  });

  it('keeps the strict first divergence separate from the headline, and judges fail_on on what lies beyond round-off', () => {
    const f32 = (x: number) => Number(Math.fround(x).toPrecision(15));
    const ref = ['TRACE_C: pix0 0.231274660 0.022188 -0.022188', 'TRACE_C: a 0.123456789012345', 'TRACE_C: b 0.3', 'TRACE_C: c 0.7', 'TRACE_C: d 0.9'];
    const port = [`TRACE_PY: pix0 ${[0.23127466, 0.022188, -0.022188].map(f32).join(' ')}`, `TRACE_PY: a ${f32(0.123456789012345)}`, `TRACE_PY: b ${f32(0.3)}`, `TRACE_PY: c ${f32(0.7)}`, `TRACE_PY: d ${f32(0.9)}`];
    // At a float64 tolerance with `minor` tiny, float32 rounding is DIVERGENT yet round-off.
    const strict = run(ref, port, { tolerance: { rel: 1e-12, minor: 1e-12 }, failOn: 'divergent' });
    expect(strict.verdict).toBe('DIVERGENT');
    expect(strict.findingVerdict).toBe('MATCH');
    expect(strict.totals.roundOff).toBe(5);
    expect(strict.findings).toEqual([]);
    expect(strict.firstDivergence?.name).toBe('pix0');
    expect(strict.failed).toBe(false);
    // A real difference beyond round-off fails it.
    const real = run(ref, [...port.slice(0, 4), 'TRACE_PY: d 0.91'], { tolerance: { rel: 1e-12, minor: 1e-12 }, failOn: 'divergent' });
    expect(real.findings.map((f) => f.name)).toEqual(['d']);
    expect(real.failed).toBe(true);
  });
});

describe('relations between items', () => {
  const phiC = [
    'TRACE_C_PHI phi_tic=0 k_frac=2.92097136170246 F_latt_b=-2.49130538329493',
    'TRACE_C_PHI phi_tic=1 k_frac=2.92090809060383 F_latt_b=-2.48295767149481',
    'TRACE_C_PHI phi_tic=2 k_frac=2.92084473052926 F_latt_b=-2.47460159275907',
  ];

  it('names the reference record a stale port value equals', () => {
    const c = run(phiC, [
      'TRACE_PY_PHI phi_tic=0 k_frac=2.92097136170246 F_latt_b=-2.49130538329493',
      'TRACE_PY_PHI phi_tic=1 k_frac=2.92090809060383 F_latt_b=-2.49130538329493',
      'TRACE_PY_PHI phi_tic=2 k_frac=2.92084473052926 F_latt_b=-2.49130538329493',
    ], { matchBy: 'phi_tic' });
    expect(item(c, 'TRACE_C_PHI[phi_tic=1].F_latt_b').diagnoses![0]!.message).toMatch(/^port phi_tic=1 equals reference phi_tic=0/);
    expect(item(c, 'TRACE_C_PHI[phi_tic=2].F_latt_b').diagnoses![0]!.message).toMatch(/^port phi_tic=2 equals reference phi_tic=0/);
    expect(names(c)).toEqual(['TRACE_C_PHI[phi_tic=1].F_latt_b']);
  });

  it('names a reference record that repeats another while the port’s follow their trend (the C carry-over)', () => {
    const ref = ['TRACE_C_PHI phi_tic=0 k_frac=-0.607255839576692', 'TRACE_C_PHI phi_tic=1 k_frac=-0.591177727127411', 'TRACE_C_PHI phi_tic=2 k_frac=-0.607255839576692'];
    const port = ['TRACE_PY_PHI phi_tic=0 k_frac=-0.589139352775903', 'TRACE_PY_PHI phi_tic=1 k_frac=-0.591177727127411', 'TRACE_PY_PHI phi_tic=2 k_frac=-0.607255839576692'];
    const c = run(ref, port, { matchBy: 'phi_tic' });
    expect(item(c, 'TRACE_C_PHI[phi_tic=0].k_frac').diagnoses![0]!.message).toMatch(/^reference phi_tic=0 equals reference phi_tic=2 while the port's differ/);
  });

  it('does not call equal integers a carry-over', () => {
    const c = run(['TRACE_C: steps 4', 'TRACE_C: steps 2'], ['TRACE_PY: steps 2', 'TRACE_PY: steps 2']);
    expect(item(c, 'steps#0').diagnoses!.some((d) => d.kind === 'carry-over')).toBe(false);
  });

  it('finds a difference along a traced vector, in units of a traced size', () => {
    const setup = ['beam_center_m=X:1.005e-05 Y:1.005e-05 pixel_mm:0.1', ' fdet_vec 0 0 1', ' sdet_vec 0 -1 0'];
    const c = run([...setup.map((l) => `TRACE_C:${l}`), 'TRACE_C: pixel_pos_meters 0.12 0.00505 -0.00605'], [...setup.map((l) => `TRACE_PY:${l}`), 'TRACE_PY: pixel_pos_meters 0.12 0.00505 -0.006']);
    expect(item(c, 'pixel_pos_meters').diagnoses![0]!.message).toMatch(/^Δ ∥ fdet_vec \(the fast axis\): Δ = 0\.5 × beam_center_m\.pixel_mm \(mm → m\) along fdet_vec/);
    const both = run([...setup.map((l) => `TRACE_C:${l}`), 'TRACE_C: pixel_pos_meters 0.12 0.00505 -0.00605'], [...setup.map((l) => `TRACE_PY:${l}`), 'TRACE_PY: pixel_pos_meters 0.12 0.0051 -0.0061']);
    expect(item(both, 'pixel_pos_meters').diagnoses![0]!.message).toBe(
      'Δ = −0.5 × beam_center_m.pixel_mm (mm → m) along fdet_vec (the fast axis) and −0.5 × beam_center_m.pixel_mm (mm → m) along sdet_vec (the slow axis)',
    );
  });

  it('claims no shift for a difference along no traced vector, nor a size whose name does not say so', () => {
    const c = run(
      ['TRACE_C: distance_m 0.1', 'TRACE_C: fdet_vec 0 0 1', 'TRACE_C: pix0 -0.216475836204836 0.216343050492215 -0.230192414300537', 'TRACE_C: p 0.12 0.00505 -0.00605'],
      ['TRACE_PY: distance_m 0.1', 'TRACE_PY: fdet_vec 0 0 1', 'TRACE_PY: pix0 -0.216336293 0.215205512 -0.230200866', 'TRACE_PY: p 0.12 0.00505 -0.0061'],
    );
    expect(item(c, 'pix0').diagnoses).toEqual([]);
    // Δ = −5e-5 along fdet: distance_m × 1e-3 × 0.5 fits the number but not the name.
    expect(item(c, 'p').diagnoses![0]!.message).toMatch(/^Δ ∥ fdet_vec \(the fast axis\): Δ = -5e-5 along fdet_vec/);
  });
});
