// The report of a sweep (schemas/sweep.schema.json, written by summarize-sweep): the instances
// grouped by headline, with each group's headline and diagnosis as sweep.md states them, the heatmap
// of instance × key, and a table of the instances with links to their own reports. No files.
import type { Comparison } from '../trace/comparison.js';
import type { Sweep } from '../trace/sweep/collect.js';
import { labelOf, relText } from '../trace/sweep/collect.js';
import { heatmapData, heatmapSpec, MAX_COLUMNS } from './heatmap.js';
import { escapeHtml, figure, page } from './page.js';
import { renderSvg } from './svg.js';

export interface SweepReport {
  html: string;
  cells: number;
}

/** Links from the page to each instance's own files (relative to the page), when known. */
export interface InstanceLinks {
  report?: string;
  summary?: string;
}

export async function sweepReport(sweep: Sweep, comparisons: Map<string, Comparison>, links: Map<string, InstanceLinks>, title: string): Promise<SweepReport> {
  const h = heatmapData(sweep, comparisons);
  const off = sweep.instances.filter((i) => i.verdict !== 'MATCH').length;
  const verdict = off ? 'DIVERGENT' : 'MATCH';
  const groups = sweep.groups.map(
    (g, k) =>
      `<li><strong>${k + 1}. ${g.instances.length} of ${sweep.instances.length}</strong> (${g.instances.map((s) => escapeHtml(labelOf(s))).join(', ')}): ${escapeHtml(g.headline)}</li>`,
  );
  const rows = sweep.instances.map((i) => {
    const l = links.get(i.stage) ?? {};
    const files = [l.report ? `<a href="${escapeHtml(l.report)}">report</a>` : '', l.summary ? `<a href="${escapeHtml(l.summary)}">summary</a>` : ''].filter(Boolean).join(' · ');
    const head = i.headline ? `<code>${escapeHtml(i.headline.key)}</code> (${i.headline.status}): ${escapeHtml(i.headline.diagnosis ?? 'no known pattern fits')}` : '—';
    return `<tr><td>${escapeHtml(labelOf(i.stage))}</td><td>${i.verdict}</td><td>${head}</td><td class="num">${relText(i.worstRel)}</td><td>${files}</td></tr>`;
  });
  const keysNote = h.columnsAre === 'keys' ? ` Columns are keys (record groups and vectors), each cell the largest Δ rel of the instance's items of that key: ${h.columns.length > MAX_COLUMNS ? 'more than' : 'some comparisons are compact or there are more than'} ${MAX_COLUMNS} distinct items.` : '';
  const sections = [
    `<p class="verdict v-${verdict}" id="verdict">Verdict: <strong>${off ? `${off} of ${sweep.instances.length} instances with a finding` : `every one of ${sweep.instances.length} instances matches`}</strong></p>`,
    '<h2 id="groups">Instances grouped by headline</h2>',
    `<ul class="groups">\n${groups.join('\n')}\n</ul>`,
    '<h2 id="heatmap">Instance × key</h2>',
    figure(
      'heatmap-plot',
      await renderSvg(heatmapSpec(h)),
      `${h.rows.length} instances × ${h.columns.length} ${h.columnsAre}: colour is log10 of the relative difference (exact matches at the bottom of the scale); grey: the instance does not print the key, or it has no Δ rel (missing, non-finite, text). Rows are grouped by headline in the order above.${keysNote}`,
    ),
    '<h2 id="instances">Instances</h2>',
    '<table><thead><tr><th>instance</th><th>verdict</th><th>headline finding</th><th>worst Δ rel</th><th>files</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody></table>`,
  ];
  return { html: page(title, sections, false), cells: h.cells.length };
}
