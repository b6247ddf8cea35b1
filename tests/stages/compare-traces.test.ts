// The compare-traces stage run on real files in a temp folder, with a constructed StageContext.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import compareTracesStage, { comparisonJsonPieces } from '../../stages/compare-traces.js';
import { parseTraceFileTo } from '../../stages/trace/parse.js';
import { compareTraces, type Comparison } from '../../stages/trace/compare.js';
import { StageFailure, type StageContext } from '../../src/stage-api/index.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

function context(root: string, stage: string, w: Record<string, unknown>, outs: string[]): StageContext {
  const logs: string[] = [];
  return {
    stage,
    root,
    cwd: root,
    with: w,
    outs,
    deps: [],
    params: {},
    env: {},
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: { file: join(root, 'pipeline.yaml'), params: {}, env: {}, stages: [] },
  };
}

describe('compare-traces stage', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'evidence-compare-'));
    mkdirSync(join(root, 'traces'));
    for (const pair of ['pix0-custom-convention', 'scattering-units']) {
      await parseTraceFileTo(join(fixtures, pair, 'ref_c.log'), join(root, 'traces', `${pair}.c.json`), { source: `${pair}/ref_c.log` });
      await parseTraceFileTo(join(fixtures, pair, 'port_py.log'), join(root, 'traces', `${pair}.py.json`), { source: `${pair}/port_py.log` });
    }
  });

  it('declares its name, version and the input schema from schemas/', () => {
    expect(compareTracesStage).toMatchObject({ name: 'compare-traces', version: '1' });
    expect(compareTracesStage.inputSchema).toMatchObject({ required: ['reference', 'port'] });
  });

  it('writes a comparison to its first out that validates against comparison.schema.json', async () => {
    const ctx = context(
      root,
      'compare',
      {
        reference: 'traces/pix0-custom-convention.c.json',
        port: 'traces/pix0-custom-convention.py.json',
        checkpoints: ['F_latt'],
        fail_on: 'critical',
        tolerance: { rel: 1e-6, keys: { 'fdet_vec': { rel: 1e-5 } } },
      },
      ['out/comparison.json'],
    );
    await compareTracesStage.run(ctx);
    const file = join(root, 'out', 'comparison.json');
    const value = JSON.parse(readFileSync(file, 'utf8')) as Comparison;
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), value)).toEqual([]);
    expect(value.firstDivergence?.name).toBe('pix0_vector_meters');
    expect(value.checkpoints[0]).toMatchObject({ key: 'F_latt', relation: 'upstream' });
    expect(value.options.fail_on).toBe('critical');
    expect(value.failed).toBe(true);
    expect(value.reference.source).toBe('pix0-custom-convention/ref_c.log');
  });

  it('honours with.output relative to cwd, and aliases, ignore and match_by each change what is compared', async () => {
    // Real lines of the scattering-units and per-phi-k-frac pairs, with three things a user meets:
    // the port spells pix0_vector_meters `pix0_m`, prints beam_center_m in millimetres (a known,
    // accepted difference) and logs its phi steps in the opposite order.
    const ref = [
      'TRACE_C:beam_center_m=X:0.000102425 Y:0.000102425 pixel_mm:0.05',
      'TRACE_C: pix0_vector_meters 0.5 0.10245 -0.10245',
      'TRACE_C: scattering_vec_A_inv -49.9999996961265 999999.99749989 -999999.99749989',
      'TRACE_C_PHI phi_tic=1 phi_deg=0.01 k_frac=-0.591177727127411 F_latt_b=-0.650897255741202 F_latt=1.09860741704307',
      'TRACE_C_PHI phi_tic=2 phi_deg=0.02 k_frac=-0.593187745641004 F_latt_b=-0.385020463934971 F_latt=0.679724660042308',
      'TRACE_C_PHI phi_tic=3 phi_deg=0.03 k_frac=-0.595197691574922 F_latt_b=-0.0844254727339029 F_latt=0.155482072719562',
    ];
    const port = [
      'TRACE_PY: beam_center_m X:1.024250000000000e-01 Y:1.024250000000000e-01 pixel_mm:0.05',
      'TRACE_PY: pix0_m 5.000000000000000e-01 1.024500000000000e-01 -1.024500000000000e-01',
      'TRACE_PY: scattering_vec_A_inv -4.999999969612645e-09 9.999999975004450e-05 -9.999999975004450e-05',
      'TRACE_PY_PHI phi_tic=3 phi_deg=0.03 k_frac=-0.595169352192279 F_latt_b=-0.0887847980135704 F_latt=0.160224626828858',
      'TRACE_PY_PHI phi_tic=2 phi_deg=0.02 k_frac=-0.59315942494449 F_latt_b=-0.389060383184802 F_latt=0.67216462465067',
      'TRACE_PY_PHI phi_tic=1 phi_deg=0.01 k_frac=-0.591149425118622 F_latt_b=-0.654273473439334 F_latt=1.07893592692855',
    ];
    writeFileSync(join(root, 'traces', 'options.c.log'), ref.join('\n') + '\n');
    writeFileSync(join(root, 'traces', 'options.py.log'), port.join('\n') + '\n');
    await parseTraceFileTo(join(root, 'traces', 'options.c.log'), join(root, 'traces', 'options.c.json'), { source: 'options.c.log' });
    await parseTraceFileTo(join(root, 'traces', 'options.py.log'), join(root, 'traces', 'options.py.json'), { source: 'options.py.log' });

    const ctx = context(
      root,
      'compare',
      {
        reference: 'traces/options.c.json',
        port: 'traces/options.py.json',
        output: 'elsewhere/cmp.json',
        aliases: { pix0_m: 'pix0_vector_meters' },
        ignore: ['beam_center_m', 'TRACE_C_PHI.F_latt*'],
        match_by: 'phi_tic',
      },
      [],
    );
    await compareTracesStage.run(ctx);
    const value = JSON.parse(readFileSync(join(root, 'elsewhere', 'cmp.json'), 'utf8')) as Comparison;
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), value)).toEqual([]);
    const item = (name: string) => value.items.find((i) => i.name === name);

    // aliases: the port's pix0_m is compared with the reference's pix0_vector_meters and reported
    // under the reference's spelling; neither side is left MISSING.
    expect(item('pix0_vector_meters')).toMatchObject({ status: 'MATCH', key: 'pix0_vector_meters', portKey: 'pix0_m', reference: [0.5, 0.10245, -0.10245], port: [0.5, 0.10245, -0.10245] });
    expect(item('pix0_m')).toBeUndefined();
    expect(value.totals.MISSING).toBe(0);

    // ignore: a whole key and, by glob, fields of a record group are left out and counted.
    expect(value.items.some((i) => i.key === 'beam_center_m' || i.field === 'F_latt' || i.field === 'F_latt_b')).toBe(false);
    expect(value.totals.ignored).toBe(1 + 3 * 2);
    expect(value.firstDivergence).toMatchObject({ name: 'scattering_vec_A_inv', status: 'CRITICAL' });

    // match_by: each reference phi step is paired with the port's step of the same phi_tic, not
    // with the port's record at the same position, and the match field itself is not compared.
    const kFrac = { 1: [-0.591177727127411, -0.591149425118622], 2: [-0.593187745641004, -0.59315942494449], 3: [-0.595197691574922, -0.595169352192279] };
    for (const [tic, [r, p]] of Object.entries(kFrac)) {
      expect(item(`TRACE_C_PHI[phi_tic=${tic}].k_frac`), `phi_tic=${tic}`).toMatchObject({ match: { field: 'phi_tic', value: Number(tic) }, reference: [r], port: [p], status: 'MINOR' });
      expect(item(`TRACE_C_PHI[phi_tic=${tic}].phi_deg`), `phi_tic=${tic}`).toMatchObject({ status: 'MATCH' });
    }
    expect(value.items.some((i) => i.field === 'phi_tic')).toBe(false);
    expect(value.items.map((i) => i.name)).toEqual([
      'pix0_vector_meters',
      'scattering_vec_A_inv',
      ...[1, 2, 3].flatMap((t) => [`TRACE_C_PHI[phi_tic=${t}].phi_deg`, `TRACE_C_PHI[phi_tic=${t}].k_frac`]),
    ]);
    expect(value.options).toMatchObject({ aliases: { pix0_m: 'pix0_vector_meters' }, ignore: ['beam_center_m', 'TRACE_C_PHI.F_latt*'], match_by: 'phi_tic' });
  });

  it('fails on a hand-corrupted trace with the schema error’s instance path', async () => {
    const doc = JSON.parse(readFileSync(join(root, 'traces', 'pix0-custom-convention.py.json'), 'utf8'));
    doc.records[3].kind = 'vectr';
    writeFileSync(join(root, 'traces', 'corrupt.json'), JSON.stringify(doc));
    const ctx = context(root, 'compare', { reference: 'traces/pix0-custom-convention.c.json', port: 'traces/corrupt.json' }, ['out/bad.json']);
    const err = await compareTracesStage.run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StageFailure);
    expect((err as StageFailure).reason).toBe('schema');
    expect((err as Error).message).toContain('/records/3/kind');
    expect((err as Error).message).toContain('corrupt.json');
    expect(existsSync(join(root, 'out', 'bad.json'))).toBe(false);
  });

  it('fails on a file that is not JSON, naming it', async () => {
    writeFileSync(join(root, 'traces', 'log.json'), 'TRACE_C: a 1\n');
    const ctx = context(root, 'compare', { reference: 'traces/log.json', port: 'traces/log.json' }, ['out/x.json']);
    await expect(compareTracesStage.run(ctx)).rejects.toThrow(/log\.json: not valid JSON/);
  });

  it('streams the same JSON as JSON.stringify would give', () => {
    const empty = compareTraces(
      { format: 'evidence-trace/1', source: 'a', prefixes: [], records: [], stats: { lines: 0, records: 0, ignored: 0, bytes: 0 } },
      { format: 'evidence-trace/1', source: 'b', prefixes: [], records: [], stats: { lines: 0, records: 0, ignored: 0, bytes: 0 } },
    );
    expect(JSON.parse([...comparisonJsonPieces(empty)].join(''))).toEqual(JSON.parse(JSON.stringify(empty)));
    const value = JSON.parse(readFileSync(join(root, 'out', 'comparison.json'), 'utf8'));
    expect(value.items.length).toBeGreaterThan(30);
  });
});
