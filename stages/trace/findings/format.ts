// Short text forms of a comparison's numbers and items, shared by the findings and their renderings.
import type { ComparedItem, Comparison } from '../compare.js';
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

/** One line: the first divergence (key, Δ rel, status and diagnosis), or that every key matches. */
export function firstDivergenceLine(c: Comparison): string {
  const first = c.firstDivergence;
  if (!first) {
    const extra = [c.totals.MINOR && `${c.totals.MINOR} minor`, c.totals.MISSING && `${c.totals.MISSING} missing`].filter(Boolean);
    return `all keys match (${c.totals.compared} compared${extra.length ? `; ${extra.join(', ')}` : ''})`;
  }
  const item = c.items[first.index];
  const diagnosis = first.diagnoses[0]?.message ?? diagnosisOf(item);
  return `first divergence ${first.name} (${first.status}, Δ rel ${formatRel(item?.rel)})${diagnosis ? `: ${diagnosis}` : ''}`;
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
