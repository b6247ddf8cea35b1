// The default pipeline.yaml end to end, in a copy of the repository's pipeline and example, with
// the compiled CLI: every key matches, each planted bug shows where it should, every artifact
// validates, and a corrupted intermediate fails the stage that reads it.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, TestProject } from '../helpers/project.js';
import { validateAgainst } from '../../src/schema/validate.js';

const OUT = 'reports/example/multi-phi';
// The default pipeline sweeps every configuration; these tests narrow it to one (tests/pipeline/sweep.test.ts runs them all).
const ONE = ['-p', 'config=multi-phi'];

interface Item {
  name: string;
  key: string;
  status: string;
  roundOff?: boolean;
  diagnoses?: Array<{ kind: string; power?: number; ratio?: number }>;
}
interface Comparison {
  verdict: string;
  firstDivergence: { name: string; status: string; diagnoses: Array<{ kind: string; power?: number }> } | null;
  items: Item[];
  totals: Record<string, number>;
}

let p: TestProject;

function comparison(): Comparison {
  return JSON.parse(p.read(`${OUT}/comparison.json`)) as Comparison;
}

function runWith(...args: string[]) {
  const r = p.cli(['run', ...ONE, ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
}

/** A project holding the default pipeline, as a user's clone would after `npm install`. */
function defaultProject(): TestProject {
  const project = new TestProject({ '.gitignore': 'node_modules\n' });
  for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(REPO_ROOT, part), project.path(part), { recursive: true });
  // The port's build script uses the typescript package, installed with the tool.
  symlinkSync(join(REPO_ROOT, 'node_modules'), project.path('node_modules'));
  return project;
}

beforeAll(() => {
  p = defaultProject();
  p.initGit();
}, 120_000);

describe('the default pipeline', () => {
  it('runs on a fresh copy and finds every key matching, and the summary says so', () => {
    const r = runWith();
    for (const s of ['snapshot', 'c_trace', 'ts_trace', 'parse_c', 'parse_ts', 'compare', 'report', 'summarize', 'notes']) expect(r.stdout).toContain(`✓ ${s}@multi-phi done`);
    for (const s of ['build_c', 'build_port', 'sweep', 'sweep_report']) expect(r.stdout).toContain(`✓ ${s} done`);
    const c = comparison();
    expect(c.verdict).toBe('MATCH');
    expect(c.firstDivergence).toBeNull();
    expect(c.totals.compared).toBeGreaterThan(80);
    expect(c.items.every((i) => i.status === 'MATCH')).toBe(true);
    // Ten phi steps, each a record aligned by phi_tic.
    expect(c.items.filter((i) => /^TRACE_C_PHI\[phi_tic=9\]/.test(i.name)).length).toBeGreaterThan(0);
    const summary = p.read(`${OUT}/summary.md`);
    expect(summary).toMatch(/Verdict: \*\*MATCH\*\*/);
    expect(summary).toMatch(/every compared value is within tolerance/);
    for (const f of ['trace_c.log', 'trace_ts.log', 'trace_c.stderr.txt', 'trace_ts.stderr.txt', 'config_snapshot.json', 'trace_c.json', 'trace_ts.json', 'comparison.json', 'summary.md', 'notes.md', 'report.html', 'chain.svg']) {
      expect(p.exists(`${OUT}/${f}`), f).toBe(true);
    }
    // A second run starts nothing.
    expect(p.cli(['run', ...ONE]).stdout).toMatch(/ok: 13 up to date/);
  });

  it('every JSON artifact validates against its schema', () => {
    const schemas: Record<string, string> = {
      'config_snapshot.json': 'config-snapshot.schema.json',
      'trace_c.json': 'trace.schema.json',
      'trace_ts.json': 'trace.schema.json',
      'comparison.json': 'comparison.schema.json',
    };
    for (const [file, schema] of Object.entries(schemas)) {
      const value = JSON.parse(p.read(`${OUT}/${file}`));
      expect(validateAgainst(join(REPO_ROOT, 'schemas', schema), value), file).toEqual([]);
    }
  });

  it('inject=pixel-center: the first divergence is pixel_pos_meters', () => {
    const r = runWith('-p', 'inject=pixel-center');
    // Only the port side re-runs.
    expect(r.stdout).toMatch(/• c_trace@multi-phi up to date/);
    expect(r.stdout).toMatch(/• build_c up to date/);
    const c = comparison();
    expect(c.firstDivergence?.name).toBe('pixel_pos_meters');
    const before = c.items.slice(0, c.items.findIndex((i) => i.name === 'pixel_pos_meters'));
    expect(before.every((i) => i.status === 'MATCH')).toBe(true);
  });

  it('inject=phi-carryover: the first divergence is in the per-phi lattice factors at phi_tic ≥ 1, upstream keys matching', () => {
    runWith('-p', 'inject=phi-carryover');
    const c = comparison();
    const first = c.firstDivergence!;
    const m = /^TRACE_C_PHI\[phi_tic=(\d+)\]\.(F_latt\w*)$/.exec(first.name);
    expect(m, first.name).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
    const index = c.items.findIndex((i) => i.name === first.name);
    const upstream = c.items.slice(0, index);
    for (const key of ['pix0_vector_meters', 'pixel_pos_meters', 'scattering_vec_A_inv', 'hkl_frac', 'F_latt', 'TRACE_C_PHI[phi_tic=0].F_latt']) {
      expect(upstream.find((i) => i.name === key)?.status, key).toBe('MATCH');
    }
  });

  it('inject=angstrom-meter: the first divergence is scattering_vec_A_inv, diagnosed as a 1e10 unit factor', () => {
    runWith('-p', 'inject=angstrom-meter');
    const c = comparison();
    expect(c.firstDivergence?.name).toBe('scattering_vec_A_inv');
    const unit = c.firstDivergence!.diagnoses.find((d) => d.kind === 'unit-factor');
    expect(Math.abs(unit!.power!)).toBe(10);
    expect(p.read(`${OUT}/summary.md`)).toMatch(/m ↔ Å/);
  });

  it('inject=float32: differences within the float32 budget are single-precision round-off, and nothing beyond it is called float32', () => {
    runWith('-p', 'inject=float32');
    const c = comparison();
    const differing = c.items.filter((i) => i.status !== 'MATCH');
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.some((i) => i.roundOff)).toBe(true);
    for (const i of differing) {
      const kinds = i.diagnoses?.map((d) => d.kind) ?? [];
      if (i.roundOff) expect(kinds, i.name).toContain('single-precision');
      else expect(kinds, i.name).not.toContain('single-precision');
    }
  });

  it('back to no bug: every port-side stage is restored from the cache; only notes runs, to append', () => {
    const r = runWith();
    expect(r.stdout.match(/▶ ([\w@-]+) started/g)).toEqual(['▶ notes@multi-phi started']);
    expect(r.stdout).toMatch(/ts_trace@multi-phi restored from cache/);
    expect(r.stdout).toMatch(/compare@multi-phi restored from cache/);
    expect(r.stdout).toMatch(/sweep restored from cache/);
    expect(comparison().verdict).toBe('MATCH');
  });

  it('notes.md gains one dated section per comparison and keeps earlier ones byte for byte', () => {
    const notes = p.read(`${OUT}/notes.md`);
    const sections = notes.match(/^## /gm) ?? [];
    // One per distinct comparison that ran: none, pixel-center, phi-carryover, angstrom-meter, float32, none again.
    expect(sections.length).toBeGreaterThanOrEqual(5);
    const before = notes;
    runWith('-p', 'tolerance=1e-7');
    expect(p.read(`${OUT}/notes.md`).startsWith(before)).toBe(true);
  });

  it('repairs a hand-corrupted intermediate from the cache before anything reads it', () => {
    runWith();
    const file = p.path(`${OUT}/trace_ts.json`);
    const good = readFileSync(file, 'utf8');
    const doc = JSON.parse(good);
    doc.records[2].values = 'abc';
    writeFileSync(file, JSON.stringify(doc));
    const r = runWith();
    expect(r.stdout).toMatch(/parse_ts@multi-phi restored from cache/);
    expect(readFileSync(file, 'utf8')).toBe(good);
  });

  it('a hand-corrupted trace JSON that a stage reads fails that stage, naming the schema path', () => {
    const q = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  compare:
    uses: compare-traces
    with: { reference: traces/c.json, port: traces/ts.json }
    deps: [traces]
    outs: [out/comparison.json]
`,
    });
    q.write('traces/c.json', p.read(`${OUT}/trace_c.json`));
    const doc = JSON.parse(p.read(`${OUT}/trace_ts.json`));
    doc.records[2].values = 'abc';
    q.write('traces/ts.json', JSON.stringify(doc));
    const r = q.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/compare failed: .*ts\.json.*\/records\/2\/values/);
    expect(q.exists('out/comparison.json')).toBe(false);
  });

  it('a corrupted out fails the stage that wrote it, with the schema path', () => {
    const p2 = defaultProject();
    // A schema that the real parse output cannot meet: the runner checks every out with a schema.
    const schemaFile = p2.path('schemas/trace.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    schema.required = [...(schema.required ?? []), 'no_such_field'];
    writeFileSync(schemaFile, JSON.stringify(schema));
    const r = p2.cli(['run', 'parse_c@multi-phi']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/parse_c@multi-phi failed: out 'reports\/example\/multi-phi\/trace_c.json' breaks schemas\/trace.schema.json: \/ must have required property 'no_such_field'/);
  });
});
