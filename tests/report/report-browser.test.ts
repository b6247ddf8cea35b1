// The HTML reports as a reader sees them, in Debian's Chromium: the default pipeline's reports with
// no bug and with each planted bug (the choices of the `inject` param, read from pipeline.yaml), the
// sweep's report, the real nanoBragg run, and a comparison of 120,000 items (the compact form,
// downsampled). Every page must load without a console error or a request, draw one mark per
// compared item (or say what it thinned), mark and label the headline finding at its own point,
// and the sweep's heatmap must have one cell per instance and compared item. Expected values come
// from the comparison JSON the pipeline wrote, never from the page. Screenshots go to
// reports/screenshots/ (CI keeps reports/ as its artifacts). One browser for the whole file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type BrowserSession } from '../helpers/browser.js';
import { REPO_ROOT, TestProject } from '../helpers/project.js';

const skip = browserSkipReason();
if (skip && process.env.CI) throw new Error(`browser tests cannot be skipped in CI: ${skip}`);

const SHOTS = join(REPO_ROOT, 'reports', 'screenshots');
const CONFIGS = ['cubic-default', 'mono-phi', 'multi-phi', 'ortho-beam', 'triclinic-hkl'];

interface Item {
  name: string;
  status: string;
  index?: number;
}
interface Comparison {
  totals: Record<string, number>;
  findings: Array<{ name: string; index: number }>;
  items: Item[];
  compact?: { items: number; status: string };
}

let b: BrowserSession;

function defaultProject(): TestProject {
  const project = new TestProject({ '.gitignore': 'node_modules\n' });
  for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(REPO_ROOT, part), project.path(part), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), project.path('node_modules'));
  project.initGit();
  return project;
}

function run(p: TestProject, ...args: string[]): void {
  const r = p.cli(['run', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

async function open(file: string, javaScript = true): Promise<Page> {
  const { page, errors, requests } = await b.open(pathToFileURL(file).href, { javaScript });
  expect(errors, 'console errors').toEqual([]);
  expect(requests, 'requests').toEqual([]);
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

const translateX = (t: string | null) => Number(/translate\(([-\d.e]+)/.exec(t ?? '')?.[1]);

/** The chain plot's item marks, as (label, x) in the page's order. */
async function itemMarks(page: Page): Promise<Array<{ label: string; x: number }>> {
  return page.$$eval('#chain-plot g.items_marks > path', (els) => els.map((e) => ({ label: e.getAttribute('aria-label') ?? '', x: 0, t: e.getAttribute('transform') }))).then((ms) =>
    ms.map((m) => ({ label: m.label, x: translateX((m as unknown as { t: string }).t) })),
  );
}

const nameOf = (label: string) => label.slice(0, label.lastIndexOf(': '));

/** Asserts a comparison's report: a mark per item in order, and the headline marked and labelled. */
async function checkComparisonReport(html: string, comparison: Comparison, shot: string): Promise<Page> {
  const page = await open(html);
  const marks = await itemMarks(page);
  expect(marks.map((m) => nameOf(m.label))).toEqual(comparison.items.map((i) => i.name));
  expect(marks).toHaveLength(comparison.totals.compared!);
  const labels = await page.$$eval('#chain-plot g.finding_labels_marks > text', (els) => els.map((e) => ({ aria: e.getAttribute('aria-label'), text: e.textContent })));
  expect(labels).toHaveLength(comparison.findings.length);
  const headline = comparison.findings[0];
  if (headline) {
    expect(labels[0]).toEqual({ aria: `finding 1: ${headline.name}`, text: `1: ${headline.name}` });
    // The finding's rule stands on the headline's own point.
    const rule = await page.$eval('#chain-plot g.finding_rules_marks > line', (e) => e.getAttribute('transform'));
    const point = marks.find((m) => nameOf(m.label) === headline.name)!;
    expect(translateX(rule)).toBeCloseTo(point.x, 6);
    expect(await page.textContent('#findings')).toContain(`Headline: ${headline.name}`);
    expect(await page.textContent('h2#vector')).toContain(headline.name);
  } else {
    expect(await page.textContent('#findings')).toMatch(/None: every/);
  }
  await shoot(page, shot);
  return page;
}

/** Asserts the sweep's report: a heatmap cell per instance and compared item, rows grouped by headline. */
async function checkSweepReport(p: TestProject, shot: string): Promise<string[]> {
  const sweep = JSON.parse(p.read('reports/example/sweep.json')) as { instances: Array<{ stage: string; comparison: string }>; groups: Array<{ instances: string[] }> };
  const comparisons = sweep.instances.map((i) => JSON.parse(p.read(i.comparison)) as Comparison);
  const columns = new Set(comparisons.flatMap((x) => x.items.map((i) => i.name)));
  const page = await open(p.path('reports/example/sweep.html'));
  const cells = await page.$$eval('#heatmap-plot g.cells_marks > path', (els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  expect(cells).toHaveLength(sweep.instances.length * columns.size);
  // Rows in the order of the sweep's groups (largest first), each instance once.
  const rows = await page.$$eval('#heatmap-plot g.role-axis-label text', (els) => els.map((e) => e.textContent ?? '').filter((t) => t.includes(' · ')));
  expect(rows.map((t) => t.split(' · ')[1])).toEqual(sweep.groups.flatMap((g) => g.instances.map((s) => s.replace('compare@', ''))));
  await shoot(page, shot);
  await page.context().close();
  return cells;
}

function readComparison(p: TestProject, config: string): Comparison {
  return JSON.parse(p.read(`reports/example/${config}/comparison.json`)) as Comparison;
}

describe.skipIf(skip !== undefined)('the HTML report in Chromium', () => {
  let p: TestProject;
  beforeAll(async () => {
    b = await launchBrowser();
    p = defaultProject();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
  });

  it('no bug: every configuration reports MATCH with a mark per item, readable without JavaScript, filterable with it', async () => {
    run(p);
    for (const config of CONFIGS) {
      const c = readComparison(p, config);
      expect(c.findings).toEqual([]);
      const page = await checkComparisonReport(p.path(`reports/example/${config}/report.html`), c, `no-bug-${config}`);
      await page.context().close();
    }
    // Without JavaScript: the plots and the whole table are there, the filter is not.
    const off = await open(p.path('reports/example/multi-phi/report.html'), false);
    expect(await off.locator('#items tbody tr').count()).toBe(readComparison(p, 'multi-phi').items.length);
    expect(await off.locator('.filter').isVisible()).toBe(false);
    expect(await off.locator('#chain-plot svg').isVisible()).toBe(true);
    await off.context().close();
    // summary.md embeds the chain plot written beside it and links the report.
    const summary = p.read('reports/example/multi-phi/summary.md');
    expect(summary).toContain('](chain.svg)');
    expect(summary).toContain('](report.html)');
    expect(p.read('reports/example/multi-phi/chain.svg')).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    await checkSweepReport(p, 'sweep-no-bug');
  }, 300_000);

  const choices = (parse(readFileSync(join(REPO_ROOT, 'pipeline.yaml'), 'utf8')) as { params: { inject: { choices: string[] } } }).params.inject.choices.filter((c) => c !== 'none');
  for (const inject of choices) {
    it(`inject=${inject}: the report leads with the headline, marked at its key${inject === 'phi-carryover' ? "; the sweep's heatmap has a cell per instance and item" : ''}`, async () => {
      // Every configuration for phi-carryover (its sweep report is checked), multi-phi for the others.
      run(p, '-p', `inject=${inject}`, ...(inject === 'phi-carryover' ? [] : ['-p', 'config=multi-phi']));
      const sweep = JSON.parse(p.read('reports/example/sweep.json')) as { instances: Array<{ stage: string; comparison: string; verdict: string }> };
      const flagged = sweep.instances.filter((i) => i.verdict !== 'MATCH');
      expect(flagged.length, 'the planted bug shows somewhere').toBeGreaterThan(0);
      const config = flagged[0]!.stage.replace('compare@', '');
      if (inject !== 'phi-carryover') expect(sweep.instances).toHaveLength(1);
      const c = readComparison(p, config);
      expect(c.findings.length).toBeGreaterThan(0);
      const page = await checkComparisonReport(p.path(`reports/example/${config}/report.html`), c, `inject-${inject}`);
      // With JavaScript, the filter narrows the table to the headline's key.
      await page.fill('#filter-key', c.findings[0]!.name);
      const shown = await page.$$eval('#items tbody tr:not([hidden])', (rows) => rows.map((r) => r.getAttribute('data-key')));
      expect(shown).toEqual(c.items.filter((i) => i.name.toLowerCase().includes(c.findings[0]!.name.toLowerCase())).map((i) => i.name));
      await page.context().close();

      if (inject !== 'phi-carryover') return;
      const cells = await checkSweepReport(p, `sweep-${inject}`);
      // The headline's cell in its instance carries a value, not "absent".
      expect(cells.some((l) => l.startsWith(`${config} ${c.findings[0]!.name}: log10 Δ rel`))).toBe(true);
    }, 300_000);
  }

  it('the real nanoBragg run: the report of the C and PyTorch traces marks each finding, the fluence among them', async () => {
    const dir = join(REPO_ROOT, 'tests', 'fixtures', 'real-runs', 'supervisor');
    const q = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  parse_c:
    uses: parse-trace
    with: { input: logs/trace_c.log, prefix: [TRACE_C, TRACE_C_PHI], output: out/trace_c.json }
  parse_py:
    uses: parse-trace
    with: { input: logs/trace_py.log, prefix: [TRACE_PY, TRACE_PY_PHI], output: out/trace_py.json }
  compare:
    uses: compare-traces
    with: { reference: out/trace_c.json, port: out/trace_py.json, aliases: { I_before_scaling_pre_polar: I_before_scaling }, match_by: phi_tic, output: out/comparison.json }
  report:
    uses: report
    with: { comparison: out/comparison.json, output: out/report.html, chart: out/chain.svg, title: nanoBragg C vs PyTorch port }
`,
      'logs/trace_c.log': readFileSync(join(dir, 'trace_c.log'), 'utf8'),
      'logs/trace_py.log': readFileSync(join(dir, 'trace_py.log'), 'utf8'),
    });
    run(q);
    const c = JSON.parse(q.read('out/comparison.json')) as Comparison;
    expect(c.findings.map((f) => f.name)).toContain('fluence_photons_per_m2');
    const page = await checkComparisonReport(q.path('out/report.html'), c, 'real-run-supervisor');
    await page.context().close();
  }, 120_000);

  it('120,000 items: the compact comparison is reported in a few MB, thinned, every finding and non-MATCH item kept', async () => {
    const n = 120_000;
    const lines = (prefix: string, port: boolean) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        let v = 1 + Math.sin(i * 0.37) * 0.5;
        if (port && i >= 70_000 && i < 70_040) v *= 1e-10; // a unit factor: a finding
        if (port && i === 95_000) v *= 1.25; // a separate onset
        out.push(`${prefix}: key_${i % 5000}_${Math.floor(i / 5000)} ${v.toPrecision(15)}`);
      }
      return out.join('\n') + '\n';
    };
    const q = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  parse_c:
    uses: parse-trace
    with: { input: ref.log, prefix: TRACE_C, output: out/ref.json }
  parse_port:
    uses: parse-trace
    with: { input: port.log, prefix: TRACE_PY, output: out/port.json }
  compare:
    uses: compare-traces
    with: { reference: out/ref.json, port: out/port.json, output: out/comparison.json }
  report:
    uses: report
    with: { comparison: out/comparison.json, output: out/report.html }
`,
      'ref.log': lines('TRACE_C', false),
      'port.log': lines('TRACE_PY', true),
    });
    run(q);
    const c = JSON.parse(q.read('out/comparison.json')) as Comparison;
    expect(c.compact?.items).toBe(n);
    expect(c.findings.length).toBeGreaterThan(0);
    expect(statSync(q.path('out/report.html')).size).toBeLessThan(4 * 1024 * 1024);
    const page = await open(q.path('out/report.html'));
    expect(await page.textContent('#chain-plot figcaption')).toMatch(/Downsampled: [\d,]+ of 120,000 items drawn/);
    const marks = await itemMarks(page);
    expect(marks.length).toBeLessThan(n);
    const drawn = new Set(marks.map((m) => nameOf(m.label)));
    for (const f of c.findings) expect(drawn.has(f.name), f.name).toBe(true);
    // Every item that is not MATCH (upper-case letters other than M, and lower-case ones) is drawn.
    const notMatch = [...c.compact!.status].filter((s) => s !== 'M').length;
    expect(marks.filter((m) => !/: MATCH,/.test(m.label))).toHaveLength(notMatch);
    const labels = await page.$$eval('#chain-plot g.finding_labels_marks > text', (els) => els.map((e) => e.getAttribute('aria-label')));
    expect(labels[0]).toBe(`finding 1: ${c.findings[0]!.name}`);
    await shoot(page, 'compact-120k');
    await page.context().close();
  }, 300_000);
});
