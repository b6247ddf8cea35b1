// Short text forms of a comparison's numbers and items, shared by the findings and their renderings.
import type { ComparedItem, Comparison } from '../comparison.js';
import { formatNumber } from '../factors.js';
import { SEVERITY, type Status } from '../status.js';

export function formatRel(rel: number | null | undefined): string {
  if (rel === null || rel === undefined || !Number.isFinite(rel)) return '—';
  return rel === 0 ? '0' : rel.toExponential(2);
}

export function formatValue(v: ComparedItem['reference']): string {
  if (v === null) return 'missing';
  const text = v.length === 1 ? String(v[0]) : `[${v.join(', ')}]`;
  return text.length > 80 ? text.slice(0, 77) + '…' : text;
}

export function diagnosisOf(item: ComparedItem | undefined): string {
  return item?.diagnoses?.[0]?.message ?? '';
}

/** An item's diagnosis, or the plain statement that none fits (with the ratio of a scalar). */
function diagnosisOrNone(item: ComparedItem): string {
  const d = diagnosisOf(item);
  if (d) return d;
  const scalar = item.reference !== null && item.reference.length === 1;
  return scalar && item.ratio !== null ? `ratio ${formatNumber(item.ratio, 6)}, no known pattern fits` : 'no known pattern fits';
}

/** What the findings amount to; comparisons written before findings existed fall back to the strict verdict. */
export function findingVerdictOf(c: Comparison): Comparison['verdict'] {
  return c.findingVerdict ?? c.verdict;
}

/**
 * One line: the headline finding (key, status, Δ rel and diagnosis; worded "first divergence" when
 * it is also the strict first divergence), or that every difference is round-off, or that every
 * key matches.
 */
export function headlineLine(c: Comparison): string {
  const findings = c.findings ?? [];
  const f = findings[0];
  if (f) {
    const item = c.items[f.index]!;
    const strict = c.firstDivergence;
    const word = strict && strict.index === f.index ? 'first divergence' : 'first finding';
    const after = strict && strict.index !== f.index ? `; the first divergence, ${strict.name}, is round-off` : '';
    const more = findings.length > 1 ? ` (+${findings.length - 1} more finding${findings.length > 2 ? 's' : ''})` : '';
    return `${word} ${f.name} (${f.status}, Δ rel ${formatRel(item.rel)}): ${diagnosisOrNone(item)}${after}${more}`;
  }
  if (!findings.length && c.findings === undefined && c.firstDivergence) {
    const item = c.items[c.firstDivergence.index];
    const d = diagnosisOf(item);
    return `first divergence ${c.firstDivergence.name} (${c.firstDivergence.status}, Δ rel ${formatRel(item?.rel)})${d ? `: ${d}` : ''}`;
  }
  if (c.divergences.length) return `all keys match within round-off (${c.totals.compared} compared; ${c.divergences.length} beyond tolerance, all round-off)`;
  const extra = [c.totals.MISSING && `${c.totals.MISSING} missing`].filter(Boolean);
  return `all keys match (${c.totals.compared} compared${extra.length ? `; ${extra.join(', ')}` : ''})`;
}

export interface KeyGroup {
  key: string;
  items: ComparedItem[];
  /** Worst status among the group's items, in the one order of status.ts. */
  worst: Status;
}

/** Items grouped by key (the reference's spelling), in the reference's order. */
export function keyGroups(c: Comparison): KeyGroup[] {
  const groups = new Map<string, KeyGroup>();
  for (const item of c.items) {
    let g = groups.get(item.key);
    if (!g) groups.set(item.key, (g = { key: item.key, items: [], worst: 'MATCH' }));
    g.items.push(item);
    if (SEVERITY[item.status] > SEVERITY[g.worst]) g.worst = item.status;
  }
  return [...groups.values()];
}
