// Reads the items beyond round-off, in the reference's order, as findings: the first one, and each
// later divergence that is not simply downstream of an earlier one (an independent onset). The
// numbers cannot show which value a program computes from which, so this is a reading aid with
// stated rules, not a proof; every item beyond round-off keeps its own status and diagnoses.
//
// An item beyond round-off is read, in this order, as
//   repeat        the same reference and port values as an earlier item beyond round-off (a
//                 per-phi record printing the chain's F_latt again) → that item's finding;
//   same factor   the same strong signature (a unit factor's power, a carry-over from the same
//                 record, a permutation, a shift along the same vector) or the same ratio as an
//                 earlier item (within 1e-5; within 10 % for two vectors off by orders of magnitude
//                 whose components each agree on it) → that item's finding;
//   combination   its ratio is the product or quotient of two earlier findings' ratios
//                 (I_pixel_final = I_before_scaling × fluence) → the later one's finding;
//   new onset     otherwise, when it is the first; or when the item before it was off by orders of
//                 magnitude (CRITICAL), it is not, and values agree again right after it (a moderate
//                 difference between garbage and agreement is not that garbage's doing: the real
//                 port's I_before_scaling after its lattice factors); or when values agreed again
//                 since the previous item beyond round-off (a break: a computed, non-integer chain
//                 value within round-off; record fields and integers do not count) and it carries a
//                 strong signature, or it is off by orders of magnitude with the same sign while
//                 that previous item was not (the real port's fluence after I_before_scaling; a sign
//                 flip of a steep function is more often a consequence); or, right after other
//                 divergences, when it carries a strong signature never seen before (a unit factor,
//                 a carry-over, a permutation, a simple fraction such as steps 4 against 2);
//   downstream    otherwise: the previous item's finding.
// Sets `finding` and `relation` on every item beyond round-off; adds a `combination` diagnosis.
import type { ComparedItem, Diagnosis, Finding, ItemRelation, OnsetReason } from './comparison.js';
import { finiteNumbers } from './components.js';
import { formatNumber, simpleFraction } from './factors.js';
import type { ItemList } from './items.js';
import { beyondNoiseAt, isWithinNoise, withinNoiseAt } from './relations.js';

/** Items beyond round-off that get the repeat / same-factor / combination lookups; later ones follow their neighbours. */
const MAX_RELATED = 2000;
/** |ln r| below this: a ratio too close to 1 to characterise an item. */
const TRIVIAL = 0.01;
/**
 * |ln r1 − ln r2| within which two ratios are the same factor: tight, because a coincidence is
 * likelier than it looks among dozens of ratios; float32 rounding of two values moves it by ~1e-7.
 */
const SAME = 1e-5;
/** ... and two ratios of items off by orders of magnitude. */
const LOOSE = 0.1;
/** Findings' ratios tried as the factors of a combination. */
const POOL = 64;
/** How far ahead to look for the next item that is not a record field within round-off. */
const LOOKAHEAD = 1000;

interface Character {
  /** The item's ratio port/reference: a scalar's, or the one every component shares. */
  ratio?: number;
  /** A vector's component ratios when they share a sign and lie within ×1.1: their geometric mean. */
  loose?: number;
  strong: string[];
}

type OnsetFinding = Omit<Finding, 'checkpoints'>;

export function readOnsets(items: ItemList): OnsetFinding[] {
  const findings: OnsetFinding[] = [];
  const byValues = new Map<string, number>();
  const strongSeen = new Map<string, number>();
  const ratios = new Map<number, number[]>();
  const looseRatios = new Map<number, number[]>();
  const pool: number[] = [];
  const onsetRatios = new Map<number, number[]>();
  const chars = new Map<number, Character>();
  let prev = -1;
  let broke = false;
  let examined = 0;

  const lookup = (buckets: Map<number, number[]>, width: number, r: number, test: (j: number) => boolean): number | undefined => {
    const b = bucketOf(r, width);
    for (const k of [b, b - 1, b + 1]) for (const j of buckets.get(k) ?? []) if (test(j)) return j;
    return undefined;
  };

  for (let i = 0; i < items.length; i++) {
    if (items.status(i) === 'MISSING') continue;
    if (!beyondNoiseAt(items, i)) {
      if (!broke && prev >= 0 && isBreak(items.at(i))) broke = true;
      continue;
    }
    const it = items.at(i);
    const related = examined < MAX_RELATED;
    const ch: Character = related ? characterOf(it, items) : { strong: [] };
    let relation: ItemRelation | undefined;
    if (related) {
      const rep = byValues.get(valuesKey(it));
      if (rep !== undefined) relation = { kind: 'repeat', item: rep };
      const same =
        relation === undefined
          ? (ch.strong.map((k) => strongSeen.get(k)).find((j) => j !== undefined) ??
            (ch.ratio !== undefined && Math.abs(Math.log(Math.abs(ch.ratio))) >= TRIVIAL
              ? lookup(ratios, SAME, ch.ratio, (j) => sameRatio(chars.get(j)!.ratio, ch.ratio!, SAME))
              : undefined) ??
            (it.status === 'CRITICAL' && wild(ch.loose)
              ? lookup(looseRatios, LOOSE, ch.loose!, (j) => sameRatio(chars.get(j)!.loose, ch.loose!, LOOSE))
              : undefined))
          : undefined;
      if (same !== undefined) relation = { kind: 'same-factor', item: same };
      if (relation === undefined && ch.ratio !== undefined && Math.abs(Math.log(Math.abs(ch.ratio))) >= TRIVIAL) {
        const pair = combinationOf(ch.ratio, pool, (a) => chars.get(a)!.ratio!, (target, test) => lookup(onsetRatios, SAME, target, test));
        if (pair) {
          relation = { kind: 'combination', items: pair };
          addCombination(it, items, pair, chars, ch.ratio);
        }
      }
    }

    let reason: OnsetReason | undefined;
    if (relation === undefined) {
      if (!findings.length) reason = 'first';
      else if (items.status(prev) === 'CRITICAL' && it.status !== 'CRITICAL' && agreementFollows(items, i)) reason = 'after-large';
      else if (broke && ((it.status === 'CRITICAL' && items.status(prev) !== 'CRITICAL' && wild(positive(ch.ratio ?? ch.loose))) || ch.strong.length > 0)) {
        reason = 'after-agreement';
      }
      else if (!broke && ch.strong.some((k) => /^(unit|carry|perm|scale):/.test(k))) reason = 'new-factor';
    }
    if (reason) {
      it.finding = findings.length;
      it.relation = { kind: 'onset' };
      findings.push({ index: i, name: it.name, status: it.status, diagnoses: it.diagnoses ?? [], reason, items: 0 });
    } else {
      const rel = relation ?? { kind: 'downstream' as const, item: prev };
      const from = rel.items ? Math.max(...rel.items.map((j) => items.at(j).finding ?? 0)) : items.at(rel.item!).finding ?? 0;
      it.finding = from;
      it.relation = rel;
    }
    findings[it.finding!]!.items++;

    if (related) {
      chars.set(i, ch);
      const vk = valuesKey(it);
      if (!byValues.has(vk)) byValues.set(vk, i);
      for (const c of componentKeys(it)) if (!byValues.has(c)) byValues.set(c, i);
      for (const k of ch.strong) if (!strongSeen.has(k)) strongSeen.set(k, i);
      if (ch.ratio !== undefined && Math.abs(Math.log(Math.abs(ch.ratio))) >= TRIVIAL) {
        push(ratios, bucketOf(ch.ratio, SAME), i);
        // Only onsets combine: any two of dozens of ratios multiply to a third now and then.
        if (reason && pool.length < POOL) {
          pool.push(i);
          push(onsetRatios, bucketOf(ch.ratio, SAME), i);
        }
      }
      if (it.status === 'CRITICAL' && wild(ch.loose)) push(looseRatios, bucketOf(ch.loose!, LOOSE), i);
    }
    prev = i;
    broke = false;
    examined++;
  }
  return findings;
}

function push(m: Map<number, number[]>, k: number, i: number): void {
  const l = m.get(k);
  if (l) l.push(i);
  else m.set(k, [i]);
}

/** A signed bucket of ln|r|: the sign keeps a ratio and its negative apart. */
function bucketOf(r: number, width: number): number {
  return Math.round(Math.log(Math.abs(r)) / width) * 2 + (r < 0 ? 1 : 0);
}

function sameRatio(a: number | undefined, b: number, width: number): boolean {
  return a !== undefined && Math.sign(a) === Math.sign(b) && Math.abs(Math.log(Math.abs(a)) - Math.log(Math.abs(b))) <= width;
}

/** The ratio when both sides have the same sign: a sign flip of a steep function is a consequence more often than a cause. */
function positive(r: number | undefined): number | undefined {
  return r !== undefined && r > 0 ? r : undefined;
}

/** Off by at least an order of magnitude. */
function wild(r: number | undefined): boolean {
  return r !== undefined && Math.abs(Math.log10(Math.abs(r))) >= 1;
}

/** A computed chain value the two sides agree on again: non-integer, not a record field. */
function isBreak(item: ComparedItem): boolean {
  if (!isWithinNoise(item) || item.field !== undefined || !item.reference) return false;
  return item.reference.some((c) => typeof c === 'number' && Number.isFinite(c) && !Number.isInteger(c));
}

/** Whether values agree again right after item i (record fields within round-off aside), or the trace ends. */
function agreementFollows(items: ItemList, i: number): boolean {
  for (let j = i + 1; j < items.length && j <= i + LOOKAHEAD; j++) {
    if (items.status(j) === 'MISSING' || (items.field(j) !== undefined && withinNoiseAt(items, j))) continue;
    return isBreak(items.at(j));
  }
  return true;
}

function recordOf(item: ComparedItem): string {
  return `${item.key}${item.match ? `[${item.match.field}=${item.match.value}]` : `#${item.occurrence}`}`;
}

function valuesKey(it: ComparedItem): string {
  const f = (v: ComparedItem['reference']) => (v ?? []).map((c) => (typeof c === 'number' ? c.toPrecision(10) : String(c))).join(',');
  return `${f(it.reference)}|${f(it.port)}`;
}

/** A vector's components as one-value keys, so that a scalar repeating one of them is recognised. */
function componentKeys(it: ComparedItem): string[] {
  if (!it.reference || !it.port || it.reference.length < 2 || it.reference.length !== it.port.length) return [];
  return it.reference.map((c, k) => valuesKey({ reference: [c], port: [it.port![k]!] } as ComparedItem));
}

function characterOf(it: ComparedItem, items: ItemList): Character {
  const strong: string[] = [];
  let ratio: number | undefined;
  for (const d of it.diagnoses ?? []) {
    if (d.kind === 'unit-factor' && d.components === undefined) strong.push(`unit:${d.power ?? d.units}:${Math.sign(d.ratio ?? 1)}`);
    // Keyed by the record carried over from, whatever the field: every field of a stale record is one finding.
    if (d.kind === 'carry-over' && d.related) strong.push(`carry:${d.message.split(' ')[0]}:${recordOf(items.at(d.related[0]!))}`);
    if (d.kind === 'permutation') strong.push(`perm:${d.map?.join(',')}:${d.signs?.join(',')}`);
    if (d.kind === 'shift') strong.push(`shift:${d.related?.join(',')}:${d.ratio ?? ''}`);
    // A simple fraction (steps 4 against 2) is a count or a normalisation: as telling as a unit factor.
    if (d.kind === 'scale-factor' && d.ratio !== undefined && simpleFraction(d.ratio, 1e-9)) strong.push(`scale:${d.ratio}`);
    if ((d.kind === 'scale-factor' || d.kind === 'unit-factor') && d.components === undefined && d.residual === undefined && d.ratio !== undefined) ratio = d.ratio;
  }
  const r = finiteNumbers(it.reference);
  const p = finiteNumbers(it.port);
  if (!r || !p || r.length !== p.length) return { ratio, strong };
  if (r.length === 1) {
    if (r[0] !== 0 && p[0] !== 0) ratio = p[0]! / r[0]!;
    return { ratio, strong };
  }
  return { ratio, loose: looseRatio(r, p), strong };
}

/** The geometric mean of a vector's component ratios when they share a sign and lie within ×1.1. */
function looseRatio(r: number[], p: number[]): number | undefined {
  const s = Math.max(...r.map(Math.abs));
  let lo = Infinity;
  let hi = 0;
  let sign = 0;
  let sum = 0;
  let n = 0;
  for (let k = 0; k < r.length; k++) {
    if (Math.abs(r[k]!) <= 1e-3 * s) continue;
    const q = p[k]! / r[k]!;
    if (q === 0 || !Number.isFinite(q)) return undefined;
    if (sign === 0) sign = Math.sign(q);
    else if (Math.sign(q) !== sign) return undefined;
    lo = Math.min(lo, Math.abs(q));
    hi = Math.max(hi, Math.abs(q));
    sum += Math.log(Math.abs(q));
    n++;
  }
  if (n === 0 || hi > 1.1 * lo) return undefined;
  return sign * Math.exp(sum / n);
}

/** Two earlier items whose ratios multiply (or divide) to `ratio`, within SAME. */
function combinationOf(
  ratio: number,
  pool: number[],
  ratioOf: (i: number) => number,
  find: (target: number, test: (j: number) => boolean) => number | undefined,
): [number, number] | undefined {
  const lx = Math.log(Math.abs(ratio));
  for (const a of pool) {
    const ra = ratioOf(a);
    const la = Math.log(Math.abs(ra));
    // ratio = ra × rb, ratio = ra / rb, ratio = rb / ra
    for (const [lb, sb] of [
      [lx - la, Math.sign(ratio) * Math.sign(ra)],
      [la - lx, Math.sign(ratio) * Math.sign(ra)],
      [lx + la, Math.sign(ratio) * Math.sign(ra)],
    ] as const) {
      if (Math.abs(lb) < TRIVIAL) continue;
      const b = find(sb * Math.exp(lb), (j) => j !== a && sameRatio(ratioOf(j), sb * Math.exp(lb), SAME));
      if (b !== undefined) return a < b ? [a, b] : [b, a];
    }
  }
  return undefined;
}

function addCombination(it: ComparedItem, items: ItemList, [a, b]: [number, number], chars: Map<number, Character>, r: number): void {
  const ra = chars.get(a)!.ratio!;
  const rb = chars.get(b)!.ratio!;
  const product = Math.abs(Math.log(Math.abs(ra * rb)) - Math.log(Math.abs(r))) <= SAME;
  const op = product ? '×' : Math.abs(Math.log(Math.abs(ra / rb)) - Math.log(Math.abs(r))) <= SAME ? '÷' : 'into';
  const text =
    op === 'into'
      ? `${items.at(b).name}'s ${formatNumber(rb, 6)} ÷ ${items.at(a).name}'s ${formatNumber(ra, 6)}`
      : `${items.at(a).name}'s ${formatNumber(ra, 6)} ${op} ${items.at(b).name}'s ${formatNumber(rb, 6)}`;
  const d: Diagnosis = {
    kind: 'combination',
    message: `ratio ${formatNumber(r, 6)} = ${text}: this value carries those two differences`,
    ratio: r,
    related: [a, b],
  };
  it.diagnoses = [d, ...(it.diagnoses ?? [])];
}
