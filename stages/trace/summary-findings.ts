// The findings-first part of a comparison's Markdown: the headline and the list of findings (each
// with its diagnosis, size against the round-off budget, checkpoint relation and what reads with
// it), a short table of the items beyond round-off, and one line each for round-off, port-only
// record fields and keys in one trace only. Pure text.
import { indexOf, itemAt, MAX_MISSING, roundOffAt } from './compact.js';
import type { ComparedItem, Comparison, Finding } from './comparison.js';
import { aliasShown, budgetText, cell, code, describeItem, diagnosisText, formatDelta, formatValue, itemLabel } from './summary-text.js';

/** Rows of the short table per finding, and in all, before it counts the rest. */
const ROWS_PER_FINDING = 5;
const MAX_ROWS = 40;
/** Names listed in a one-line summary before it counts the rest. */
const MAX_NAMES = 12;

const REASONS: Record<Finding['reason'], string> = {
  first: 'the first divergence beyond round-off',
  'new-factor': 'a factor or pattern not seen before',
  'after-agreement': 'values agreed again before it',
  'after-large': 'a moderate difference right after values off by orders of magnitude, with agreement after it',
};

/** The first names of a list of `total` (a compact comparison keeps the first of some lists only). */
function names(list: string[], total = list.length): string {
  return list.slice(0, MAX_NAMES).join(', ') + (total > MAX_NAMES ? `, … ${total - MAX_NAMES} more` : '');
}

function checkpointText(f: Finding): string {
  const found = f.checkpoints.filter((cp) => cp.relation !== 'not-found');
  if (!found.length) return '';
  return found.map((cp) => (cp.relation === 'at' ? `at ${code(cp.key)}` : `${cp.relation} of ${code(cp.key)}`)).join(', ');
}

/** The headline sentence: the first finding and its diagnosis, for a terminal or a heading. */
export function headlineText(c: Comparison): string {
  const f = c.findings[0];
  if (!f) return '';
  const item = itemAt(c, f.index)!;
  return `${itemLabel(item, c)} (${item.status}): ${diagnosisText(item, item.diagnoses, false)}`;
}

export function findingsSection(c: Comparison): string[] {
  const out: string[] = ['## Findings', ''];
  if (!c.findings.length) {
    if (c.totals.roundOff) {
      out.push(`None: every difference beyond tolerance is within round-off (${c.totals.roundOff} item${c.totals.roundOff === 1 ? '' : 's'}; see below).`, '');
    } else out.push('None: every compared value is within tolerance.', '');
    return out;
  }
  out.push(`**Headline: ${headlineText(c)}**`, '');
  c.findings.forEach((f, k) => {
    const item = itemAt(c, f.index)!;
    const alias = aliasShown(item, c);
    const lines = [`${k + 1}. ${describeItem(item)}${alias ? ` (port key ${code(alias)})` : ''}.`];
    lines.push(`   Diagnosis: ${diagnosisText(item)}.`);
    const size = budgetText(item);
    if (size) lines.push(`   Size: ${size}.`);
    if (item.deltas && item.deltas.length > 1) lines.push(`   Δ per component (port − reference): ${item.deltas.map((d) => formatDelta(d)).join(', ')}.`);
    const cps = checkpointText(f);
    if (cps) lines.push(`   Checkpoints: ${cps}.`);
    const more = c.items.filter((it, i) => it.finding === k && indexOf(c, it, i) !== f.index).map((it) => code(it.name));
    lines.push(`   Why a finding: ${REASONS[f.reason]}.${more.length ? ` Read with it: ${more.length} more item${more.length === 1 ? '' : 's'} beyond round-off (${names(more)}).` : ''}`);
    out.push(...lines, '');
  });
  return out;
}

function reading(item: ComparedItem, c: Comparison): string {
  const rel = item.relation;
  const other = (i: number | undefined) => (i === undefined ? '' : code(itemAt(c, i)?.name ?? `item ${i}`));
  switch (rel?.kind) {
    case 'onset':
      return `**finding ${item.finding! + 1}**: ${diagnosisText(item, item.diagnoses, false)}`;
    case 'repeat':
      return `repeats ${other(rel.item)}`;
    case 'same-factor':
      return `same factor as ${other(rel.item)}`;
    case 'combination':
      return item.diagnoses?.find((d) => d.kind === 'combination')?.message ?? `combines ${rel.items?.map(other).join(' and ')}`;
    case 'downstream':
      return `after ${other(rel.item)}`;
    default:
      return '';
  }
}

/**
 * The short table: each finding's onset and the first few items read with it, in the reference's
 * order, and a count of the rest (a garbage cascade of forty rows hides the next finding).
 */
export function divergentTable(c: Comparison): string[] {
  const beyond = c.divergences.filter((i) => !roundOffAt(c, i)).map((i) => itemAt(c, i)!);
  if (!beyond.length) return [];
  const out = ['## Divergent keys', '', '| finding | key | reference | port | Δ rel | status | reading |', '|---|---|---|---|---|---|---|'];
  const shown = new Map<number, number>();
  const hidden = new Map<number, number>();
  let rows = 0;
  const flush = (f: number) => {
    const n = hidden.get(f);
    if (n) out.push(`| ${f + 1} | … ${n} more item${n === 1 ? '' : 's'} read with finding ${f + 1} | | | | | see "All divergent keys" |`);
    hidden.delete(f);
  };
  let current: number | undefined;
  for (const it of beyond) {
    const f = it.finding ?? -1;
    if (current !== undefined && f !== current) flush(current);
    current = f;
    const count = shown.get(f) ?? 0;
    if (count >= ROWS_PER_FINDING || rows >= MAX_ROWS) {
      hidden.set(f, (hidden.get(f) ?? 0) + 1);
      continue;
    }
    shown.set(f, count + 1);
    rows++;
    out.push(
      `| ${f >= 0 ? f + 1 : '—'} | ${itemLabel(it, c)} | ${cell(formatValue(it.reference, it.labels))} | ${cell(formatValue(it.port, it.labels))} | ${formatDelta(it.rel)} | **${it.status}** | ${cell(reading(it, c))} |`,
    );
  }
  if (current !== undefined) flush(current);
  out.push('');
  return out;
}

/** One line each for the round-off items, the port-only record fields and the keys in one trace only. */
export function oneLiners(c: Comparison): string[] {
  const out: string[] = [];
  const within = c.divergences.filter((i) => roundOffAt(c, i));
  if (within.length) {
    // A compact comparison keeps the first MAX_NAMES of them: the ones named here.
    const roundOff = within.map((i) => itemAt(c, i)).filter((it): it is ComparedItem => it !== undefined);
    const precisions = [...new Set(roundOff.map((it) => it.precision))].join(', ');
    out.push(`Within round-off (${within.length}, ${precisions}; not findings): ${names(roundOff.map((it) => `${code(it.name)} ${it.ulps} ulps`), within.length)}.`);
  }
  for (const [side, label] of [
    ['port', 'Only in the port'],
    ['reference', 'Only in the reference'],
  ] as const) {
    const missing = c.items.filter((it) => it.status === 'MISSING' && (side === 'port' ? it.reference === null : it.port === null));
    if (!missing.length) continue;
    // A compact comparison keeps the first MAX_MISSING of them in detail: it says so.
    const kept = c.compact && c.items.filter((it) => it.status === 'MISSING').length < c.totals.MISSING ? ` (of the first ${MAX_MISSING} of the ${c.totals.MISSING} items in one trace only; every one is counted by key below)` : '';
    // Record fields one side prints for every record: one entry per group, not one row per record.
    const fields = new Map<string, { fields: Set<string>; records: Set<string> }>();
    const keys: string[] = [];
    for (const it of missing) {
      if (it.field === undefined) {
        keys.push(code(it.name));
        continue;
      }
      const group = side === 'port' ? (it.portKey ?? it.key) : it.key;
      let g = fields.get(group);
      if (!g) fields.set(group, (g = { fields: new Set(), records: new Set() }));
      g.fields.add(it.field);
      g.records.add(it.match ? `${it.match.value}` : `${it.occurrence}`);
    }
    const parts = [...fields].map(([group, g]) => `record fields ${names([...g.fields])} of ${code(group)} (${g.records.size} record${g.records.size === 1 ? '' : 's'})`);
    if (keys.length) parts.push(`${keys.length} key${keys.length === 1 ? '' : 's'}: ${names(keys)}`);
    out.push(`${label}: ${parts.join('; ')}${kept}.`);
  }
  return out.flatMap((l) => [l, '']);
}
