// The bugs the port plants with --inject NAME, seen as a comparison against the C reference would see them.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildPort,
  chainDivergences,
  compileReference,
  fixtureConfigs,
  keys,
  MULTI_PHI_CONFIGS,
  parseTrace,
  phiDivergences,
  relativeError,
  runPort,
  runReference,
  type ParsedTrace,
} from './harness.js';

let binary = '';
let port = '';

beforeAll(() => {
  binary = compileReference().binary;
  port = buildPort();
});

const MULTI_PHI = Object.values(MULTI_PHI_CONFIGS)[0]!;

function traces(args: string[], inject: string): { c: ParsedTrace; ts: ParsedTrace } {
  const c = runReference(binary, args);
  const ts = runPort(port, [...args, '--inject', inject]);
  expect(c.code).toBe(0);
  expect(ts.code, ts.stderr).toBe(0);
  const parsed = { c: parseTrace(c.stdout, 'TRACE_C'), ts: parseTrace(ts.stdout, 'TRACE_TS') };
  expect(keys(parsed.ts.chain)).toEqual(keys(parsed.c.chain));
  return parsed;
}

describe('port --inject', () => {
  describe.each([...fixtureConfigs().map((f) => [f.name, f.args] as const), ['multi-phi', MULTI_PHI] as const])(
    'on %s',
    (_name, args) => {
      it('pixel-center first diverges at pixel_pos_meters', () => {
        const { c, ts } = traces([...args], 'pixel-center');
        expect(chainDivergences(c.chain, ts.chain)[0]?.key).toBe('pixel_pos_meters');
      });

      it('angstrom-meter first diverges at scattering_vec_A_inv, by a factor of 1e10', () => {
        const { c, ts } = traces([...args], 'angstrom-meter');
        const first = chainDivergences(c.chain, ts.chain)[0]!;
        expect(first.key).toBe('scattering_vec_A_inv');
        expect(relativeError(first.expected.map((v) => v * 1e-10), first.actual)).toBeLessThan(1e-12);
      });

      it('float32 diverges only as single precision does, from the first values on', () => {
        const { c, ts } = traces([...args], 'float32');
        const divergences = chainDivergences(c.chain, ts.chain);
        expect(divergences[0]?.key).toBe('pix0_vector_meters');
        // every value the port prints is a single-precision number
        for (const { values } of ts.chain) for (const v of values) expect(relativeError([v], [Math.fround(v)])).toBeLessThan(1e-14);
        // geometry stays within a few float32 ulps; the scattering vector's cancellation and the
        // lattice sums amplify that, but it stays a round-off-sized disagreement
        const upstream = keys(c.chain).indexOf('scattering_vec_A_inv');
        for (const d of divergences) expect(d.error).toBeLessThan(d.index < upstream ? 5e-7 : 1e-3);
      });
    },
  );

  it('phi-carryover leaves everything up to the lattice factors of phi step 0 alone', () => {
    const { c, ts } = traces(MULTI_PHI, 'phi-carryover');
    const divergences = chainDivergences(c.chain, ts.chain);
    expect(divergences[0]?.key).toBe('I_before_scaling');
    expect(keys(c.chain).indexOf('I_before_scaling')).toBeGreaterThan(keys(c.chain).indexOf('F_cell'));
  });

  it('phi-carryover makes every phi record after step 0 diverge', () => {
    const { c, ts } = traces(MULTI_PHI, 'phi-carryover');
    expect(phiDivergences(c.phi, ts.phi).map((d) => d.tic)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the port keeps computing k_frac; it is the lattice factors that go stale
    ts.phi.forEach((record, i) => expect(relativeError([c.phi[i]!.k_frac!], [record.k_frac!])).toBeLessThan(1e-12));
    for (const record of ts.phi) expect(record.F_latt).toBe(ts.phi[0]!.F_latt);
  });
});
