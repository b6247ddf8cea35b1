// Findings and diagnoses on the embedded example: the C reference against its TypeScript port with
// each planted bug (--inject), on every fixture configuration and the multi-phi ones, compared as
// the default pipeline does (match_by phi_tic). The programs are built and run by the example's
// test harness; what the bugs do is in example/port/trace.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPort, compileReference, fixtureConfigs, MULTI_PHI_CONFIGS, runPort, runReference } from '../example/harness.js';
import { compareTraces, type ComparedItem, type Comparison } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

let binary = '';
let port = '';

beforeAll(() => {
  binary = compileReference().binary;
  port = buildPort();
});

const CONFIGS: Array<[string, string[]]> = [...fixtureConfigs().map((f) => [f.name, f.args] as [string, string[]]), ...Object.entries(MULTI_PHI_CONFIGS)];

function logs(args: string[], inject: string | undefined): { c: string; ts: string } {
  const c = runReference(binary, args);
  const ts = runPort(port, inject ? [...args, '--inject', inject] : args);
  expect(c.code).toBe(0);
  expect(ts.code, ts.stderr).toBe(0);
  return { c: c.stdout, ts: ts.stdout };
}

function compare(c: string, ts: string): Comparison {
  return compareTraces(parseTraceText(c, { source: 'trace_c.log' }), parseTraceText(ts, { source: 'trace_ts.log' }), { matchBy: 'phi_tic' });
}

const kinds = (i: ComparedItem) => (i.diagnoses ?? []).map((d) => d.kind);

/** No false float32 and no false scale factor: checked against the numbers themselves. */
function expectNoFalseClaims(c: Comparison): void {
  for (const i of c.items) {
    if (kinds(i).includes('single-precision')) {
      expect(i.roundOff, i.name).toBe(true);
      expect(i.precision, i.name).toBe('float32');
    }
    for (const d of i.diagnoses ?? []) {
      if (d.kind !== 'scale-factor') continue;
      const r = i.reference!.map(Number);
      const p = i.port!.map(Number);
      for (let k = 0; k < r.length; k++) if (r[k] !== 0) expect(Math.abs(p[k]! / r[k]! - d.ratio!), i.name).toBeLessThan(1e-6 * Math.abs(d.ratio!));
    }
  }
  expect(validateAgainst(`${toolSchemasDir()}/comparison.schema.json`, JSON.parse(JSON.stringify(c)))).toEqual([]);
}

describe.each(CONFIGS)('the example on %s', (_name, args) => {
  it('without a planted bug: no finding', () => {
    const { c, ts } = logs(args, undefined);
    const cmp = compare(c, ts);
    expect(cmp.findings).toEqual([]);
    expect(cmp.findingVerdict).toBe('MATCH');
  });

  it('pixel-center: one finding, pixel_pos_meters, half a pixel along the fast axis (and the slow one)', () => {
    const { c, ts } = logs(args, 'pixel-center');
    const cmp = compare(c, ts);
    expect(cmp.findings.map((f) => f.name)).toEqual(['pixel_pos_meters']);
    const shift = cmp.findings[0]!.diagnoses.find((d) => d.kind === 'shift')!;
    // The port drops the half-pixel offset on both axes: Δ = −½ pixel along fdet and along sdet.
    expect(shift.message).toMatch(/−0\.5 × beam_center_m\.pixel_mm \(mm → m\) along fdet_vec \(the fast axis\)/);
    expect(shift.message).toMatch(/−0\.5 × beam_center_m\.pixel_mm \(mm → m\) along sdet_vec \(the slow axis\)/);
    expectNoFalseClaims(cmp);
  });

  it('angstrom-meter: one finding, scattering_vec_A_inv, an exact 1e-10 (m ↔ Å)', () => {
    const { c, ts } = logs(args, 'angstrom-meter');
    const cmp = compare(c, ts);
    expect(cmp.findings.map((f) => f.name)).toEqual(['scattering_vec_A_inv']);
    const unit = cmp.findings[0]!.diagnoses.find((d) => d.kind === 'unit-factor')!;
    expect(unit).toMatchObject({ power: -10 });
    expect(unit.residual).toBeUndefined();
    expectNoFalseClaims(cmp);
  });

  it('float32: the port reads as float32; round-off is single precision, and nothing beyond the budget is called float32', () => {
    const { c, ts } = logs(args, 'float32');
    const cmp = compare(c, ts);
    expect(cmp.precision.port.type).toBe('float32');
    expect(cmp.totals.roundOff).toBeGreaterThan(0);
    for (const f of cmp.findings) {
      expect(kinds(cmp.items[f.index]!), f.name).not.toContain('single-precision');
      expect(kinds(cmp.items[f.index]!), f.name).not.toContain('scale-factor');
    }
    // Every item upstream of the lattice factors agrees to within float32 round-off.
    const upstream = cmp.items.slice(0, cmp.items.findIndex((i) => i.name === 'hkl_rounded'));
    for (const i of upstream) expect(i.status === 'MATCH' || i.roundOff, i.name).toBe(true);
    expectNoFalseClaims(cmp);
  });

  it('phi-carryover: the stale lattice factors name the record they equal (with several phi steps)', () => {
    const { c, ts } = logs(args, 'phi-carryover');
    const cmp = compare(c, ts);
    const steps = cmp.items.filter((i) => i.name.startsWith('TRACE_C_PHI[phi_tic=1]')).length;
    if (steps === 0) {
      // One phi step: there is nothing to carry over.
      expect(cmp.findings).toEqual([]);
      return;
    }
    expect(cmp.findings).toHaveLength(1);
    const head = cmp.findings[0]!;
    expect(head.name).toMatch(/^TRACE_C_PHI\[phi_tic=1\]\.F_latt/);
    expect(head.diagnoses[0]).toMatchObject({ kind: 'carry-over' });
    expect(head.diagnoses[0]!.message).toMatch(/^port phi_tic=1 equals reference phi_tic=0/);
    // Later stale records read with it.
    for (const i of cmp.items.filter((x) => /^TRACE_C_PHI\[phi_tic=[2-9]\]\.F_latt/.test(x.name) && x.status !== 'MATCH')) expect(i.finding, i.name).toBe(0);
    expectNoFalseClaims(cmp);
  });
});

describe('a planted half-pixel shift along the fast axis only', () => {
  it('is diagnosed as 0.5 × the pixel size along fdet_vec, the fast axis', () => {
    const args = Object.values(MULTI_PHI_CONFIGS)[0]!;
    const { c, ts } = logs(args, undefined);
    // fdet is (0, 0, 1) in this geometry and the pixel 0.1 mm: move the port's pixel along +z by 5e-5 m.
    const planted = ts.replace(/^(TRACE_TS: pixel_pos_meters) (\S+) (\S+) (\S+)$/m, (_l, p, x, y, z) => `${p} ${x} ${y} ${Number(z) + 0.5 * 0.1e-3}`);
    expect(planted).not.toBe(ts);
    const cmp = compare(c, planted);
    expect(cmp.findings[0]!.name).toBe('pixel_pos_meters');
    const shift = cmp.findings[0]!.diagnoses.find((d) => d.kind === 'shift')!;
    expect(shift.message).toMatch(/^Δ ∥ fdet_vec \(the fast axis\): Δ = 0\.5 × beam_center_m\.pixel_mm \(mm → m\) along fdet_vec/);
    expectNoFalseClaims(cmp);
  });
});
