// `evidence show` and `evidence history` through the real CLI: what the comparisons found, read
// from their artifacts without running anything, current, stale (and why) or missing; and each
// stored version of an artifact with the params of the run that made it.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const REF_LOG = 'TRACE_C: alpha 1.0\nTRACE_C: beta 2.0 3.0 4.0\nTRACE_C: gamma 5.0\n';
/** beta differs in its second component: DIVERGENT. */
const PORT_LOG = 'TRACE_TS: alpha 1.0\nTRACE_TS: beta 2.0 3.5 4.0\nTRACE_TS: gamma 5.0\n';

function project(): TestProject {
  return new TestProject({
    'traces/ref.log': REF_LOG,
    'traces/port.log': PORT_LOG,
    'pipeline.yaml': `version: 1
params: { tol: 1.0e-6, api_token: "not-for-your-eyes" }
stages:
  parse_ref:
    uses: parse-trace
    with: { input: traces/ref.log }
    deps: [traces/ref.log]
    outs: [out/ref.json]
  parse_port:
    uses: parse-trace
    with: { input: traces/port.log }
    deps: [traces/port.log]
    outs: [out/port.json]
  cmp:
    uses: compare-traces
    with: { reference: out/ref.json, port: out/port.json, tolerance: { rel: "\${params.tol}" } }
    deps: [out/ref.json, out/port.json]
    outs: [out/comparison.json]
  count:
    cmd: 'wc -c < out/comparison.json > out/size.txt'
    deps: [out/comparison.json]
    outs: [out/size.txt]
`,
  });
}

describe('evidence show', () => {
  it('says an artifact is missing before the first run, and runs nothing', () => {
    const p = project();
    const r = p.cli(['show']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('cmp: missing out/comparison.json: nothing to show; evidence run cmp makes it\n');
    expect(p.exists('out')).toBe(false);
    expect(p.exists('evidence.lock')).toBe(false);
  });

  it('prints the verdict, headline and each finding of the current artifact without running anything', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    const lock = statSync(p.path('evidence.lock')).mtimeMs;
    const runs = p.read('.evidence/runs.jsonl');
    const r = p.cli(['show']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('cmp: DIVERGENT (out/comparison.json)');
    expect(lines[1]).toMatch(/^ {2}first divergence beta \(DIVERGENT, Δ rel [0-9.e-]+\)/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}! beta: reference \[2, 3, 4\] \(traces\/ref\.log:2\), port \[2, 3\.5, 4\]/));
    expect(r.stdout).not.toMatch(/stale|missing/);
    // Nothing ran or was recorded.
    expect(statSync(p.path('evidence.lock')).mtimeMs).toBe(lock);
    expect(p.read('.evidence/runs.jsonl')).toBe(runs);

    const json = JSON.parse(p.cli(['show', '--json']).stdout);
    expect(json.stages).toHaveLength(1);
    expect(json.stages[0]).toMatchObject({ stage: 'cmp', out: 'out/comparison.json', state: 'current', reasons: [], findings: { verdict: 'DIVERGENT', severity: 'problem' } });
  });

  it('says when the artifact is stale, and why, while still showing what the last run found', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.write('traces/port.log', REF_LOG.replace(/TRACE_C/g, 'TRACE_TS'));
    const r = p.cli(['show']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      'cmp: DIVERGENT (out/comparison.json)',
      "  stale: upstream 'parse_port' would run; this is what the last run found (evidence run cmp updates it)",
    ]);
    // An override is judged like status judges it.
    p.write('traces/port.log', PORT_LOG);
    const tol = JSON.parse(p.cli(['show', '--json', '-p', 'tol=1e-3']).stdout).stages[0];
    expect(tol).toMatchObject({ state: 'stale', reasons: ['with.tolerance.rel changed (1e-6 → 0.001)', 'param tol changed (1e-6 → 0.001)'] });
    expect(p.cli(['show']).stdout).not.toMatch(/stale/);

    p.remove('out/comparison.json');
    expect(p.cli(['show', 'cmp']).stdout).toBe('cmp: missing out/comparison.json: nothing to show; evidence run cmp makes it\n');
  });

  it('says so when the stages asked for report no findings, and refuses an unknown stage', () => {
    const p = project();
    expect(p.cli(['show', 'count']).stdout).toBe('no findings to show: count read none (only some kinds of stage report findings)\n');
    const bad = p.cli(['show', 'cmpp']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no stage named 'cmpp'/);
  });
});

describe('evidence history', () => {
  it('shows the params each version was made with, a secret as such', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    expect(p.cli(['run', '-p', 'tol=1e-1']).code).toBe(0);
    const r = p.cli(['history', 'out/comparison.json']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/stage \(event\) {2}params$/);
    expect(rows.slice(1).map((l) => l.replace(/^.*cmp \(produced\) {2}/, ''))).toEqual(['tol=1e-6 api_token=(secret)', 'tol=0.1 api_token=(secret)']);
    expect(r.stdout).not.toContain('not-for-your-eyes');
    const json = JSON.parse(p.cli(['history', '--json', 'out/comparison.json']).stdout);
    expect(json.map((h: { params: Record<string, unknown> }) => h.params.tol)).toEqual([1e-6, 0.1]);
  });
});
