// Table-driven tests of the diagnoses: what explanation the numbers support, and none when they do not.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { agreesInFloat32, diagnose, simpleFraction, ulp32, unitFactorOf, type Component, type DiagnosisKind } from '../../stages/trace/diagnose.js';
import { compareTraces } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';

const f32 = (xs: number[]) => xs.map((x) => Math.fround(x));

describe('diagnose', () => {
  const cases: Array<{ what: string; r: Component[]; p: Component[]; kind: DiagnosisKind; check?: Record<string, unknown> }> = [
    {
      what: 'm⁻¹ printed against Å⁻¹ (port = ref × 1e-10)',
      r: [-49.9999996961265, 999999.99749989, -999999.99749989],
      p: [-4.999999969612645e-9, 9.99999997500445e-5, -9.99999997500445e-5],
      kind: 'unit-factor',
      check: { power: -10 },
    },
    { what: 'Å against m (port = ref × 1e10)', r: [9.768e-11], p: [0.9768], kind: 'unit-factor', check: { power: 10 } },
    { what: 'mm against m', r: [231.27466, 22.188, -22.188], p: [0.23127466, 0.022188, -0.022188], kind: 'unit-factor', check: { power: -3 } },
    { what: 'rad against deg', r: [0.0174532925199433], p: [1], kind: 'unit-factor', check: { units: expect.stringContaining('rad ↔ deg') } },
    { what: 'deg against rad', r: [90], p: [Math.PI / 2], kind: 'unit-factor', check: { units: expect.stringContaining('rad ↔ deg') } },
    { what: 'a factor 2π', r: [1.0238], p: [1.0238 * 2 * Math.PI], kind: 'unit-factor', check: { units: expect.stringContaining('2π') } },
    { what: 'a count that differs by 2 (steps 4 vs 2)', r: [4], p: [2], kind: 'scale-factor', check: { ratio: 0.5, message: expect.stringContaining('reference = port × 2') } },
    { what: 'a factor 1/5 (F_latt_a 5 vs 1)', r: [4.99999999995065], p: [0.9999999999995889], kind: 'scale-factor', check: { ratio: expect.closeTo(0.2, 9) } },
    { what: 'a whole-vector sign flip', r: [0.1, -0.2, 0.3], p: [-0.1, 0.2, -0.3], kind: 'sign-flip' },
    { what: 'a scalar sign flip', r: [-2.38319665299058], p: [2.38319665299058], kind: 'sign-flip' },
    { what: 'one axis flipped (a convention)', r: [0.5, 0.10245, -0.10245], p: [0.5, -0.10245, -0.10245], kind: 'sign-flip', check: { components: [1] } },
    { what: 'swapped components', r: [0.1, 0.2, 0.3], p: [0.2, 0.1, 0.3], kind: 'permutation', check: { map: [1, 0, 2], signs: [1, 1, 1] } },
    { what: 'a rotated basis (signed permutation)', r: [0, 0, 1], p: [-1, 0, 0], kind: 'permutation', check: { map: [2, 1, 0] } },
    { what: 'float32 agreement', r: [0.231274660, 0.022188, -0.022188], p: f32([0.231274660, 0.022188, -0.022188]), kind: 'single-precision' },
    {
      what: 'a float32 port of a chain (rot_a_angstroms, real numbers)',
      r: [-14.3562690335399, -21.8717928453817, -5.58202083498661],
      p: [-14.3562698364258, -21.8717937469482, -5.58202123641968],
      kind: 'single-precision',
    },
    { what: 'nan on the reference side', r: ['NaN', '-Infinity', 'NaN'], p: [0.417, -0.422, 0.403], kind: 'non-finite', check: { components: [0, 1, 2] } },
    { what: 'inf on the port side', r: [1, 2], p: [1, 'Infinity'], kind: 'non-finite', check: { components: [1] } },
    { what: "C's INT_MIN from a nan cast", r: [-2147483648, -2147483648, -2147483648], p: [0, 0, 0], kind: 'non-finite' },
    { what: 'an all-zero placeholder', r: [-0, -0, -0], p: [1, 0, 0], kind: 'zero-side' },
    { what: 'different lengths', r: [1, 2, 3], p: [1, 2], kind: 'shape-mismatch' },
    { what: 'text against a number', r: ['MOSFLM'], p: [1], kind: 'kind-mismatch' },
    { what: 'different texts', r: ['MOSFLM'], p: ['CUSTOM'], kind: 'string-mismatch' },
    {
      what: 'two of three parts in other units (beam_center_m X, Y)',
      r: [0.000102425, 0.000102425, 0.05],
      p: [0.102425, 0.102425, 0.05],
      kind: 'unit-factor',
      check: { power: 3, components: [0, 1] },
    },
  ];

  it.each(cases)('$what → $kind', ({ r, p, kind, check }) => {
    const ds = diagnose(r, p);
    const d = ds.find((x) => x.kind === kind);
    expect(d, JSON.stringify(ds)).toBeDefined();
    if (check) expect(d).toMatchObject(check);
    expect(d!.message.length).toBeGreaterThan(10);
  });

  it('reports 1e10, not 1e7, for the scattering vector of the scattering-units pair', () => {
    const [d] = diagnose([-49.9999996961265, 999999.99749989, -999999.99749989], [-4.999999969612645e-9, 9.99999997500445e-5, -9.99999997500445e-5]);
    expect(Math.abs(d.power!)).toBe(10);
    expect(d.units).toMatch(/Å/);
  });

  it('recognises a transposed matrix', () => {
    const m = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const t = [1, 4, 7, 2, 5, 8, 3, 6, 9];
    const d = diagnose(m, t, { shape: [3, 3] }).find((x) => x.kind === 'permutation');
    expect(d?.message).toMatch(/transposed/);
  });

  it.each([
    ['unrelated numbers', [1.5, 2.5, 3.5], [1.7, 2.1, 3.9]],
    ['a 3% difference in a scalar', [-0.607255839576692], [-0.589139352775903]],
    ['a pix0 whose y is off by 1.1 mm', [-0.216475836204836, 0.216343050492215, -0.230192414300537], [-0.216336293, 0.215205512, -0.230200866]],
  ])('suggests nothing for %s', (_what, r, p) => {
    expect(diagnose(r, p)).toEqual([]);
  });

  it('never throws on arbitrary components', () => {
    const comp = fc.oneof(fc.double(), fc.constantFrom<Component>('NaN', 'Infinity', '-Infinity', 'text', 0, -0));
    fc.assert(
      fc.property(fc.array(comp, { maxLength: 12 }), fc.array(comp, { maxLength: 12 }), (r, p) => {
        const ds = diagnose(r, p);
        for (const d of ds) expect(typeof d.message).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});

describe('diagnoses that hold component by component', () => {
  const scattering = [-1556230686.07047, 3933478972.39855, 913944567.685604];

  it('claims no common scale factor when the component ratios differ (0.9999964, 1.0000008, 1.0000007)', () => {
    const p = [scattering[0]! * 0.9999964, scattering[1]! * 1.0000008, scattering[2]! * 1.0000007];
    expect(diagnose(scattering, p).map((d) => d.kind)).toEqual([]);
  });

  it('claims a common scale factor when every component follows it', () => {
    const d = diagnose(scattering, scattering.map((x) => x * 0.75));
    expect(d).toEqual([expect.objectContaining({ kind: 'scale-factor', ratio: 0.75 })]);
  });

  it('names a unit factor with its residual (the real port’s rot_a_angstroms, printed in metres)', () => {
    const [d] = diagnose([-14.3562690335399, -21.8805340763623, -5.5476578307123], [-1.43562695065214e-9, -2.18717932654044e-9, -5.5820215116853e-10]);
    expect(d).toMatchObject({ kind: 'unit-factor', power: -10 });
    expect(d!.residual).toBeCloseTo(0.0062, 4);
    expect(d!.message).toMatch(/m ↔ Å .* with a residual of 0\.62 %/);
  });

  it('names no unit factor for a ratio of 125,932 (the real port’s fluence)', () => {
    expect(diagnose([1e24], [1.25932017574725e29])).toEqual([]);
  });

  it('calls a float64 difference of float32 size neither single precision nor round-off', () => {
    expect(diagnose([0.231274660], [0.231274660 * (1 + 1e-7)])).toEqual([]);
  });

  it('calls a difference within the float32 budget single precision only when a side is float32', () => {
    const x = 0.123456789012345;
    expect(diagnose([x], [Math.fround(x)])[0]).toMatchObject({ kind: 'single-precision', budgetUlps: 128 });
    expect(diagnose([x], [x * (1 + 1e-15)])[0]).toMatchObject({ kind: 'round-off' });
  });
});

describe('helpers', () => {
  it('ulp32 is the float32 spacing', () => {
    expect(ulp32(1)).toBe(2 ** -23);
    expect(ulp32(0.75)).toBe(2 ** -24);
    expect(Math.fround(1 + ulp32(1))).toBe(1 + ulp32(1));
  });

  it('agreesInFloat32 accepts a float32 rounding and rejects a float64-sized difference of 1e-6', () => {
    expect(agreesInFloat32(0.1, Math.fround(0.1))).toBe(true);
    expect(agreesInFloat32(0.1, 0.1 * (1 + 1e-6))).toBe(false);
    expect(agreesInFloat32(1e-17, 0, 100)).toBe(true); // round-off zero in a vector of size 100
  });

  it.each([
    [1e10, 10],
    [1e-10, -10],
    [1e3, 3],
    [1e-3, -3],
    [1.00001e7, 7],
    [1.01e7, undefined],
    [2, undefined],
  ])('unitFactorOf(%s).power = %s', (ratio, power) => {
    expect(unitFactorOf(ratio)?.power).toBe(power);
  });

  it('names rad↔deg and 2π', () => {
    expect(unitFactorOf(57.29578)?.units).toMatch(/rad ↔ deg/);
    expect(unitFactorOf(1 / 57.29578)?.units).toMatch(/rad ↔ deg/);
    expect(unitFactorOf(6.283185)?.units).toMatch(/2π/);
  });

  it('simpleFraction finds p/q up to 8', () => {
    expect(simpleFraction(0.5)).toEqual([1, 2]);
    expect(simpleFraction(1.5)).toEqual([3, 2]);
    expect(simpleFraction(0.2)).toEqual([1, 5]);
    expect(simpleFraction(0.123)).toBeUndefined();
    expect(simpleFraction(1)).toBeUndefined();
  });
});

describe('diagnoses in a comparison', () => {
  it('attaches diagnoses to every non-MATCH item, and the first divergence carries them', () => {
    const ref = parseTraceText('TRACE_C: lambda_angstroms 0.9768\nTRACE_C: steps 4\nTRACE_C: q 1 2 3\n');
    const port = parseTraceText('TRACE_PY: lambda_angstroms 9.768e-11\nTRACE_PY: steps 2\nTRACE_PY: q 1 2 3\n');
    const cmp = compareTraces(ref, port);
    expect(cmp.firstDivergence?.name).toBe('lambda_angstroms');
    expect(cmp.firstDivergence?.diagnoses[0]).toMatchObject({ kind: 'unit-factor', power: -10 });
    expect(cmp.items[1].diagnoses?.[0]).toMatchObject({ kind: 'scale-factor', ratio: 0.5 });
    expect(cmp.items[2].diagnoses).toBeUndefined();
  });
});
