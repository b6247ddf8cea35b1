// The comparison on a real run: nanoBragg C against its float32 PyTorch port, one pixel of the
// configuration the port's engineers audited (tests/fixtures/real-runs/supervisor, a copy of
// ../shared). Its README lists what a careful reading of the numbers finds; the expected values
// here are computed from the numbers in the logs, never copied from the tool's output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareTraces, type ComparedItem, type Comparison } from '../../stages/trace/compare.js';
import { parseTraceFile, parseTraceText } from '../../stages/trace/parse.js';
import { renderSummary } from '../../stages/trace/summary.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'real-runs', 'supervisor');
// What a user sets: the port logs the unpolarised sum under its own name, and the per-phi records pair by phi_tic.
const options = { aliases: { I_before_scaling_pre_polar: 'I_before_scaling' }, matchBy: 'phi_tic' };

let c: Comparison;
const item = (name: string): ComparedItem => {
  const found = c.items.find((i) => i.name === name);
  if (!found) throw new Error(`no item ${name}`);
  return found;
};
const kinds = (i: { diagnoses?: Array<{ kind: string }> }) => (i.diagnoses ?? []).map((d) => d.kind);

beforeAll(async () => {
  const ref = await parseTraceFile(join(dir, 'trace_c.log'));
  const port = await parseTraceFile(join(dir, 'trace_py.log'));
  c = compareTraces(ref, port, options);
});

describe('the real supervisor run', () => {
  it('reads the port as float32 and the reference as float64', () => {
    expect(c.precision.reference.type).toBe('float64');
    expect(c.precision.port.type).toBe('float32');
    expect(item('scattering_vec_A_inv').precision).toBe('float32');
  });

  it('makes rot_a_angstroms the headline: m ↔ Å, with the residual the numbers give', () => {
    const head = c.findings[0]!;
    expect(head.name).toBe('rot_a_angstroms');
    const unit = head.diagnoses.find((d) => d.kind === 'unit-factor')!;
    expect(unit.power).toBe(-10);
    expect(unit.units).toMatch(/m ↔ Å/);
    // Once × 1e10, the port's components differ from C's by up to |−5.5820215 + 5.5476578| / 5.5476578.
    const r = [-14.3562690335399, -21.8805340763623, -5.5476578307123];
    const p = [-1.43562695065214e-9, -2.18717932654044e-9, -5.5820215116853e-10];
    const residual = Math.max(...r.map((x, i) => Math.abs(p[i]! * 1e10 - x) / Math.abs(x)));
    expect(residual).toBeCloseTo(0.0062, 4);
    expect(unit.residual).toBeCloseTo(residual, 3);
    expect(unit.message).toMatch(/residual of 0\.62 %/);
  });

  it('lists I_before_scaling (port I_before_scaling_pre_polar, 0.8536) and fluence (125,932×, no unit factor) as findings', () => {
    const names = c.findings.map((f) => f.name);
    expect(names).toEqual(['rot_a_angstroms', 'I_before_scaling', 'fluence_photons_per_m2']);
    const ib = item('I_before_scaling');
    expect(ib.portKey).toBe('I_before_scaling_pre_polar');
    expect(ib.ratio).toBeCloseTo(805465.25 / 943654.80923755, 10);
    expect(ib.ratio!.toFixed(4)).toBe('0.8536');
    const fl = item('fluence_photons_per_m2');
    expect(Math.round(fl.ratio!)).toBe(Math.round(1.25932017574725e29 / 1e24));
    expect(Math.round(fl.ratio!)).toBe(125932);
    expect(kinds(fl)).not.toContain('unit-factor');
    expect(kinds(fl)).not.toContain('scale-factor');
  });

  it('calls none of the findings round-off or float32', () => {
    for (const f of c.findings) {
      const it0 = c.items[f.index]!;
      expect(it0.roundOff, f.name).toBe(false);
      expect(kinds(it0), f.name).not.toContain('single-precision');
      expect(kinds(it0), f.name).not.toContain('round-off');
    }
  });

  it('labels scattering_vec_A_inv and the other ~1e-6 items round-off, never findings', () => {
    const sv = item('scattering_vec_A_inv');
    // |Δx| = 5534 against a magnitude of 3.93e9, where a float32 ulp is 256: about 22 ulps.
    expect(sv.status).toBe('MINOR');
    expect(sv.roundOff).toBe(true);
    expect(sv.ulps).toBeCloseTo(5534.07047 / 256, 1);
    expect(kinds(sv)).toEqual(['single-precision']);
    for (const name of ['pixel_pos_meters', 'diffracted_vec']) {
      expect(item(name).roundOff, name).toBe(true);
      expect(kinds(item(name))).toEqual(['single-precision']);
    }
    expect(c.findings.some((f) => f.name === 'scattering_vec_A_inv')).toBe(false);
    // The strict first divergence is still there, for whoever asked for 1e-6.
    expect(c.firstDivergence?.name).toBe('pixel_pos_meters');
    expect(c.items[c.firstDivergence!.index]!.roundOff).toBe(true);
  });

  it('sees a 3.5e-6 relative error in the small x component of diffracted_vec', () => {
    // |Δx| / |x| = 5.35e-7 / 0.1515 = 3.5e-6, but only 5.9e-7 of the vector's magnitude 0.91.
    const d = item('diffracted_vec');
    const rel = Math.abs(-0.151498198509216 - -0.151498733921271) / 0.151498733921271;
    expect(rel).toBeGreaterThan(3.4e-6);
    expect(d.status).toBe('MINOR');
    expect(d.worst).toBe(0);
  });

  it('claims no float32 or scale factor anywhere it does not hold', () => {
    for (const i of c.items) {
      if (kinds(i).includes('single-precision')) expect(i.roundOff, i.name).toBe(true);
      for (const d of i.diagnoses ?? []) {
        if (d.kind !== 'scale-factor') continue;
        const r = i.reference!.map(Number);
        const p = i.port!.map(Number);
        for (let k = 0; k < r.length; k++) if (r[k] !== 0) expect(Math.abs(p[k]! / r[k]! - d.ratio!), i.name).toBeLessThan(1e-6 * Math.abs(d.ratio!));
      }
    }
  });

  it('reads the rot vectors, hkl and lattice factors with the headline, and I_pixel_final as I_before_scaling × fluence', () => {
    for (const name of ['rot_b_angstroms', 'rot_c_angstroms', 'hkl_frac', 'F_latt', 'TRACE_C_PHI[phi_tic=3].k_frac']) expect(item(name).finding, name).toBe(0);
    const ip = item('I_pixel_final');
    expect(ip.finding).toBe(2);
    const combo = ip.diagnoses!.find((d) => d.kind === 'combination')!;
    expect(combo.related!.map((i) => c.items[i]!.name).sort()).toEqual(['I_before_scaling', 'fluence_photons_per_m2']);
    expect(ip.ratio!).toBeCloseTo((805465.25 / 943654.80923755) * (1.25932017574725e29 / 1e24), -1);
  });

  it('writes a schema-valid comparison whose summary leads with the headline and keeps port-only record fields to one line', () => {
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), JSON.parse(JSON.stringify(c)))).toEqual([]);
    const md = renderSummary(c);
    const findings = md.indexOf('## Findings');
    expect(findings).toBeGreaterThan(0);
    expect(findings).toBeLessThan(md.indexOf('## Divergent keys'));
    expect(md.indexOf('## Divergent keys')).toBeLessThan(md.indexOf('<details>'));
    expect(md).toMatch(/\*\*Headline: `rot_a_angstroms` \(CRITICAL\): port ≈ reference × 1e-10 — m ↔ Å/);
    expect(md).toMatch(/2\. `I_before_scaling` \(DIVERGENT\).*port key `I_before_scaling_pre_polar`/);
    expect(md).toMatch(/ratio port\/reference 0\.853559: no known pattern fits/);
    const portOnly = md.split('\n').filter((l) => l.startsWith('Only in the port'));
    expect(portOnly).toHaveLength(1);
    expect(portOnly[0]).toContain('record fields S_x, S_y, S_z, a_star_y, b_star_y, c_star_y, V_actual of `TRACE_PY_PHI` (10 records)');
    // Before the full table, no row per port-only record field.
    expect(md.slice(0, md.indexOf('## All compared items'))).not.toMatch(/\| `TRACE_C_PHI\[phi_tic=\d\]\.S_x`/);
    expect(md).toMatch(/Within round-off \(3, float32; not findings\): `pixel_pos_meters`/);
  });

  it('diagnoses a planted half-pixel shift of pixel_pos_meters along the fast axis as Δ ∥ fdet_vec', async () => {
    // The port's pixel moved by half a 0.172 mm pixel along its own fdet_vec, computed in float32
    // as the port computes everything.
    const fdet = [0.999981999397278, -0.00599800003692508, -0.000118000003567431];
    const text = readFileSync(join(dir, 'trace_py.log'), 'utf8').replace(/^(TRACE_PY: pixel_pos_meters) (\S+) (\S+) (\S+)$/m, (_l, key: string, ...xyz: string[]) =>
      [key, ...xyz.slice(0, 3).map((v, i) => Number(Math.fround(Number(v) + 0.5 * 0.172e-3 * fdet[i]!).toPrecision(15)))].join(' '),
    );
    const shifted = compareTraces(await parseTraceFile(join(dir, 'trace_c.log')), parseTraceText(text, { source: 'trace_py.log' }), options);
    expect(shifted.findings[0]!.name).toBe('pixel_pos_meters');
    const shift = shifted.findings[0]!.diagnoses.find((d) => d.kind === 'shift')!;
    expect(shift.message).toMatch(/^Δ ∥ fdet_vec \(the fast axis\): Δ = 8\.6\d*e-5 along fdet_vec/);
    expect(shift.ratio!).toBeCloseTo(0.5 * 0.172e-3, 6);
    // The rest of the reading is unchanged.
    expect(shifted.findings.map((f) => f.name).slice(1)).toEqual(['rot_a_angstroms', 'I_before_scaling', 'fluence_photons_per_m2']);
  });
});
