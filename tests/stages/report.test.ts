// The report stage through the compiled CLI, in a temp project: summary.md embeds the chain plot the
// report stage wrote and links the report, both relative to the summary; a re-run changes nothing;
// the page is byte-identical when made again; bad input fails clearly and leaves no page behind.
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const log = (prefix: string, scale: number) =>
  ['a 1.5', 'b 2 3 4', 'c 0.25', 'd 7'].map((l, i) => `${prefix}: ${l.split(' ')[0]} ${l.split(' ').slice(1).map((v) => (i === 2 ? Number(v) * scale : Number(v))).join(' ')}`).join('\n') + '\n';

const PIPELINE = `version: 1
stages:
  parse_c:
    uses: parse-trace
    with: { input: c.log, prefix: TRACE_C, output: out/c.json }
  parse_py:
    uses: parse-trace
    with: { input: py.log, prefix: TRACE_PY, output: out/py.json }
  compare:
    uses: compare-traces
    with: { reference: out/c.json, port: out/py.json, output: out/comparison.json }
  report:
    uses: report
    with: { comparison: out/comparison.json, output: out/html/report.html, chart: out/html/chain.svg }
  summarize:
    uses: summarize
    with: { comparison: out/comparison.json, output: out/summary.md, report: out/html/report.html, chart: out/html/chain.svg }
`;

function project(): TestProject {
  const p = new TestProject({ 'pipeline.yaml': PIPELINE, 'c.log': log('TRACE_C', 1), 'py.log': log('TRACE_PY', 1e-10) });
  p.initGit();
  return p;
}

describe('the report stage', () => {
  it('writes report.html and chain.svg before the summary, which embeds and links them relative to itself', () => {
    const p = project();
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The summary reads them as deps: it runs after the report.
    expect(r.stdout.indexOf('✓ report done')).toBeLessThan(r.stdout.indexOf('✓ summarize done'));
    const summary = p.read('out/summary.md');
    expect(summary).toContain('](html/chain.svg)');
    expect(summary).toContain('](html/report.html)');
    const html = p.read('out/html/report.html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('1: c');
    expect(p.read('out/html/chain.svg')).toMatch(/^<svg/);
    expect(p.cli(['validate']).stderr).not.toMatch(/warning/i);
    expect(p.cli(['run']).stdout).toMatch(/ok: 5 up to date/);
    // Made again from nothing, the page is the same bytes (early cutoff and cache restores stay exact).
    p.remove('.evidence');
    p.remove('evidence.lock');
    p.remove('out/html');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('out/html/report.html')).toBe(html);
  });

  it('refuses a with: that names both a comparison and a sweep, at its line', () => {
    const p = project();
    p.write('pipeline.yaml', PIPELINE.replace('with: { comparison: out/comparison.json, output: out/html/report.html, chart: out/html/chain.svg }', 'with: { comparison: out/comparison.json, sweep: out/sweep.json, comparisons: [out/comparison.json], output: out/html/report.html }'));
    const r = p.cli(['validate']);
    expect(r.code).not.toBe(0);
    const line = p.read('pipeline.yaml').split('\n').findIndex((l) => l.includes('sweep: out/sweep.json')) + 1;
    expect(r.stderr).toMatch(new RegExp(`pipeline\\.yaml:${line}:\\d+: error`));
    expect(r.stderr).toMatch(/error: stages\.report\.with\.comparison is not allowed together with the keys given beside it/);
  });

  it('fails a sweep report whose sweep names a comparison it was not given, writing no page', () => {
    const p = project();
    p.write(
      'pipeline.yaml',
      PIPELINE +
        `  sweep:
    uses: summarize-sweep
    with: { comparisons: [out/comparison.json], output: out/sweep.json }
  sweep_report:
    uses: report
    with: { sweep: out/sweep.json, comparisons: [c.log], output: out/sweep.html }
`,
    );
    const r = p.cli(['run']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('names comparisons not in with.comparisons');
    expect(r.stdout + r.stderr).toContain('out/comparison.json');
    expect(p.exists('out/sweep.html')).toBe(false);
  });
});
