// Provenance that cannot be stale, end to end on a copy of the default pipeline with the compiled
// CLI: change `-p pixel`, change the compare stage's aliases, edit a port source, revert. After
// each run, the notes section it appended and summary.md describe exactly the run that made them:
// the snapshot's params, the pixel, the aliases, the git state; and the revert brings back the
// first run's snapshot and summary from the cache, byte for byte.
import { createHash } from 'node:crypto';
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TestProject } from '../helpers/project.js';

const OUT = 'reports/example/multi-phi';
const SNAPSHOT = `${OUT}/config_snapshot.json`;
const PIXEL = '[40, 50]';
const ALIAS = 'I_before_scaling_pre_polar: I_before_scaling';
const SOURCE = 'example/port/trace.ts';

interface Snapshot {
  params: Record<string, unknown>;
  stages: Array<{ name: string; command: string }>;
  git: { sha: string | null; dirty: boolean | null; changed: string[] };
}

let p: TestProject;
let head: string;
let original: { pipeline: string; source: string };

function run(...args: string[]): string {
  // One configuration of the default sweep is enough here.
  const r = p.cli(['run', '-p', 'config=multi-phi', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout;
}

const sha12 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
const line = (md: string, label: string) => new RegExp(`^- ${label}: (.*)$`, 'm').exec(md)?.[1];

function sections(): string[] {
  return p.read(`${OUT}/notes.md`).split(/^(?=## \d{4}-)/m).filter((s) => s.startsWith('## '));
}

/** What one run left: its snapshot, the section it appended and the summary. */
function state() {
  const snapshotText = p.read(SNAPSHOT);
  return { snapshotText, snapshot: JSON.parse(snapshotText) as Snapshot, notes: sections().at(-1)!, count: sections().length, summary: p.read(`${OUT}/summary.md`) };
}

/**
 * The notes section and the summary agree with each other and with the snapshot on disk: the
 * section names that very snapshot (by hash), and all three carry the same params and aliases.
 */
function expectOneRun(s: ReturnType<typeof state>, expected: { pixel: string; aliases: string; dirty: string[] }): void {
  expect(line(s.notes, 'From')).toBe(`snapshot \`${SNAPSHOT}\` (sha256 ${sha12(s.snapshotText)})`);
  expect(s.snapshot.params.pixel).toEqual(JSON.parse(expected.pixel));
  const params = line(s.notes, 'Params')!;
  const pixel = JSON.parse(expected.pixel) as unknown;
  expect(params).toContain(`\`pixel=${typeof pixel === 'string' ? pixel : JSON.stringify(pixel)}\``);
  for (const [name, value] of Object.entries(s.snapshot.params)) expect(params).toContain(`\`${name}=${typeof value === 'string' ? value : JSON.stringify(value)}\``);
  expect(line(s.summary, 'Params')).toBe(params);
  const options = `aliases ${expected.aliases}; ignored none; records matched by \`phi_tic\``;
  expect(line(s.notes, 'Comparison options')).toBe(options);
  expect(line(s.summary, 'Comparison options')).toBe(options);
  // The compare command the snapshot recorded is the one in the notes: with the same aliases.
  const compare = s.snapshot.stages.find((x) => x.name === 'compare@multi-phi')!.command;
  expect(s.notes).toContain(`# compare@multi-phi\n${compare}\n`);
  expect(compare.includes('I_before_scaling_pre_polar')).toBe(expected.aliases !== 'none');
  expect(s.snapshot.git).toMatchObject({ sha: head, dirty: expected.dirty.length > 0, changed: expected.dirty });
  expect(s.notes).toContain(head);
}

beforeAll(() => {
  p = new TestProject({ '.gitignore': 'node_modules\n' });
  for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(REPO_ROOT, part), p.path(part), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), p.path('node_modules'));
  p.initGit();
  head = p.git('rev-parse', 'HEAD').trim();
  original = { pipeline: p.read('pipeline.yaml'), source: p.read(SOURCE) };
}, 120_000);

describe('provenance across a changing pipeline (the stale-snapshot sequence)', () => {
  let first: ReturnType<typeof state>;

  it('a first run: notes and summary carry the snapshot’s params, the commit and its date', () => {
    run();
    first = state();
    expect(first.count).toBe(1);
    expectOneRun(first, { pixel: '"auto"', aliases: 'none', dirty: [] });
    expect(line(first.summary, 'Git')).toBe(`\`${head}\` on main, clean`);
    const date = new Date(Number(p.git('show', '-s', '--format=%ct', 'HEAD').trim()) * 1000).toISOString();
    expect(line(first.summary, 'Date')).toBe(`${date} (commit date of HEAD)`);
    // The summary takes its snapshot (pipeline.yaml gives summarize one): the tool versions it recorded.
    expect(line(first.summary, "Tools")).toMatch(/^`evidence \d+\.\d+\.\d+`( · `[^`]+`)+$/);
  });

  it('-p pixel: the snapshot re-runs though it never references the pixel, and says why', () => {
    const out = run('-p', `pixel=${PIXEL}`);
    expect(out).toMatch(/▶ snapshot@multi-phi started \(param pixel changed \(auto → \[40,50\]\)/);
    const s = state();
    expect(s.count).toBe(2);
    expectOneRun(s, { pixel: PIXEL, aliases: 'none', dirty: [] });
    expect(line(s.summary, 'Git')).toBe(`\`${head}\` on main, clean`);
  });

  it('new aliases in the compare stage: the snapshot re-runs, naming the stage, and the notes show the aliases', () => {
    p.write('pipeline.yaml', original.pipeline.replace('      match_by: phi_tic\n', `      match_by: phi_tic\n      aliases: { ${ALIAS} }\n`));
    const out = run('-p', `pixel=${PIXEL}`);
    expect(out).toMatch(/▶ snapshot@multi-phi started \(.*the pipeline changed: stage compare@multi-phi's with/);
    const s = state();
    expect(s.count).toBe(3);
    expectOneRun(s, { pixel: PIXEL, aliases: '`I_before_scaling_pre_polar=I_before_scaling`', dirty: ['pipeline.yaml'] });
    expect(line(s.summary, 'Git')).toBe(`\`${head}\` on main, dirty: uncommitted changes in \`pipeline.yaml\``);
  });

  it('an edited port source: notes and summary record the dirty file', () => {
    // A planted 10× bug: the comparison changes, so the summary is rewritten too.
    const before = p.read(`${OUT}/summary.md`);
    p.write(SOURCE, original.source.replace('7.94079248018965e-30', '7.94079248018965e-29'));
    run('-p', `pixel=${PIXEL}`);
    const s = state();
    expect(s.summary).not.toBe(before);
    expect(s.count).toBe(4);
    expectOneRun(s, { pixel: PIXEL, aliases: '`I_before_scaling_pre_polar=I_before_scaling`', dirty: ['example/port/trace.ts', 'pipeline.yaml'] });
    expect(line(s.summary, 'Git')).toBe(`\`${head}\` on main, dirty: uncommitted changes in \`example/port/trace.ts\`, \`pipeline.yaml\``);
  });

  it('reverted: the first snapshot and summary come back from the cache, and the new section describes the first run', () => {
    p.write('pipeline.yaml', original.pipeline);
    p.write(SOURCE, original.source);
    const out = run();
    expect(out).toMatch(/snapshot@multi-phi restored from cache/);
    expect(out).toMatch(/summarize@multi-phi restored from cache/);
    const s = state();
    expect(s.count).toBe(5);
    expect(s.snapshotText).toBe(first.snapshotText);
    expect(s.summary).toBe(first.summary);
    expectOneRun(s, { pixel: '"auto"', aliases: 'none', dirty: [] });
    // The section differs from the first one by its date only.
    expect(s.notes.replace(/^## \S+/, '')).toBe(first.notes.replace(/^## \S+/, ''));
  });

  it('the snapshot, notes and summary name no secret and every JSON line in them parses', () => {
    const s = state();
    for (const stage of s.snapshot.stages) {
      const m = /^uses \S+ with (.*)$/.exec(stage.command);
      if (m) expect(() => JSON.parse(m[1]!)).not.toThrow();
    }
    for (const text of [s.notes, s.summary]) {
      for (const l of text.split('\n').filter((x) => x.startsWith('uses '))) expect(() => JSON.parse(l.replace(/^uses \S+ with /, ''))).not.toThrow();
    }
  });
});
