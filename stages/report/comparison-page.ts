// The report of one comparison, in reading order: the verdict and the findings with their diagnoses
// (the very text summary.md shows, from stages/trace/summary-findings.ts), the chain plot, the
// per-record small multiples, the headline's components, and the full table last. Returns the page
// and the chain plot's SVG (written beside it for summary.md). No files, no clock.
import { indexOf } from '../trace/compact.js';
import type { ComparedItem, Comparison } from '../trace/comparison.js';
import { itemAt } from '../trace/compact.js';
import { findingsSection, oneLiners } from '../trace/summary-findings.js';
import { diagnosisText, formatComponent, formatDelta, formatValue, precisionLine, toleranceLine, verdictLine } from '../trace/summary-text.js';
import { chainData, chainSpec, EXACT_AT, NO_REL_AT } from './chain.js';
import { escapeHtml, figure, inlineMarkdown, markdownBlocks, page, thousands } from './page.js';
import { MAX_RECORDS, recordSeries, recordSpec } from './records.js';
import { renderSvg } from './svg.js';

/** Rows of the full table at most: past it, every item beyond tolerance and the first MATCH ones. */
export const MAX_TABLE_ROWS = 2000;

export interface ComparisonReport {
  html: string;
  chainSvg: string;
  /** Items on the chain plot, and whether it was thinned. */
  plotted: number;
  thinned: boolean;
}

function statusLabel(it: ComparedItem): string {
  return it.roundOff ? `${it.status} (round-off)` : it.status;
}

function chainCaption(c: Comparison, d: ReturnType<typeof chainData>): string {
  const parts = [
    `${thousands(d.total)} compared item${d.total === 1 ? '' : 's'}, one point each in the reference's order.`,
    `Dashed line: the tolerance (rel ${d.tolerance}); shaded band: round-off (${d.band.precision}, ${c.precision.budgetUlps} ulps, up to Δ rel ${d.band.top.toExponential(1)}).`,
    `Exact matches sit at ${EXACT_AT.toExponential(0)}; items without a Δ rel (missing, non-finite, text) are crosses at ${NO_REL_AT}.`,
  ];
  if (d.findings.length) parts.push(`Vertical lines: the findings, labelled with their keys.`);
  if (d.thinned) {
    parts.push(
      `<strong>Downsampled:</strong> ${thousands(d.points.length)} of ${thousands(d.total)} items drawn: every finding and the first divergence, ` +
        `${thousands(d.shown.other)} of the ${thousands(d.shown.otherTotal)} items that are not MATCH` +
        `${d.shown.other < d.shown.otherTotal ? ' (the largest Δ rel of each stretch)' : ''}, and ${thousands(d.shown.match)} of the ${thousands(d.shown.matchTotal)} MATCH items (the largest Δ rel of each stretch of the chain).`,
    );
  }
  return parts.join(' ');
}

async function recordsSection(c: Comparison): Promise<string> {
  const { series, more } = recordSeries(c);
  const out = ['<h2 id="records">Per-record plots</h2>'];
  if (c.compact) {
    out.push('<p class="note">This comparison is compact (more than 100,000 items): it keeps no values of its MATCH records, so no per-record plots are drawn.</p>');
    return out.join('\n');
  }
  if (!series.length) {
    out.push('<p class="note">No record group is printed more than once.</p>');
    return out.join('\n');
  }
  out.push(`<p class="note">One plot per field of each repeated record group: reference (solid) and port (dashed) over the record index; ringed: records beyond tolerance${more ? `; ${more} more field(s) not drawn` : ''}${series.some((s) => s.rows.length >= MAX_RECORDS) ? `; at most ${MAX_RECORDS} records per plot` : ''}.</p>`);
  out.push('<div class="multiples">');
  for (const s of series) out.push(`<div class="plot record-plot" data-field="${escapeHtml(`${s.group}.${s.field}`)}">${await renderSvg(recordSpec(s))}</div>`);
  out.push('</div>');
  return out.join('\n');
}

async function vectorSection(c: Comparison): Promise<string> {
  const f = c.findings[0];
  const it = f ? itemAt(c, f.index) : undefined;
  if (!it || !it.reference || !it.port) return '';
  const n = Math.max(it.reference.length, it.port.length);
  const rows: string[] = [];
  const bars: Array<{ component: string; side: string; value: number }> = [];
  for (let k = 0; k < n; k++) {
    const r = it.reference[k];
    const p = it.port[k];
    const label = it.labels?.[k] ?? String(k);
    const ratio = typeof r === 'number' && typeof p === 'number' && r !== 0 ? p / r : null;
    const delta = typeof r === 'number' && typeof p === 'number' ? p - r : null;
    rows.push(
      `<tr${k === it.worst ? ' class="worst"' : ''}><td>${escapeHtml(label)}</td><td class="num">${r === undefined ? '—' : escapeHtml(formatComponent(r))}</td><td class="num">${p === undefined ? '—' : escapeHtml(formatComponent(p))}</td><td class="num">${formatDelta(delta)}</td><td class="num">${ratio === null ? '—' : Number(ratio.toPrecision(7))}</td></tr>`,
    );
    if (typeof r === 'number') bars.push({ component: label, side: 'reference', value: r });
    if (typeof p === 'number') bars.push({ component: label, side: 'port', value: p });
  }
  // Sides orders of magnitude apart (a unit factor, a missing 1e10) would leave one side's bars
  // invisible on a linear axis: then the bars show |value| on a log axis, and the table the signs.
  const largest = (side: string) => Math.max(0, ...bars.filter((b) => b.side === side).map((b) => Math.abs(b.value)));
  const [refMax, portMax] = [largest('reference'), largest('port')];
  const apart = refMax > 0 && portMax > 0 ? Math.abs(Math.log10(portMax / refMax)) : 0;
  const logScale = apart >= 2;
  const shown = logScale ? bars.filter((b) => b.value !== 0).map((b) => ({ ...b, magnitude: Math.abs(b.value) })) : bars;
  const spec = {
    width: Math.min(640, 90 * n + 60),
    height: 160,
    data: { values: shown.map((b) => ({ ...b, description: `${it.name} ${b.component} ${b.side}: ${b.value}` })) },
    name: 'components',
    // A bar on a log axis would start at zero, which the axis does not have: points instead.
    mark: logScale ? { type: 'point', filled: true, size: 90 } : { type: 'bar' },
    encoding: {
      x: { field: 'component', type: 'nominal', sort: null, title: 'component', axis: { labelAngle: 0 } },
      xOffset: { field: 'side', sort: ['reference', 'port'] },
      y: logScale ? { field: 'magnitude', type: 'quantitative', title: '|value| (log)', scale: { type: 'log' } } : { field: 'value', type: 'quantitative', title: 'value' },
      color: { field: 'side', type: 'nominal', title: null, scale: { domain: ['reference', 'port'], range: ['#0072b2', '#e69f00'] } },
      description: { field: 'description' },
    },
  };
  const caption = logScale
    ? `Each component's magnitude, reference and port side by side, on a log axis: the two sides are ${Math.round(apart)} orders of magnitude apart. Signs${shown.length < bars.length ? ' and zeros' : ''} are in the table.`
    : 'Each component, reference and port side by side.';
  return [
    `<h2 id="vector">Headline in detail: <code>${escapeHtml(it.name)}</code></h2>`,
    `<p>${inlineMarkdown(diagnosisText(it))}.</p>`,
    figure('vector-plot', await renderSvg(spec), caption),
    '<table class="components"><thead><tr><th>component</th><th>reference</th><th>port</th><th>Δ (port − reference)</th><th>ratio port/reference</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody></table>`,
  ].join('\n');
}

/** The rows of the full table: every detailed item, or past MAX_TABLE_ROWS the ones beyond tolerance first. */
function tableItems(c: Comparison): { rows: Array<{ item: ComparedItem; index: number }>; cut: boolean } {
  const all = c.items.map((item, k) => ({ item, index: indexOf(c, item, k) }));
  if (all.length <= MAX_TABLE_ROWS) return { rows: all, cut: false };
  const off = all.filter((r) => r.item.status !== 'MATCH').slice(0, MAX_TABLE_ROWS);
  const match = all.filter((r) => r.item.status === 'MATCH').slice(0, MAX_TABLE_ROWS - off.length);
  return { rows: [...off, ...match].sort((a, b) => a.index - b.index), cut: true };
}

function tableSection(c: Comparison): string {
  const { rows, cut } = tableItems(c);
  const total = c.compact ? c.compact.items : c.items.length;
  const statuses = [...new Set(rows.map((r) => r.item.status))];
  const body = rows.map(({ item, index }) => {
    const diag = item.status === 'MATCH' ? '' : inlineMarkdown(diagnosisText(item));
    return `<tr class="s-${item.status}" data-key="${escapeHtml(item.name)}" data-status="${item.status}"><td class="num">${index}</td><td><code>${escapeHtml(item.name)}</code></td><td class="status">${statusLabel(item)}</td><td class="num">${escapeHtml(formatValue(item.reference, item.labels))}</td><td class="num">${escapeHtml(formatValue(item.port, item.labels))}</td><td class="num">${formatDelta(item.rel)}</td><td>${diag}</td></tr>`;
  });
  const note =
    rows.length < total
      ? `<p class="note">${thousands(rows.length)} of ${thousands(total)} items: ${c.compact ? 'a compact comparison keeps the detail of the items beyond round-off and a few others' : `at most ${thousands(MAX_TABLE_ROWS)} rows, every item that is not MATCH first`}${cut && c.compact ? `, at most ${thousands(MAX_TABLE_ROWS)} rows` : ''}; comparison.json holds every item.</p>`
      : '';
  return [
    '<h2 id="table">All compared items</h2>',
    note,
    '<div class="filter"><label>key <input id="filter-key" type="search" placeholder="filter by key"></label>',
    `<label>status <select id="filter-status"><option value="">any</option>${statuses.map((s) => `<option>${s}</option>`).join('')}</select></label> <span id="filter-count" class="note"></span></div>`,
    '<div class="deferred scroll">',
    '<table id="items"><thead><tr><th>#</th><th>key</th><th>status</th><th>reference</th><th>port</th><th>Δ rel</th><th>diagnosis</th></tr></thead>',
    `<tbody>\n${body.join('\n')}\n</tbody></table>`,
    '</div>',
  ].join('\n');
}

/** The report page of a comparison (see the module header). */
export async function comparisonReport(c: Comparison, options: { title?: string } = {}): Promise<ComparisonReport> {
  const title = options.title ?? 'Trace comparison';
  const d = chainData(c);
  const chainSvg = await renderSvg(chainSpec(d));
  const findings = [...findingsSection(c), ...oneLiners(c)];
  const sections = [
    `<p class="meta">Reference: <code>${escapeHtml(c.reference.source)}</code> (${escapeHtml(c.reference.family)}, ${c.reference.records} records) · Port: <code>${escapeHtml(c.port.source)}</code> (${escapeHtml(c.port.family)}, ${c.port.records} records)</p>`,
    `<p class="verdict v-${c.findingVerdict}" id="verdict">${inlineMarkdown(verdictLine(c))}</p>`,
    `<p class="meta">${inlineMarkdown(toleranceLine(c))}</p>`,
    `<p class="meta">${inlineMarkdown(precisionLine(c))}</p>`,
    `<section class="findings" id="findings">\n${markdownBlocks(findings)}\n</section>`,
    '<h2 id="chain">The chain</h2>',
    figure('chain-plot', chainSvg, chainCaption(c, d)),
    await recordsSection(c),
    await vectorSection(c),
    tableSection(c),
  ];
  return { html: page(title, sections, true), chainSvg, plotted: d.points.length, thinned: d.thinned };
}
