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

  it('honours with.output relative to cwd and match_by / aliases / ignore', async () => {
    const ctx = context(
      root,
      'compare',
      {
        reference: 'traces/scattering-units.c.json',
        port: 'traces/scattering-units.py.json',
        output: 'elsewhere/cmp.json',
        ignore: ['beam_center_m', 'Fbeam_m', 'Sbeam_m', 'term_fast', 'term_slow'],
        aliases: { some_port_key: 'some_ref_key' },
        match_by: 'phi_tic',
      },
      [],
    );
    await compareTracesStage.run(ctx);
    const value = JSON.parse(readFileSync(join(root, 'elsewhere', 'cmp.json'), 'utf8')) as Comparison;
    expect(value.firstDivergence?.name).toBe('scattering_vec_A_inv');
    expect(value.totals.ignored).toBe(5);
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), value)).toEqual([]);
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
