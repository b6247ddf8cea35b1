// Turns a comparison (./compare.ts) into Markdown for people, findings first: the headline and the
// findings, a short table of the items beyond round-off, one line each for round-off and for keys
// one side prints alone, the strict first divergence and the checkpoints, then everything that
// diverges and the full table, collapsed. Used by summarize and the one-off compare command; the
// notes section (write-notes) is in ./notes-section.ts. Pure text building: no files, no clock.
import { itemAt } from './compact.js';
import type { ComparedItem, Comparison } from './comparison.js';
import { compactNote, keyTable } from './summary-keys.js';
import { divergentTable, findingsSection, oneLiners } from './summary-findings.js';
import {
  budgetText,
  code,
  describeCheckpoint,
  describeItem,
  diagnosisText,
  formatDelta,
  precisionLine,
  selectItems,
  tableHeader,
  tableRow,
  toleranceLine,
  verdictLine,
} from './summary-text.js';

export { describeCheckpoint, describeItem, formatComponent, formatDelta, formatValue, selectItems, tableHeader, tableRow } from './summary-text.js';
export { headlineText } from './summary-findings.js';
export { renderNotesSection, type NotesContext } from './notes-section.js';

export interface SummaryOptions {
  /** Keys (item names, group names, `GROUP.field`, or globs) for the full table; default every item. */
  keys?: string[];
  title?: string;
}

/** The summary document (see the module header). */
export function renderSummary(c: Comparison, options: SummaryOptions = {}): string {
  const out: string[] = [];
  out.push(`# ${options.title ?? 'Trace comparison'}`, '');
  out.push(
    `Reference: ${code(c.reference.source)} (${c.reference.family}, ${c.reference.records} records) · ` +
      `Port: ${code(c.port.source)} (${c.port.family}, ${c.port.records} records)`,
    '',
  );
  out.push(toleranceLine(c), '', precisionLine(c), '', verdictLine(c), '');
  if (c.divergences.length === 0) {
    const extra = c.totals.MISSING ? ` (${c.totals.MISSING} are in one trace only: MISSING)` : '';
    out.push(c.totals.MISSING ? `All keys match: no divergence${extra}.` : 'All keys match.', '');
  }

  out.push(...findingsSection(c));
  out.push(...divergentTable(c));
  out.push(...oneLiners(c));

  out.push('## First divergence', '');
  const first = c.firstDivergence ? itemAt(c, c.firstDivergence.index) : undefined;
  if (!first) out.push('None: every compared value is within tolerance.', '');
  else {
    out.push(describeItem(first) + '.', '', `Diagnosis: ${diagnosisText(first)}.`, '');
    if (first.deltas && first.deltas.length > 1) out.push(`Δ per component (port − reference): ${first.deltas.map((d) => formatDelta(d)).join(', ')}.`, '');
    if (first.roundOff) {
      const headline = c.findings[0];
      out.push(`This is ${budgetText(first)}, not a finding${headline ? `; the first finding is ${code(headline.name)}` : ''}.`, '');
    }
  }
  if (c.checkpoints.length) {
    out.push('Checkpoints:', '');
    for (const cp of c.checkpoints) out.push(`- ${describeCheckpoint(cp, c)}`);
    out.push('');
  }
  if (c.firstNonMatch && (!c.firstDivergence || c.firstNonMatch.index < c.firstDivergence.index)) {
    out.push(`First item that is not MATCH: ${code(c.firstNonMatch.name)} (${c.firstNonMatch.status}).`, '');
  }

  out.push('## All divergent keys', '');
  const divergent = c.divergences.map((i) => itemAt(c, i)).filter((it): it is ComparedItem => it !== undefined);
  const total = c.divergences.length;
  if (total === 0) out.push('None.', '');
  else {
    out.push(`<details><summary>${total} item${total === 1 ? '' : 's'} beyond tolerance, with diagnoses</summary>`, '');
    for (const item of divergent) {
      const size = budgetText(item);
      out.push(`- ${describeItem(item)}${size ? ` (${size})` : ''}. Diagnosis: ${diagnosisText(item)}.`);
    }
    // A compact comparison keeps no detail of most differences within round-off.
    if (divergent.length < total) out.push(`- … and ${total - divergent.length} more within round-off, counted by key below.`);
    out.push('', '</details>', '');
  }

  const { items, notFound } = selectItems(c, options.keys);
  out.push('## All compared items', '');
  if (c.compact) out.push(...compactNote(c));
  out.push(`<details><summary>${items.length} item${items.length === 1 ? '' : 's'}${options.keys?.length ? ' of the selected keys' : ''}${c.compact ? ' kept in detail' : ''}</summary>`, '');
  out.push(...tableHeader());
  for (const item of items) out.push(tableRow(item, c));
  for (const k of notFound) out.push(`| ${code(k)} | — | — | — | — | not in either trace |`);
  out.push('', '</details>', '');
  if (c.compact) out.push(...keyTable(c));
  return out.join('\n');
}
