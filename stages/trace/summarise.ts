// The summary fields of a comparison, from its items: totals, the strict verdict and the verdict of
// what lies beyond round-off, `failed` (fail_on), the strict first divergence, and where it and each
// finding lie against the checkpoints. Pure; knows items and statuses, not how they were compared.
import type { CheckpointResult, ComparedItem, Comparison, FailOn, Finding } from './comparison.js';
import type { ItemList } from './items.js';
import { SEVERITY, type Status } from './status.js';

type Verdict = Comparison['verdict'];

/** Whether item belongs to the key a person wrote (a group name, a group.field, or an item name). */
export function itemMatchesKey(item: ComparedItem, key: string): boolean {
  if (item.name === key || item.key === key || item.portKey === key) return true;
  if (item.field === undefined) return false;
  return `${item.key}.${item.field}` === key || (item.portKey !== undefined && `${item.portKey}.${item.field}` === key);
}

/** Whether an item of this status beyond round-off counts against `failOn`. */
export function countsAgainst(failOn: FailOn, status: Status): boolean {
  if (failOn === 'divergent') return status === 'DIVERGENT' || status === 'CRITICAL';
  if (failOn === 'critical') return status === 'CRITICAL';
  return false;
}

export interface Summary {
  totals: Comparison['totals'];
  verdict: Verdict;
  findingVerdict: Verdict;
  failed: boolean;
  divergences: number[];
  firstDivergence: Comparison['firstDivergence'];
  firstNonMatch: Comparison['firstNonMatch'];
  checkpoints: CheckpointResult[];
}

export function summarise(items: ItemList, ignored: number, failOn: FailOn, checkpoints: string[]): Summary {
  const totals = { MATCH: 0, MINOR: 0, DIVERGENT: 0, CRITICAL: 0, MISSING: 0, compared: items.length, ignored, roundOff: 0 };
  const divergences: number[] = [];
  let firstNonMatch: Comparison['firstNonMatch'] = null;
  let verdict: Verdict = 'MATCH';
  let findingVerdict: Verdict = 'MATCH';
  for (let i = 0; i < items.length; i++) {
    const s = items.status(i);
    totals[s]++;
    if (s === 'MATCH') continue;
    if (!firstNonMatch) firstNonMatch = { index: i, name: items.at(i).name, status: s };
    if (s === 'MISSING') continue;
    divergences.push(i);
    if (SEVERITY[s] > SEVERITY[verdict]) verdict = s;
    if (items.roundOff(i)) totals.roundOff++;
    else if (SEVERITY[s] > SEVERITY[findingVerdict]) findingVerdict = s;
  }
  const first = divergences.length ? items.at(divergences[0]!) : undefined;
  const firstDivergence = first ? { index: divergences[0]!, name: first.name, status: first.status, diagnoses: first.diagnoses ?? [] } : null;
  return {
    totals,
    verdict,
    findingVerdict,
    // fail_on judges what lies beyond round-off: a float32 port checked at a float64 tolerance
    // must not fail a run, while any divergence the budget cannot explain still does.
    failed: countsAgainst(failOn, findingVerdict),
    divergences,
    firstDivergence,
    firstNonMatch,
    checkpoints: checkpoints.map((c) => locateCheckpoint(c, items, firstDivergence?.index ?? null)),
  };
}

function locateCheckpoint(key: string, items: ItemList, firstDiv: number | null): CheckpointResult {
  let index: number | null = null;
  let worst: Status | null = null;
  let firstIsCheckpoint = false;
  for (let i = 0; i < items.length; i++) {
    if (!mayMatchKey(items, i, key) || !itemMatchesKey(items.at(i), key)) continue;
    if (index === null) index = i;
    const s = items.status(i);
    if (worst === null || SEVERITY[s] > SEVERITY[worst]) worst = s;
    if (i === firstDiv) firstIsCheckpoint = true;
  }
  let relation: CheckpointResult['relation'];
  if (index === null) relation = 'not-found';
  else if (firstDiv === null) relation = 'no-divergence';
  else if (firstIsCheckpoint) relation = 'at';
  else relation = firstDiv < index ? 'upstream' : 'downstream';
  return { key, index, status: worst, relation };
}

/**
 * Whether item i could belong to `key`, without making its object: every name itemMatchesKey
 * tries is its key or port key, alone or followed by a selector or a field.
 */
function mayMatchKey(items: ItemList, i: number, key: string): boolean {
  const spelt = (k: string | undefined) => k !== undefined && key.startsWith(k) && (key.length === k.length || '.#['.includes(key[k.length]!));
  return spelt(items.key(i)) || spelt(items.portKey(i));
}

/** Where a finding lies against each checkpoint (the checkpoint's first item in the reference's order). */
export function findingCheckpoints(finding: number, items: ItemList, checkpoints: CheckpointResult[]): Finding['checkpoints'] {
  return checkpoints.map((cp) => {
    if (cp.index === null) return { key: cp.key, relation: 'not-found' as const };
    if (itemMatchesKey(items.at(finding), cp.key)) return { key: cp.key, relation: 'at' as const };
    return { key: cp.key, relation: finding < cp.index ? ('upstream' as const) : ('downstream' as const) };
  });
}
