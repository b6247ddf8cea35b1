// The compact form of a large comparison, and how readers find an item in either form.
//
// Above COMPACT_ABOVE items a comparison keeps the full detail (values, deltas, diagnoses,
// findings' relations) of the items beyond round-off, of those they point at (a carry-over's
// source, a shift's vector), and of the few any reader names: the first divergence, the first item
// that is not MATCH, each checkpoint's first item, each key's first item of its worst status and
// its item of largest Δ rel, the first MAX_NAMED items within round-off and the first MAX_MISSING
// items in one trace only; each with its `index`. Every item, MATCH included, is still there as one key, one status letter and
// one Δ rel in `compact` (schemas/comparison.schema.json). A million-record comparison is then a
// few MB instead of ~300 (or 670 with a float32 port at a tight tolerance, every item within
// round-off), and reading or validating it stays small. Totals, verdicts, findings, the first
// divergence, checkpoints and `divergences` are the same as the full form's: they are computed
// before the form is chosen. Below the threshold nothing changes (README, "How two traces are
// compared").
import type { ComparedItem, CompactItems, Comparison } from './comparison.js';
import type { ItemTable } from './items.js';
import { SEVERITY, STATUSES, type Status } from './status.js';

/** Items above which a comparison is written compact: ~30 MB of full JSON. */
export const COMPACT_ABOVE = 100_000;
/** Items within round-off kept in detail: as many as a summary names. */
export const MAX_NAMED = 12;
/** Items in one trace only kept in detail. */
export const MAX_MISSING = 1000;

/** Status letters, in the order of status.ts's STATUSES; then the same statuses within round-off. */
const LETTERS = 'MNDCX';
const ROUND_OFF_LETTERS = 'Mndc';
const STATUS_OF_LETTER: Readonly<Record<string, Status>> = Object.fromEntries([
  ...STATUSES.map((s, k) => [LETTERS[k]!, s]),
  ...STATUSES.slice(1, 4).map((s, k) => [ROUND_OFF_LETTERS[k + 1]!, s]),
]);

/** The comparison `c` (every field but items set) in compact form, from its item table. */
export function compactComparison(c: Comparison, table: ItemTable, threshold: number): Comparison {
  const n = table.length;
  const wanted = new Set<number>(table.detail.keys());
  const point = (i: number | null | undefined) => {
    if (i !== undefined && i !== null && i >= 0 && i < n) wanted.add(i);
  };
  for (const it of table.detail.values()) {
    point(it.relation?.item);
    it.relation?.items?.forEach(point);
    for (const d of it.diagnoses ?? []) d.related?.forEach(point);
  }
  for (const cp of c.checkpoints) point(cp.index);
  point(c.firstDivergence?.index);
  point(c.firstNonMatch?.index);

  const keys: string[] = [];
  const ids = new Map<string, number>();
  // An item's key is its group's name in one side's spelling: looked up once per group and side.
  const byGroup: number[] = [];
  const key = new Int32Array(n);
  const rel = new Float64Array(n);
  const letters = new Uint8Array(n);
  // Each key's worst status, its first item of that status and its item of largest Δ rel: the
  // step summary names the one and shows the other's Δ rel.
  const worst: number[] = [];
  const first: number[] = [];
  const largest: number[] = [];
  let roundOff = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const slot = table.groupOf(i) * 2 + (table.fromReference(i) ? 0 : 1);
    let id = byGroup[slot];
    if (id === undefined) {
      const k = table.key(i);
      const known = ids.get(k);
      id = known ?? keys.length;
      if (known === undefined) {
        keys.push(k);
        ids.set(k, id);
        worst.push(0);
        first.push(-1);
        largest.push(-1);
      }
      byGroup[slot] = id;
    }
    key[i] = id;
    rel[i] = table.rel(i);
    const code = table.statusCode(i);
    const within = table.roundOff(i);
    letters[i] = (within ? ROUND_OFF_LETTERS : LETTERS).charCodeAt(code);
    if (code !== 0) {
      const severity = SEVERITY[STATUSES[code]!];
      if (severity > worst[id]!) {
        worst[id] = severity;
        first[id] = i;
      }
      if (!Number.isNaN(rel[i]!) && (largest[id]! < 0 || rel[i]! > rel[largest[id]!]!)) largest[id] = i;
      if (within && roundOff++ < MAX_NAMED) wanted.add(i);
      if (code === 4 && missing++ < MAX_MISSING) wanted.add(i);
    }
  }
  for (const i of first) point(i);
  for (const i of largest) point(i);
  c.items = [...wanted].sort((a, b) => a - b).map((i) => ({ index: i, ...table.at(i) }));
  c.compact = { threshold, items: n, keys, key, status: Buffer.from(letters.buffer, letters.byteOffset, n).toString('latin1'), rel };
  return c;
}

/**
 * The `compact` member as JSON, in pieces of about a megabyte: the columns are written as bytes
 * (building a million numbers as strings, then encoding them, took three times as long).
 */
export function* compactJsonPieces(k: CompactItems): Generator<string | Buffer> {
  yield `{"threshold":${k.threshold},"items":${k.items},"keys":${JSON.stringify(k.keys)},\n  "key":[`;
  yield* columnPieces(k.items, (out, p, i) => putInteger(out, p, k.key[i]!));
  yield `],\n  "status":${JSON.stringify(k.status)},\n  "rel":[`;
  yield* columnPieces(k.items, (out, p, i) => putRel(out, p, k.rel[i]));
  yield ']}';
}

/** n comma-separated numbers, each written by `put` (at most 12 bytes), in buffers of 65,536 numbers. */
function* columnPieces(n: number, put: (out: Buffer, p: number, i: number) => number): Generator<Buffer> {
  const STEP = 1 << 16;
  for (let a = 0; a < n; a += STEP) {
    const b = Math.min(n, a + STEP);
    const out = Buffer.allocUnsafe((b - a) * 12);
    let p = 0;
    for (let i = a; i < b; i++) {
      if (i > 0) out[p++] = 0x2c;
      p = put(out, p, i);
    }
    yield out.subarray(0, p);
  }
}

function putInteger(out: Buffer, p: number, x: number): number {
  let digits = 1;
  for (let t = 10; t <= x; t *= 10) digits++;
  for (let q = p + digits - 1; q >= p; q--) {
    out[q] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  return p + digits;
}

const NULL = Buffer.from('null');
/** 10^k for k in [-300, 300], each correctly rounded (as JSON.parse reads `1ek`). */
const P10 = Float64Array.from({ length: 601 }, (_, k) => Number(`1e${k - 300}`));
const bits = new Float64Array(1);
const high = new Uint32Array(bits.buffer, bits.byteOffset + (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 4 : 0), 1);

/**
 * Δ rel as written: three significant digits (`d.dde-N`, a JSON number), enough to read; 0 and
 * null as such. Within one unit of the third digit of x.toPrecision(3), at a fifth of its cost:
 * the decimal exponent comes from the binary one, the digits from one multiplication.
 */
function putRel(out: Buffer, p: number, x: number | null | undefined): number {
  if (x === null || x === undefined || !Number.isFinite(x) || x < 0) {
    NULL.copy(out, p);
    return p + 4;
  }
  if (x === 0) {
    out[p] = 0x30;
    return p + 1;
  }
  if (x < 1e-290 || x > 1e290) return p + out.write(x.toPrecision(3), p, 'latin1'); // beyond the table
  bits[0] = x;
  let e = Math.floor((((high[0]! >>> 20) & 0x7ff) - 1023) * 0.30102999566398114);
  if (x >= P10[e + 301]!) e++;
  let m = Math.round(x * P10[302 - e]!);
  if (m >= 1000) {
    m = Math.round(m / 10);
    e++;
  } else if (m < 100) {
    m *= 10;
    e--;
  }
  out[p++] = 0x30 + Math.floor(m / 100);
  const tail = m % 100;
  if (tail !== 0) {
    out[p++] = 0x2e;
    out[p++] = 0x30 + Math.floor(tail / 10);
    if (tail % 10 !== 0) out[p++] = 0x30 + (tail % 10);
  }
  if (e !== 0) {
    out[p++] = 0x65;
    if (e < 0) {
      out[p++] = 0x2d;
      e = -e;
    }
    p = putInteger(out, p, e);
  }
  return p;
}

const byIndex = new WeakMap<Comparison, Map<number, ComparedItem>>();

/** Item i of a comparison, full or compact; undefined when a compact one keeps no detail of it. */
export function itemAt(c: Comparison, i: number): ComparedItem | undefined {
  if (!c.compact) return c.items[i];
  let m = byIndex.get(c);
  if (!m) {
    m = new Map(c.items.map((it) => [it.index!, it]));
    byIndex.set(c, m);
  }
  return m.get(i);
}

/** The position of an item among all compared items. */
export function indexOf(c: Comparison, item: ComparedItem, position: number): number {
  return c.compact ? item.index! : position;
}

/** Item i's status in either form. */
export function statusAt(c: Comparison, i: number): Status {
  return c.compact ? STATUS_OF_LETTER[c.compact.status[i]!]! : c.items[i]!.status;
}

/** Whether item i's difference is within round-off, in either form. */
export function roundOffAt(c: Comparison, i: number): boolean {
  if (!c.compact) return c.items[i]!.roundOff === true;
  const letter = c.compact.status.charCodeAt(i);
  return letter >= 0x61 && letter <= 0x7a; // lower case: n, d, c
}

/** Item i's Δ rel in either form, null when none. */
export function relAt(c: Comparison, i: number): number | null {
  const x = c.compact ? c.compact.rel[i] : c.items[i]!.rel;
  return x === null || x === undefined || Number.isNaN(x) ? null : x;
}
