// A trace's main family (TRACE_C, TRACE_PY, TRACE_TS) and a record's family-free identity, which
// is what pairs a reference record with a port record (see compare.ts for the rules and why).
// Pure; knows records, not comparisons.
import { columnsOf, K_RECORD, type TraceColumns } from './columns.js';
import type { RecordKind, TraceDocument } from './record.js';

/**
 * The main family of a trace: prefixes are grouped under their shortest `_`-ancestor present in the
 * trace (TRACE_PY_TRICUBIC under TRACE_PY; a one-word prefix such as TRACE is never an ancestor),
 * and the group with the most records wins, ties to the first seen. A family made only of `P k=v`
 * record lines stands for its parent: TRACE_PY_PHI → TRACE_PY.
 */
export function traceFamily(trace: TraceDocument | TraceColumns): string {
  const doc = columnsOf(trace);
  // Counted by prefix id first: a million records, a handful of prefixes.
  const byId = new Int32Array(doc.strings.length);
  const plainId = new Uint8Array(doc.strings.length);
  const order: number[] = [];
  for (let i = 0; i < doc.length; i++) {
    const id = doc.prefix[i]!;
    if (byId[id]++ === 0) order.push(id);
    if (doc.kind[i] !== K_RECORD) plainId[id] = 1;
  }
  const counts = new Map<string, number>();
  const plain = new Set<string>();
  for (const id of order) {
    counts.set(doc.strings[id]!, byId[id]!);
    if (plainId[id]) plain.add(doc.strings[id]!);
  }
  const prefixes = [...counts.keys()];
  const rootOf = (p: string): string => {
    let best = p;
    for (const q of prefixes) {
      if (q.length < best.length && q.includes('_') && p.startsWith(q + '_')) best = q;
    }
    return best;
  };
  const rootCounts = new Map<string, number>();
  const rootPlain = new Set<string>();
  for (const p of prefixes) {
    const root = rootOf(p);
    rootCounts.set(root, (rootCounts.get(root) ?? 0) + counts.get(p)!);
    if (plain.has(p)) rootPlain.add(root);
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [root, c] of rootCounts) {
    if (c > bestCount) {
      best = root;
      bestCount = c;
    }
  }
  best ??= doc.prefixes[0] ?? '';
  if (!rootPlain.has(best)) {
    const parts = best.split('_');
    if (parts.length >= 3) return parts.slice(0, -1).join('_');
  }
  return best;
}

export const SEP = '\u0000';

/** The family-free identity of a record: '<sub-family>\0<key>' ('' key for record lines and `P: values` lines). */
export function identityOf(prefix: string, key: string, kind: RecordKind, family: string): string {
  let sub: string;
  if (prefix === family) sub = '';
  else if (prefix.startsWith(family + '_')) sub = prefix.slice(family.length + 1);
  else sub = '=' + prefix;
  return kind === 'record' || key === prefix ? sub + SEP : sub + SEP + key;
}

/** The group name a person reads: key, PREFIX (record lines), or PREFIX:key (sub-family lines). */
export function groupName(prefix: string, key: string, kind: RecordKind, family: string): string {
  if (kind === 'record' || key === prefix) return prefix;
  return prefix === family ? key : `${prefix}:${key}`;
}
