// Short text forms of a comparison's numbers and items, shared by the findings and their renderings.
import { itemAt, statusAt } from '../compact.js';
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
    const item = itemAt(c, f.index)!;
    const strict = c.firstDivergence;
    const word = strict && strict.index === f.index ? 'first divergence' : 'first finding';
    const after = strict && strict.index !== f.index ? `; the first divergence, ${strict.name}, is round-off` : '';
    const more = findings.length > 1 ? ` (+${findings.length - 1} more finding${findings.length > 2 ? 's' : ''})` : '';
    return `${word} ${f.name} (${f.status}, Δ rel ${formatRel(item.rel)}): ${diagnosisOrNone(item)}${after}${more}`;
  }
  if (!findings.length && c.findings === undefined && c.firstDivergence) {
    const item = itemAt(c, c.firstDivergence.index);
    const d = diagnosisOf(item);
    return `first divergence ${c.firstDivergence.name} (${c.firstDivergence.status}, Δ rel ${formatRel(item?.rel)})${d ? `: ${d}` : ''}`;
  }
  if (c.divergences.length) return `all keys match within round-off (${c.totals.compared} compared; ${c.divergences.length} beyond tolerance, all round-off)`;
  const extra = [c.totals.MISSING && `${c.totals.MISSING} missing`].filter(Boolean);
  return `all keys match (${c.totals.compared} compared${extra.length ? `; ${extra.join(', ')}` : ''})`;
}

export interface KeyGroup {
  key: string;
  /** The group's items; in a compact comparison only those it keeps in detail. */
  items: ComparedItem[];
  /** How many items the group has, and how many of them are not MATCH. */
  count: number;
  notMatch: number;
  /** Worst status among the group's items, in the one order of status.ts. */
  worst: Status;
  /** The first item of that status (of the items not MATCH, the first), when the group has one. */
  first?: ComparedItem;
  /** The largest Δ rel among the items not MATCH, null when none has one. */
  worstRel: number | null;
}

/** Items grouped by key (the reference's spelling), in the reference's order. */
export function keyGroups(c: Comparison): KeyGroup[] {
  const groups = new Map<string, KeyGroup>();
  const more = (rel: number | null, than: number | null) => (rel !== null && Number.isFinite(rel) && (than === null || rel > than) ? rel : than);
  if (c.compact) {
    const k = c.compact;
    const byId: KeyGroup[] = [];
    const firstAt: number[] = [];
    for (let i = 0; i < k.items; i++) {
      const id = k.key[i]!;
      let g = byId[id];
      if (!g) groups.set(k.keys[id]!, (g = byId[id] = { key: k.keys[id]!, items: [], count: 0, notMatch: 0, worst: 'MATCH', worstRel: null }));
      g.count++;
      const s = statusAt(c, i);
      if (s === 'MATCH') continue;
      g.notMatch++;
      if (SEVERITY[s] > SEVERITY[g.worst]) {
        g.worst = s;
        firstAt[id] = i;
      }
    }
    // The largest Δ rel of each key is kept in detail (compact.ts): its exact value, as in full.
    for (const item of c.items) {
      const g = groups.get(item.key);
      g?.items.push(item);
      if (g && item.status !== 'MATCH') g.worstRel = more(item.rel, g.worstRel);
    }
    byId.forEach((g, id) => {
      if (firstAt[id] !== undefined) g.first = itemAt(c, firstAt[id]!);
    });
    return [...groups.values()];
  }
  for (const item of c.items) {
    let g = groups.get(item.key);
    if (!g) groups.set(item.key, (g = { key: item.key, items: [], count: 0, notMatch: 0, worst: 'MATCH', worstRel: null }));
    g.items.push(item);
    g.count++;
    if (item.status === 'MATCH') continue;
    g.notMatch++;
    if (SEVERITY[item.status] > SEVERITY[g.worst]) {
      g.worst = item.status;
      g.first = item;
    }
    g.worstRel = more(item.rel, g.worstRel);
  }
  return [...groups.values()];
}
