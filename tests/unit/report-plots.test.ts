// The report's plot data and SVG (stages/report/), from comparisons made by the real comparer out of
// trace text: one mark per compared item carrying its name, the findings labelled, thinning that
// keeps every finding and every item that is not MATCH, a heatmap whose cells are instances × items,
// and text from the traces escaped, never read as HTML.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareTraces, type Comparison } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';
import { statusAt } from '../../stages/trace/compact.js';
import { chainData, chainSpec, MATCH_POINTS, MAX_POINTS, thinByStretch } from '../../stages/report/chain.js';
import { heatmapData } from '../../stages/report/heatmap.js';
import { recordSeries } from '../../stages/report/records.js';
import { renderSvg } from '../../stages/report/svg.js';
import { comparisonReport } from '../../stages/report/comparison-page.js';
import { markdownBlocks } from '../../stages/report/page.js';
import type { Sweep } from '../../stages/trace/sweep/collect.js';

/** A chain of scalar keys and a per-step record group; `port` edits the port's values. */
function pair(n: number, port: (key: string, v: number, i: number) => number, steps = 0): Comparison {
  const lines = (prefix: string, isPort: boolean) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = 1 + ((i * 7919) % 1000) / 997;
      const key = `k${i}`;
      out.push(`${prefix}: ${key} ${(isPort ? port(key, v, i) : v).toPrecision(15)}`);
    }
    for (let s = 0; s < steps; s++) {
      const f = 2 - s * 0.01;
      out.push(`${prefix}_PHI: phi_tic=${s} F_latt=${(isPort && s > 0 ? 2 - (s - 1) * 0.01 : f).toPrecision(15)} k_frac=${(0.5 + s).toPrecision(15)}`);
    }
    return out.join('\n') + '\n';
  };
  return compareTraces(parseTraceText(lines('TRACE_C', false)), parseTraceText(lines('TRACE_PY', true)), { matchBy: 'phi_tic' });
}

const labelsOf = (svg: string, mark: string) => {
  const group = new RegExp(`<g class="[^"]*\\b${mark}_marks"[^>]*>(.*?)</g>`, 's').exec(svg)?.[1] ?? '';
  return [...group.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
};

describe('the chain plot', () => {
  it('draws one mark per compared item, in order, named by the item, and labels each finding with its key', async () => {
    const c = pair(60, (k, v) => (k === 'k20' ? v * 1e10 : k === 'k45' ? v * 1.5 : v), 6);
    expect(c.findings.length).toBeGreaterThanOrEqual(2);
    const d = chainData(c);
    expect(d.thinned).toBe(false);
    const svg = await renderSvg(chainSpec(d));
    const items = labelsOf(svg, 'items');
    expect(items.map((l) => l.slice(0, l.lastIndexOf(': ')))).toEqual(c.items.map((i) => i.name));
    expect(labelsOf(svg, 'finding_labels')).toEqual(c.findings.map((f, k) => `finding ${k + 1}: ${f.name}`));
  });

  it('past MAX_POINTS items keeps every finding and every item that is not MATCH, and thins MATCH to one per stretch', () => {
    const n = 20_000;
    const c = pair(n, (k, v, i) => (i >= 9000 && i < 9030 ? v * 1e-10 : i === 15_000 ? v * 1.3 : i % 997 === 0 ? v * (1 + 1e-9) : v));
    const d = chainData(c);
    expect(d.thinned).toBe(true);
    expect(d.points.length).toBeLessThanOrEqual(MAX_POINTS);
    const drawn = new Set(d.points.map((p) => p.i));
    for (const f of c.findings) expect(drawn.has(f.index)).toBe(true);
    for (let i = 0; i < n; i++) if (statusAt(c, i) !== 'MATCH') expect(drawn.has(i), `item ${i}`).toBe(true);
    // MATCH items fill what the others leave of the budget (at least MATCH_POINTS of it), one per stretch.
    const match = d.points.filter((p) => p.category === 'MATCH').length;
    expect(match).toBeGreaterThanOrEqual(Math.min(MATCH_POINTS, c.totals.MATCH));
    expect(match).toBeLessThan(c.totals.MATCH);
    expect(d.shown.matchTotal).toBe(c.totals.MATCH);
  });

  it('thinning keeps the largest Δ rel of each stretch, and never more than asked', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (rels, m) => {
        const idx = rels.map((_, i) => i);
        const kept = thinByStretch(idx, m, (i) => rels[i]!);
        expect(kept.length).toBeLessThanOrEqual(Math.max(m, 0));
        if (rels.length <= m) expect(kept).toEqual(idx);
        // The overall maximum survives.
        const top = rels.indexOf(Math.max(...rels));
        expect(kept.some((i) => rels[i] === rels[top])).toBe(true);
      }),
    );
  });
});

describe('per-record plots', () => {
  it('give one series per field of a repeated record group, the carried-over records marked', () => {
    const c = pair(5, (_k, v) => v, 6);
    const { series } = recordSeries(c);
    const latt = series.find((s) => s.field === 'F_latt')!;
    expect(latt.by).toBe('phi_tic');
    expect(latt.rows.map((r) => r.record)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(latt.rows.filter((r) => r.divergent).map((r) => r.record)).toEqual([1, 2, 3, 4, 5]);
    expect(series.find((s) => s.field === 'k_frac')!.rows.every((r) => !r.divergent)).toBe(true);
  });
});

describe('the sweep heatmap', () => {
  it('has a cell per instance and compared item, absent keys included', () => {
    const a = pair(10, (_k, v) => v);
    const b = pair(14, (k, v) => (k === 'k3' ? v * 2 : v));
    const sweep: Sweep = {
      format: 'evidence-sweep/1',
      instances: [
        { stage: 'compare@a', comparison: 'a.json', verdict: 'MATCH', headline: null, worstRel: null, divergentKeys: [] },
        { stage: 'compare@b', comparison: 'b.json', verdict: 'DIVERGENT', headline: { key: 'k3', status: 'CRITICAL', rel: 0.5 }, worstRel: 0.5, divergentKeys: ['k3'] },
      ],
      groups: [
        { headline: 'no finding', instances: ['compare@a'] },
        { headline: 'k3', instances: ['compare@b'] },
      ],
      keys: [],
    };
    const h = heatmapData(sweep, new Map([['a.json', a], ['b.json', b]]));
    expect(h.columns).toHaveLength(14);
    expect(h.cells).toHaveLength(2 * 14);
    expect(h.cells.filter((x) => x.state === 'absent').map((x) => `${x.instance} ${x.column}`)).toEqual(['a k10', 'a k11', 'a k12', 'a k13']);
    expect(h.cells.find((x) => x.instance === 'b' && x.column === 'k3')!.log10).toBeGreaterThan(-1);
  });
});

describe('the headline in detail', () => {
  const vectorPair = (factor: number) =>
    compareTraces(parseTraceText('TRACE_C: a 1.5\nTRACE_C: v 0.25 -0.5 2.0\n'), parseTraceText(`TRACE_PY: a 1.5\nTRACE_PY: v ${[0.25, -0.5, 2.0].map((x) => (x * factor).toPrecision(15)).join(' ')}\n`));
  const caption = (html: string) => /<figure[^>]*id="vector-plot"[^>]*>[\s\S]*?<figcaption[^>]*>([\s\S]*?)<\/figcaption>/.exec(html)?.[1] ?? '';

  it('draws magnitudes on a log axis when the sides are orders of magnitude apart, and says so', async () => {
    const { html } = await comparisonReport(vectorPair(1e-10));
    expect(caption(html)).toMatch(/on a log axis: the two sides are 10 orders of magnitude apart\. Signs are in the table/);
    expect(html).toContain('|value| (log)');
    // Every component of both sides is drawn, inside the plot (a bar on a log axis draws nothing).
    const plot = html.slice(html.indexOf('id="vector-plot"'), html.indexOf('</figure>', html.indexOf('id="vector-plot"')));
    const marks = [...(/<g class="[^"]*components_marks"[^>]*>(.*?)<\/g>/s.exec(plot)?.[1] ?? '').matchAll(/translate\(([-\d.e]+),([-\d.e]+)\)/g)];
    expect(marks).toHaveLength(6);
    for (const [, x, y] of marks) expect(Number.isFinite(Number(x)) && Number.isFinite(Number(y)) && Number(y) >= 0 && Number(y) <= 160).toBe(true);
  });

  it('keeps signed values on a linear axis when they are comparable', async () => {
    const { html } = await comparisonReport(vectorPair(3));
    expect(caption(html)).toBe('Each component, reference and port side by side.');
  });
});

describe('the page', () => {
  it('escapes what the traces print: a key like <script> stays text', async () => {
    expect(markdownBlocks(['1. `<b>x</b>` **bold**', '   Diagnosis: a & b'])).toBe('<ol>\n<li><code>&lt;b&gt;x&lt;/b&gt;</code> <strong>bold</strong><br>Diagnosis: a &amp; b</li>\n</ol>');
    const c = pair(3, (k, v) => (k === 'k1' ? v * 3 : v));
    c.items[1]!.name = 'k1<script>alert(1)</script>';
    c.findings[0]!.name = c.items[1]!.name;
    const { html } = await comparisonReport(c);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('k1&lt;script&gt;alert(1)&lt;/script&gt;');
    // Nothing to fetch: no src= or href= to anything but the page's own anchors.
    expect(html).not.toMatch(/\s(src|href)="(?!#)/);
  });
});
