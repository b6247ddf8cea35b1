// The one-off `evidence compare REF PORT` command: raw logs or trace documents in, a summary or JSON out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareCommand, type CompareCommandArgs } from '../../stages/trace/compare-command.js';
import { parseTraceFileTo } from '../../stages/trace/parse.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

const pairs = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function run(args: Partial<CompareCommandArgs> & { ref: string; port: string }): Promise<{ code: number; out: string }> {
  const s = sink();
  const code = await compareCommand({ aliases: {}, ignore: [], json: false, out: s.stream, ...args });
  return { code, out: s.text() };
}

describe('compare command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evidence-compare-cmd-'));
    await parseTraceFileTo(join(pairs, 'scattering-units', 'port_py.log'), join(dir, 'port.json'));
  });

  it('compares two raw logs and prints the summary table; exit 0 even when divergent', async () => {
    const { code, out } = await run({ ref: join(pairs, 'scattering-units', 'ref_c.log'), port: join(pairs, 'scattering-units', 'port_py.log'), ignore: ['beam_center_m', 'Fbeam_m', 'Sbeam_m', 'term_fast', 'term_slow'] });
    expect(code).toBe(0);
    expect(out).toContain('| key | reference | port | Δ abs | Δ rel | status |');
    expect(out).toContain('## First divergence\n\n`scattering_vec_A_inv` (CRITICAL)');
    expect(out).toMatch(/unit-factor: port = reference × 1e-10/);
  });

  it('accepts a trace document for either side and prints the comparison JSON with --json', async () => {
    const { code, out } = await run({ ref: join(pairs, 'scattering-units', 'ref_c.log'), port: join(dir, 'port.json'), json: true, tol: 1e-9 });
    expect(code).toBe(0);
    const value = JSON.parse(out);
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), value)).toEqual([]);
    expect(value.options.tolerance.rel).toBe(1e-9);
    expect(value.firstDivergence.name).toBe('beam_center_m');
  });

  it('passes match-by, aliases and prefixes through', async () => {
    const { out } = await run({
      ref: join(pairs, 'per-phi-k-frac', 'ref_c.log'),
      port: join(pairs, 'per-phi-k-frac', 'port_py.log'),
      matchBy: 'phi_tic',
      prefixRef: ['TRACE_C_PHI'],
      json: true,
    });
    const value = JSON.parse(out);
    expect(value.reference.records).toBe(10);
    expect(value.totals.MISSING).toBe(0);
    expect(value.firstDivergence.name).toBe('TRACE_C_PHI[phi_tic=0].k_frac');
  });

  it('prints findings first: the headline, the short table of divergent keys, then the full table collapsed', async () => {
    const { out } = await run({ ref: join(pairs, 'source-weights', 'ref_c.log'), port: join(pairs, 'source-weights', 'port_py.log'), aliases: { F_cell_interpolated: 'F_cell' }, ignore: ['TRACE_PY_TRICUBIC*', 'spindle_*'] });
    const at = (s: string) => out.indexOf(s);
    expect(at('## Findings')).toBeGreaterThan(0);
    expect(at('**Headline: `incident_vec` (CRITICAL)')).toBeGreaterThan(at('## Findings'));
    expect(at('## Divergent keys')).toBeGreaterThan(at('**Headline'));
    expect(at('## First divergence')).toBeGreaterThan(at('## Divergent keys'));
    expect(at('<details><summary>')).toBeGreaterThan(at('## Divergent keys'));
    // steps 4 against 2 is a finding of its own: a count differs.
    expect(out).toMatch(/\d\. `steps` \(DIVERGENT\).*\n   Diagnosis: scale-factor: port = reference × 1\/2/);
  });

  it('exits 4 when --fail-on is met by a difference beyond round-off, and takes --abs', async () => {
    const args = { ref: join(pairs, 'scattering-units', 'ref_c.log'), port: join(pairs, 'scattering-units', 'port_py.log') };
    expect((await run({ ...args, failOn: 'critical' })).code).toBe(4);
    expect((await run({ ...args, failOn: 'never' })).code).toBe(0);
    const loose = await run({ ...args, ignore: ['beam_center_m', 'Fbeam_m', 'Sbeam_m', 'term_*', 'scattering_vec_A_inv', 'F_*', 'I_*', 'fluence*', 'floatimage*'], abs: 1, failOn: 'divergent', json: true });
    expect(loose.code).toBe(0);
    expect(JSON.parse(loose.out).options.tolerance.abs).toBe(1);
  });

  it('exits 2 with a message when an input cannot be read or is a malformed trace document', async () => {
    const missing = await run({ ref: join(dir, 'nope.log'), port: join(dir, 'port.json') });
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/^error: .*nope\.log/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ format: 'evidence-trace/1', source: 'x', prefixes: [], records: [{ seq: 0 }], stats: {} }));
    const bad = await run({ ref: join(dir, 'bad.json'), port: join(dir, 'port.json') });
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('/records/0');
  });
});
