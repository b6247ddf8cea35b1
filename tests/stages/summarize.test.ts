// The summarize stage: a Markdown summary from a comparison file, in a temp folder.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import summarizeStage from '../../stages/summarize.js';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces } from '../../stages/trace/compare.js';
import { parseTraceFile, parseTraceText } from '../../stages/trace/parse.js';
import { recordPipeline, SNAPSHOT_FORMAT, type ConfigSnapshot } from '../../stages/provenance/snapshot.js';
import type { PipelineView, StageContext } from '../../src/stage-api/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

const params = { pixel: [685, 1039], tolerance: 1e-6 };

function pipelineView(root: string): PipelineView {
  return {
    file: join(root, 'pipeline.yaml'),
    params,
    env: { LC_ALL: 'C' },
    stages: [
      { name: 'c_trace', command: './pixel_trace -trace_pixel 685 1039', deps: [], outs: ['c.log'], env: { LC_ALL: 'C', HF_TOKEN: 'hf-secret-1' } },
      { name: 'compare', uses: 'compare-traces', command: 'uses compare-traces with {"reference":"c.json","port":"py.json"}', deps: [], outs: ['cmp.json'], env: { LC_ALL: 'C' } },
    ],
  };
}

function context(root: string, w: Record<string, unknown>, outs: string[], over: Partial<StageContext> = {}): StageContext {
  return {
    stage: 'summary',
    root,
    cwd: root,
    with: w,
    outs,
    deps: ['cmp.json', 'snapshot.json'],
    params,
    env: {},
    log: { info: () => {}, warn: () => {} },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: pipelineView(root),
    ...over,
  };
}

function snapshotOf(root: string): ConfigSnapshot {
  return {
    format: SNAPSHOT_FORMAT,
    evidence: '9.9.9',
    pipeline: 'pipeline.yaml',
    ...recordPipeline(pipelineView(root), params),
    tools: { node: { command: 'node --version', version: 'v20.1.0', error: null }, cc: { command: 'cc --version', version: null, error: 'exit 127: cc: not found' } },
    git: { sha: 'fedcba9876543210fedcba9876543210fedcba98', branch: 'port', dirty: true, changed: ['port/a.py', 'port/b.py'], date: '2025-01-02T03:04:05.000Z' },
    inputs: [],
  };
}

const provenanceOf = (md: string) => md.slice(md.indexOf('## Provenance'));

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
    writeFileSync(join(root, 'snapshot.json'), JSON.stringify(snapshotOf(root), null, 2));
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

  it('closes with the provenance read from the pipeline and the comparison when no snapshot is given', async () => {
    await summarizeStage.run(context(root, { comparison: 'cmp.json', keys: ['F_latt'] }, ['live.md']));
    const p = provenanceOf(readFileSync(join(root, 'live.md'), 'utf8'));
    expect(p).toContain('- Git: not a git repository');
    expect(p).toContain('- Date: none (no commit)');
    expect(p).toMatch(/- Tools: `evidence \d+\.\d+\.\d+`\n/);
    expect(p).toContain('- Params: `pixel=[685,1039]` · `tolerance=0.000001`');
    // From the comparison itself: the options that produced it.
    expect(p).toContain('- Comparison options: aliases `F_cell_interpolated=F_cell`; ignored `TRACE_PY_TRICUBIC*`, `spindle_*`; records matched by order of appearance');
    expect(p).toContain('- From: the pipeline and git, read when this summary was written (no snapshot given)');
    expect(p).toContain('# compare\nuses compare-traces with {"reference":"c.json","port":"py.json"}');
  });

  it('takes git SHA, dirty flag, commit date, tool versions, params and commands from a snapshot, byte-identically on a re-run', async () => {
    await summarizeStage.run(context(root, { comparison: 'cmp.json', keys: ['F_latt'], snapshot: 'snapshot.json' }, ['snap.md']));
    const md = readFileSync(join(root, 'snap.md'), 'utf8');
    const p = provenanceOf(md);
    expect(p).toContain('- Git: `fedcba9876543210fedcba9876543210fedcba98` on port, dirty: uncommitted changes in `port/a.py`, `port/b.py`');
    expect(p).toContain('- Date: 2025-01-02T03:04:05.000Z (commit date of HEAD)');
    expect(p).toContain('- Tools: `evidence 9.9.9` · `node v20.1.0` · `cc unknown (exit 127: cc: not found)`');
    expect(p).toContain('- Params: `pixel=[685,1039]` · `tolerance=0.000001`');
    expect(p).toMatch(/- From: snapshot `snapshot\.json` \(sha256 [0-9a-f]{12}\)/);
    expect(p).toContain('# c_trace\n./pixel_trace -trace_pixel 685 1039');
    expect(md).not.toContain('hf-secret-1');
    await summarizeStage.run(context(root, { comparison: 'cmp.json', keys: ['F_latt'], snapshot: 'snapshot.json' }, ['snap.md']));
    expect(readFileSync(join(root, 'snap.md'), 'utf8')).toBe(md);
  });

  it('refuses a snapshot of another run instead of mixing two runs in one summary', async () => {
    const over = { params: { ...params, pixel: [1, 2] } };
    await expect(summarizeStage.run(context(root, { comparison: 'cmp.json', snapshot: 'snapshot.json' }, ['stale.md'], over))).rejects.toThrow(
      /param pixel is \[1,2\], the snapshot has \[685,1039\]/,
    );
    expect(existsSync(join(root, 'stale.md'))).toBe(false);
  });

  it('fails on a corrupted comparison with the instance path', async () => {
    const cmp = JSON.parse(readFileSync(join(root, 'cmp.json'), 'utf8'));
    cmp.items[2].status = 'FINE';
    writeFileSync(join(root, 'bad.json'), JSON.stringify(cmp));
    await expect(summarizeStage.run(context(root, { comparison: 'bad.json' }, ['bad.md']))).rejects.toThrow('/items/2/status');
  });
});
