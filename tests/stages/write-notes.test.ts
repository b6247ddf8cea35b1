// The write-notes stage: appends dated sections to notes.md without touching a byte of what was
// there, and only when the comparison it describes changed.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import writeNotesStage, { appendSection } from '../../stages/write-notes.js';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces } from '../../stages/trace/compare.js';
import { parseTraceFile } from '../../stages/trace/parse.js';
import { recordPipeline, SNAPSHOT_FORMAT, type ConfigSnapshot } from '../../stages/provenance/snapshot.js';
import type { PipelineView, StageContext } from '../../src/stage-api/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'real-pairs');

const params = { pixel: '1039 685' };
const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function pipelineView(root: string): PipelineView {
  return {
    file: join(root, 'pipeline.yaml'),
    params,
    env: {},
    stages: [
      { name: 'run-c', command: './nanoBragg -mat A.mat -trace_pixel 1039 685 > c.log', deps: [], outs: ['c.log'], env: {} },
      { name: 'compare', command: 'uses compare-traces with {"reference":"c.json","port":"py.json","api_token":"tok-secret-1"}', deps: [], outs: ['cmp.json'], env: {} },
    ],
  };
}

function context(root: string, w: Record<string, unknown>, over: Partial<StageContext> = {}): StageContext {
  return {
    stage: 'notes',
    root,
    cwd: root,
    with: w,
    outs: ['notes.md'],
    deps: ['cmp.json', 'cmp-loose.json', 'snapshot.json', 'bad-snapshot.json', 'old-snapshot.json'],
    params,
    env: {},
    log: { info: () => {}, warn: () => {} },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: pipelineView(root),
    ...over,
  };
}

/** A snapshot of the test's pipeline, as snapshot-config would write it (git and tools made up). */
function snapshotOf(root: string): ConfigSnapshot {
  return {
    format: SNAPSHOT_FORMAT,
    evidence: '9.9.9',
    pipeline: 'pipeline.yaml',
    ...recordPipeline(pipelineView(root), params),
    tools: { cc: { command: 'cc --version', version: 'cc (GCC) 13.2.0', error: null } },
    git: { sha: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: true, changed: ['src/port.py'], date: '2025-01-02T03:04:05.000Z' },
    inputs: [],
  };
}

describe('write-notes stage', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'evidence-notes-'));
    const ref = await parseTraceFile(join(fixtures, 'pix0-custom-convention', 'ref_c.log'));
    const port = await parseTraceFile(join(fixtures, 'pix0-custom-convention', 'port_py.log'));
    await writeComparison(join(root, 'cmp.json'), compareTraces(ref, port, { checkpoints: ['pixel_pos_meters', 'F_latt'], aliases: { pix0_port: 'pix0_vector_meters' }, ignore: ['spindle_*'] }));
    await writeComparison(join(root, 'cmp-loose.json'), compareTraces(ref, port, { tolerance: { rel: 1e-2 }, aliases: { pix0_port: 'pix0_vector_meters' }, ignore: ['spindle_*'] }));
    writeFileSync(join(root, 'snapshot.json'), JSON.stringify(snapshotOf(root)));
  });

  it('appends a dated section when the comparison changed, none when it is the same, and keeps the earlier bytes byte for byte', async () => {
    // Earlier content with CRLF, non-UTF-8 bytes and no final newline: nothing may be normalised.
    const earlier = Buffer.concat([Buffer.from('# Notes\r\n\r\nHand-written: Δk ≈ 1.8e-2 \xff\xfe', 'latin1'), Buffer.from([0x00, 0xc3, 0x28]), Buffer.from('no newline at end')]);
    const notes = join(root, 'notes.md');
    writeFileSync(notes, earlier);
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp.json', snapshot: 'snapshot.json', title: 'pix0 check' }));
    const once = readFileSync(notes);
    expect(once.subarray(0, earlier.length).equals(earlier)).toBe(true);

    // The same comparison again: not a byte more, but the file is this run's (the runner checks its mtime).
    utimesSync(notes, new Date(2000, 0, 1), new Date(2000, 0, 1));
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }));
    expect(readFileSync(notes).equals(once)).toBe(true);
    expect(statSync(notes).mtime.getFullYear()).toBeGreaterThan(2000);

    // Another comparison (another tolerance: other statuses), then the first one again: a section each.
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp-loose.json', snapshot: 'snapshot.json' }));
    await writeNotesStage.run(context(root, { notes: 'notes.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }));
    const after = readFileSync(notes);
    expect(after.subarray(0, once.length).equals(once)).toBe(true);
    const added = after.subarray(earlier.length).toString('utf8');
    const headings = added.match(/^## \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z — .*$/gm) ?? [];
    expect(headings).toHaveLength(3);
    expect(headings[0]).toMatch(/pix0 check$/);
    expect(added.startsWith('\n\n## ')).toBe(true);
    const identities = [...added.matchAll(/^<!-- evidence:write-notes subject=notes identity=(sha256:[0-9a-f]{64}) -->$/gm)].map((m) => m[1]);
    expect(identities).toEqual([sha(readFileSync(join(root, 'cmp.json'))), sha(readFileSync(join(root, 'cmp-loose.json'))), sha(readFileSync(join(root, 'cmp.json')))]);
    // No temporary files left next to the notes.
    expect(readdirSync(root).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('records commands, params, comparison options, tools, git state, key deltas and the first divergence against the checkpoints', () => {
    const text = readFileSync(join(root, 'notes.md'), 'utf8');
    const section = text.slice(text.indexOf('## '), text.indexOf('## ', text.indexOf('## ') + 3));
    expect(section).toContain('./nanoBragg -mat A.mat -trace_pixel 1039 685 > c.log');
    expect(section).toContain('- Params: `pixel=1039 685`');
    expect(section).toContain('- Comparison options: aliases `pix0_port=pix0_vector_meters`; ignored `spindle_*`; records matched by order of appearance');
    expect(section).toContain('- Tools: `evidence 9.9.9` · `cc cc (GCC) 13.2.0`');
    expect(section).toMatch(/- From: snapshot `snapshot\.json` \(sha256 [0-9a-f]{12}\)/);
    // The uses-stage's JSON is redacted as data: still JSON, the token gone.
    const usesLine = section.split('\n').find((l) => l.startsWith('uses compare-traces with '))!;
    expect(JSON.parse(usesLine.slice('uses compare-traces with '.length))).toEqual({ reference: 'c.json', port: 'py.json', api_token: '***REDACTED***' });
    expect(section).toContain('`0123456789abcdef0123456789abcdef01234567` (dirty: uncommitted changes) on main');
    expect(section).toContain('First divergence: `pix0_vector_meters` (DIVERGENT)');
    expect(section).toContain('Checkpoint `pixel_pos_meters`: the first divergence (pix0_vector_meters) lies upstream');
    expect(section).toContain('Checkpoint `F_latt`: the first divergence (pix0_vector_meters) lies upstream');
    expect(section).toContain('| `pix0_vector_meters` |');
    expect(section).toContain('| `F_latt` | 35636.0822038919 | -5.66066337829513 |');
    expect(section).not.toContain('| `fdet_vec` |'); // MATCH items are not key deltas
    expect(section).toMatch(/\n\n<!-- evidence:write-notes subject=notes identity=sha256:[0-9a-f]{64} -->\n\n$/);
  });

  it('creates the notes file when absent; without a snapshot it uses the pipeline (redacted) and git', async () => {
    expect(existsSync(join(root, 'fresh.md'))).toBe(false);
    await writeNotesStage.run(context(root, { notes: 'fresh.md', comparison: 'cmp.json' }, { params: { pixel: [7, 9] } }));
    const text = readFileSync(join(root, 'fresh.md'), 'utf8');
    expect(text.startsWith('## ')).toBe(true);
    expect(text).toContain('- Git: not a git repository');
    expect(text).toContain('- Params: `pixel=[7,9]`');
    expect(text).toContain('- From: the pipeline and git, read when this section was written (no snapshot given)');
    expect(text).toContain('uses compare-traces with {"reference":"c.json","port":"py.json","api_token":"***REDACTED***"}');
    expect(text).not.toContain('tok-secret-1');
  });

  it('refuses a snapshot of another run, naming what differs, and writes nothing', async () => {
    await expect(writeNotesStage.run(context(root, { notes: 'stale.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }, { params: { pixel: [7, 9] } }))).rejects.toThrow(
      /snapshot 'snapshot\.json' describes another run than this one \(param pixel is \[7,9\], the snapshot has "1039 685"\)/,
    );
    const moved = pipelineView(root);
    moved.stages[1]!.command = moved.stages[1]!.command.replace('py.json', 'torch.json');
    await expect(writeNotesStage.run(context(root, { notes: 'stale.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }, { pipeline: moved }))).rejects.toThrow(
      /stage compare's command differ/,
    );
    expect(existsSync(join(root, 'stale.md'))).toBe(false);
  });

  it('refuses a snapshot that is not among its deps (a new snapshot would not re-run it)', async () => {
    await expect(writeNotesStage.run(context(root, { notes: 'x.md', comparison: 'cmp.json', snapshot: 'snapshot.json' }, { deps: ['cmp.json'] }))).rejects.toThrow(
      "snapshot 'snapshot.json' is not among the deps of stage 'notes'",
    );
  });

  it('refuses a snapshot made by an older evidence with a hint', async () => {
    writeFileSync(join(root, 'old-snapshot.json'), JSON.stringify({ ...snapshotOf(root), format: 'evidence-config-snapshot/1' }));
    await expect(writeNotesStage.run(context(root, { notes: 'x.md', comparison: 'cmp.json', snapshot: 'old-snapshot.json' }))).rejects.toThrow(
      /a evidence-config-snapshot\/1 snapshot, this evidence reads evidence-config-snapshot\/2: re-run the stage that makes it/,
    );
  });

  it('appendSection separates sections by exactly one blank line', () => {
    expect(appendSection(Buffer.from(''), '## a\n').toString()).toBe('## a\n');
    expect(appendSection(Buffer.from('x'), '## a\n').toString()).toBe('x\n\n## a\n');
    expect(appendSection(Buffer.from('x\n'), '## a\n').toString()).toBe('x\n\n## a\n');
    expect(appendSection(Buffer.from('x\n\n'), '## a\n').toString()).toBe('x\n\n## a\n');
  });

  it('fails on a malformed snapshot with the instance path', async () => {
    const good = snapshotOf(root);
    writeFileSync(join(root, 'bad-snapshot.json'), JSON.stringify({ ...good, git: { ...good.git, dirty: 'yes' } }));
    await expect(writeNotesStage.run(context(root, { notes: 'x.md', comparison: 'cmp.json', snapshot: 'bad-snapshot.json' }))).rejects.toThrow('/git/dirty');
    expect(existsSync(join(root, 'x.md'))).toBe(false);
  });
});
