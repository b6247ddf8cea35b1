// The write-notes stage: appends dated sections to notes.md without touching a byte of what was there.
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import writeNotesStage, { appendSection } from '../../stages/write-notes.js';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces } from '../../stages/trace/compare.js';
import { parseTraceFile } from '../../stages/trace/parse.js';
import type { ConfigSnapshot } from '../../stages/snapshot-config.js';
import type { StageContext } from '../../src/stage-api/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

function context(root: string, w: Record<string, unknown>): StageContext {
  return {
    stage: 'notes',
    root,
    cwd: root,
    with: w,
    outs: ['notes.md'],
    deps: [],
    params: {},
    env: {},
    log: { info: () => {}, warn: () => {} },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: {
      file: join(root, 'pipeline.yaml'),
      params: {},
      env: {},
      stages: [{ name: 'compare', command: 'uses compare-traces with {"api_token":"tok-secret-1"}', deps: [], outs: ['cmp.json'], env: {} }],
    },
  };
}

const snapshot: ConfigSnapshot = {
  format: 'evidence-config-snapshot/1',
  pipeline: 'pipeline.yaml',
  params: { pixel: '1039 685' },
  env: {},
  stages: [
    { name: 'run-c', command: './nanoBragg -mat A.mat -trace_pixel 1039 685 > c.log', deps: [], outs: ['c.log'], env: {} },
    { name: 'compare', command: 'uses compare-traces with {"reference":"c.json","port":"py.json"}', deps: [], outs: ['cmp.json'], env: {} },
  ],
  tools: {},
  git: { sha: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: true, changed: ['src/port.py'] },
  inputs: [],
};

describe('write-notes stage', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'evidence-notes-'));
    const ref = await parseTraceFile(join(fixtures, 'pix0-custom-convention', 'ref_c.log'));
    const port = await parseTraceFile(join(fixtures, 'pix0-custom-convention', 'port_py.log'));
    await writeComparison(join(root, 'cmp.json'), compareTraces(ref, port, { checkpoints: ['pixel_pos_meters', 'F_latt'] }));
    writeFileSync(join(root, 'snapshot.json'), JSON.stringify(snapshot));
  });

  it('appends one dated section per run and keeps the earlier bytes byte for byte', async () => {
    // Earlier content with CRLF, non-UTF-8 bytes and no final newline: nothing may be normalised.
    const earlier = Buffer.concat([Buffer.from('# Notes\r\n\r\nHand-written: Δk ≈ 1.8e-2 \xff\xfe', 'latin1'), Buffer.from([0x00, 0xc3, 0x28]), Buffer.from('no newline at end')]);
    writeFileSync(join(root, 'notes.md'), earlier);
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp.json', snapshot: 'snapshot.json', title: 'pix0 check' }));
    const once = readFileSync(join(root, 'notes.md'));
    expect(once.subarray(0, earlier.length).equals(earlier)).toBe(true);
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }));
    const twice = readFileSync(join(root, 'notes.md'));
    expect(twice.subarray(0, once.length).equals(once)).toBe(true);
    const added = twice.subarray(earlier.length).toString('utf8');
    const headings = added.match(/^## \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z — .*$/gm) ?? [];
    expect(headings).toHaveLength(2);
    expect(headings[0]).toMatch(/pix0 check$/);
    expect(added.startsWith('\n\n## ')).toBe(true);
    // No temporary files left next to the notes.
    expect(readdirSync(root).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('records commands, git state, key deltas and the first divergence against the checkpoints', () => {
    const text = readFileSync(join(root, 'notes.md'), 'utf8');
    const section = text.slice(text.indexOf('## '), text.indexOf('## ', text.indexOf('## ') + 3));
    expect(section).toContain('./nanoBragg -mat A.mat -trace_pixel 1039 685 > c.log');
    expect(section).toContain('`0123456789abcdef0123456789abcdef01234567` (dirty: uncommitted changes) on main');
    expect(section).toContain('First divergence: `pix0_vector_meters` (DIVERGENT)');
    expect(section).toContain('Checkpoint `pixel_pos_meters`: the first divergence (pix0_vector_meters) lies upstream');
    expect(section).toContain('Checkpoint `F_latt`: the first divergence (pix0_vector_meters) lies upstream');
    expect(section).toContain('| `pix0_vector_meters` |');
    expect(section).toContain('| `F_latt` | 35636.0822038919 | -5.66066337829513 |');
    expect(section).not.toContain('| `fdet_vec` |'); // MATCH items are not key deltas
    expect(section).toMatch(/<!-- evidence:write-notes sha256:[0-9a-f]{64} -->/);
  });

  it('creates the notes file when absent; without a snapshot it uses the pipeline (redacted) and git', async () => {
    expect(existsSync(join(root, 'fresh.md'))).toBe(false);
    await writeNotesStage.run(context(root, { notes: 'fresh.md', comparison: 'cmp.json' }));
    const text = readFileSync(join(root, 'fresh.md'), 'utf8');
    expect(text.startsWith('## ')).toBe(true);
    expect(text).toContain('- Git: not a git repository');
    expect(text).toContain('uses compare-traces with {"api_token":"***REDACTED***"}');
    expect(text).not.toContain("tok-secret-1");
  });

  it('appendSection separates sections by exactly one blank line', () => {
    expect(appendSection(Buffer.from(''), '## a\n').toString()).toBe('## a\n');
    expect(appendSection(Buffer.from('x'), '## a\n').toString()).toBe('x\n\n## a\n');
    expect(appendSection(Buffer.from('x\n'), '## a\n').toString()).toBe('x\n\n## a\n');
    expect(appendSection(Buffer.from('x\n\n'), '## a\n').toString()).toBe('x\n\n## a\n');
  });

  it('fails on a malformed snapshot with the instance path', async () => {
    writeFileSync(join(root, 'bad-snapshot.json'), JSON.stringify({ ...snapshot, git: { ...snapshot.git, dirty: 'yes' } }));
    await expect(writeNotesStage.run(context(root, { notes: 'x.md', comparison: 'cmp.json', snapshot: 'bad-snapshot.json' }))).rejects.toThrow('/git/dirty');
    expect(existsSync(join(root, 'x.md'))).toBe(false);
  });
});
