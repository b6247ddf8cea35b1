// The C reference of the embedded example against the real nanoBragg traces in tests/fixtures/nanobragg.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chainDivergences,
  compileReference,
  fixtureConfigs,
  keys,
  MULTI_PHI_CONFIGS,
  MONO_PHI_BASE,
  parseTrace,
  phiDivergences,
  runReference,
} from './harness.js';

let binary = '';
let diagnostics = '';

beforeAll(() => {
  ({ binary, diagnostics } = compileReference());
});

describe('C reference', () => {
  it('compiles without a warning under -Wall -Wextra', () => {
    expect(diagnostics).toBe('');
  });

  describe.each(fixtureConfigs())('on the real nanoBragg run $name', ({ args, log }) => {
    const expected = parseTrace(log, 'TRACE_C');

    it('reproduces every per-pixel chain value to 1e-12, key for key and in order', () => {
      const r = runReference(binary, args);
      expect(r.code).toBe(0);
      const actual = parseTrace(r.stdout, 'TRACE_C');
      expect(keys(actual.chain)).toEqual(keys(expected.chain));
      expect(chainDivergences(expected.chain, actual.chain)).toEqual([]);
    });

    it('reproduces the TRACE_C_PHI records to 1e-12', () => {
      const actual = parseTrace(runReference(binary, args).stdout, 'TRACE_C');
      expect(actual.phi.length).toBe(expected.phi.length);
      expect(phiDivergences(expected.phi, actual.phi)).toEqual([]);
    });

    it('prints the set-up lines it shares with nanoBragg with the same text', () => {
      const actual = parseTrace(runReference(binary, args).stdout, 'TRACE_C');
      expect(actual.setup.length).toBeGreaterThanOrEqual(10);
      const real = new Map(expected.setup.map(({ key, value }) => [key, value]));
      for (const { key, value } of actual.setup) expect({ key, value }).toEqual({ key, value: real.get(key) });
    });
  });

  it('prints the chain once and one phi record per phi step, record 0 before F_cell', () => {
    const args = Object.values(MULTI_PHI_CONFIGS)[0]!;
    const r = runReference(binary, args);
    expect(r.code).toBe(0);
    const trace = parseTrace(r.stdout, 'TRACE_C');
    expect(trace.phi.map((p) => p.phi_tic)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(keys(trace.chain)).size).toBe(trace.chain.length);
    const lines = r.stdout.split('\n');
    const phi0 = lines.findIndex((l) => l.startsWith('TRACE_C_PHI phi_tic=0 '));
    expect(lines[phi0 - 1]).toMatch(/^TRACE_C: F_latt /);
    expect(lines[phi0 + 1]).toMatch(/^TRACE_C: F_cell /);
    expect(trace.chain.find((c) => c.key === 'steps')!.values).toEqual([10]);
  });

  it('sums every phi step into I_before_scaling', () => {
    const trace = parseTrace(runReference(binary, Object.values(MULTI_PHI_CONFIGS)[0]!).stdout, 'TRACE_C');
    const Fcell = trace.chain.find((c) => c.key === 'F_cell')!.values[0]!;
    const sum = trace.phi.reduce((s, p) => s + Fcell * Fcell * p.F_latt! * p.F_latt!, 0);
    const I = trace.chain.find((c) => c.key === 'I_before_scaling')!.values[0]!;
    expect(Math.abs(sum - I) / I).toBeLessThan(1e-12);
  });

  it('reuses the previous pass orientation for a phi step at exactly 0, as nanoBragg does', () => {
    const sweep = ['-phi', '0', '-osc', '0.1', '-phisteps', '10'];
    const later = parseTrace(runReference(binary, [...MONO_PHI_BASE, ...sweep, '-trace_pixel', '120', '80']).stdout, 'TRACE_C');
    expect(later.phi[0]!.k_frac).toBe(later.phi[9]!.k_frac);
    // the very first pixel rendered has no previous pass: phi step 0 is unrotated
    const first = parseTrace(runReference(binary, [...MONO_PHI_BASE, ...sweep, '-trace_pixel', '0', '0']).stdout, 'TRACE_C');
    expect(first.phi[0]!.k_frac).not.toBe(first.phi[9]!.k_frac);
  });

  describe('rejects a bad command line with exit code 2 and a message naming the flag', () => {
    const base = ['-cell', '100', '100', '100', '90', '90', '90', '-default_F', '100', '-trace_pixel', '20', '30'];
    it.each([
      ['an unknown flag', [...base, '-bogus', '3'], /unknown flag -bogus/],
      ['a flag missing its value', [...base, '-lambda'], /-lambda expects 1 value/],
      ['a value that is not a number', [...base, '-distance', '12mm'], /-distance expects a number, got '12mm'/],
      ['a fractional integer', [...base, '-N', '2.5'], /-N expects an integer/],
      ['a short -cell', ['-cell', '100', '100', '100', '90', '90', '-trace_pixel', '1', '1'], /-cell/],
      ['no structure factors', ['-cell', '100', '100', '100', '90', '90', '90', '-trace_pixel', '1', '1'], /-hkl FILE or -default_F/],
      ['a pixel off the detector', [...base, '-detpixels', '10'], /-trace_pixel 20 30 is outside the 10x10 detector/],
    ])('%s', (_name, args, message) => {
      const r = runReference(binary, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });

  it('fails with exit code 1 when the -hkl file cannot be read', () => {
    const r = runReference(binary, ['-cell', '60', '70', '80', '90', '90', '90', '-hkl', 'missing.hkl', '-N', '5', '-trace_pixel', '1', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.hkl/);
  });
});
