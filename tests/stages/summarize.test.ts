// The summarize stage: a Markdown summary from a comparison file, in a temp folder.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import summarizeStage from '../../stages/summarize.js';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces } from '../../stages/trace/compare.js';
import { parseTraceFile, parseTraceText } from '../../stages/trace/parse.js';
import type { StageContext } from '../../src/stage-api/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

function context(root: string, w: Record<string, unknown>, outs: string[]): StageContext {
  return {
    stage: 'summary',
    root,
    cwd: root,
    with: w,
    outs,
    deps: [],
    params: {},
    env: {},
    log: { info: () => {}, warn: () => {} },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: { file: join(root, 'pipeline.yaml'), params: {}, env: {}, stages: [] },
  };
}

describe('summarize stage', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'evidence-summary-'));
    const ref = await parseTraceFile(join(fixtures, 'source-weights', 'ref_c.log'));
    const port = await parseTraceFile(join(fixtures, 'source-weights', 'port_py.log'));
    await writeComparison(
      join(root, 'cmp.json'),
      compareTraces(ref, port, {
        ignore: ['TRACE_PY_TRICUBIC*', 'spindle_*'],
        aliases: { F_cell_interpolated: 'F_cell' },
        checkpoints: ['F_latt'],
      }),
    );
    const same = parseTraceText('TRACE_C: a 1\nTRACE_C: b 2 3\n');
    await writeComparison(join(root, 'same.json'), compareTraces(same, parseTraceText('TRACE_PY: a 1\nTRACE_PY: b 2 3\n')));
  });

  it('writes the table of the selected keys, the first divergence and every divergent key with diagnoses', async () => {
    const chain = ['r_e_sqr', 'fluence_photons_per_m2', 'steps', 'F_cell', 'polar', 'I_pixel_final', 'not_a_key'];
    await summarizeStage.run(context(root, { comparison: 'cmp.json', keys: chain, title: 'Scaling chain' }, ['out/summary.md']));
    const md = readFileSync(join(root, 'out', 'summary.md'), 'utf8');
    expect(md.startsWith('# Scaling chain\n')).toBe(true);
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    // In the reference's order, whatever the order of `keys`.
    expect(rows.map((r) => r.split(' | ')[0].slice(2))).toEqual([
      '`F_cell (port: F_cell_interpolated)`',
      '`r_e_sqr`',
      '`fluence_photons_per_m2`',
      '`steps`',
      '`polar`',
      '`I_pixel_final`',
      '`not_a_key`',
    ]);
    expect(md).toContain('| `steps` | 4 | 2 | 2.000e+0 | 5.000e-1 | **DIVERGENT** |');
    expect(md).toContain('not in either trace');
    const first = md.slice(md.indexOf('## First divergence'), md.indexOf('## All divergent keys'));
    expect(first).toContain('`incident_vec` (CRITICAL)');
    expect(first).toContain('zero-side');
    expect(first).toContain('`F_latt`: the first divergence (incident_vec) lies upstream');
    const all = md.slice(md.indexOf('## All divergent keys'));
    expect(all).toContain('`steps` (DIVERGENT)');
    expect(all).toContain('reference = port × 2');
    expect(all).toContain('`hkl_frac` (CRITICAL)');
    expect(all).toContain('non-finite');
    expect(md).not.toContain('All keys match');
  });

  it('shows every compared item by default', async () => {
    await summarizeStage.run(context(root, { comparison: 'cmp.json', output: 'all.md' }, []));
    const md = readFileSync(join(root, 'all.md'), 'utf8');
    const cmp = JSON.parse(readFileSync(join(root, 'cmp.json'), 'utf8'));
    expect(md.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(cmp.items.length);
    expect(md).toContain('| `scattering_vec_A_inv` | inf -inf inf |');
  });

  it('says all keys match when they do', async () => {
    await summarizeStage.run(context(root, { comparison: 'same.json' }, ['same.md']));
    const md = readFileSync(join(root, 'same.md'), 'utf8');
    expect(md).toContain('All keys match.');
    expect(md).toContain('## First divergence\n\nNone');
    expect(md).toContain('## All divergent keys\n\nNone.');
  });

  it('fails on a corrupted comparison with the instance path', async () => {
    const cmp = JSON.parse(readFileSync(join(root, 'cmp.json'), 'utf8'));
    cmp.items[2].status = 'FINE';
    writeFileSync(join(root, 'bad.json'), JSON.stringify(cmp));
    await expect(summarizeStage.run(context(root, { comparison: 'bad.json' }, ['bad.md']))).rejects.toThrow('/items/2/status');
  });
});
