// The compared items of one comparison, as columns: a comparison of a million records must not be
// a million objects (they were most of its time and memory). An item beyond round-off is kept as
// its ComparedItem (the detail every reader shows, which relations and findings add to); any
// other item (MATCH, within round-off, MISSING: nothing adds to those) as where it came from (its
// group, records and field), its status and Δ rel, made into an object again (compared again: the
// same numbers give the same outcome) only when asked: by the relations that look at the values
// upstream of a divergence, or for the full output of a small comparison. 26 bytes an item.
// relations.ts, onsets.ts and summarise.ts read items through ItemList, the few questions they ask
// of every item answered without an object. Knows items, not how they were compared.
import type { ComparedItem } from './comparison.js';
import { STATUSES, type Status } from './status.js';

/** Items by index, as the readers of a whole comparison need them. */
export interface ItemList {
  readonly length: number;
  /** The item as an object: the kept one when it is not MATCH (changes to it stay). */
  at(i: number): ComparedItem;
  status(i: number): Status;
  /** item.roundOff === true */
  roundOff(i: number): boolean;
  /** item.key, item.portKey and item.field. */
  key(i: number): string;
  portKey(i: number): string | undefined;
  field(i: number): string | undefined;
  /** The number of reference components, -1 when the reference side is missing. */
  refLength(i: number): number;
}

const STATUS_CODE: Readonly<Record<Status, number>> = { MATCH: 0, MINOR: 1, DIVERGENT: 2, CRITICAL: 3, MISSING: 4 };
const ROUND_OFF = 1;

/** What an ItemTable asks of the comparison that fills it. */
export interface ItemOrigin {
  /** The item at these coordinates (MATCH, round-off or MISSING), made as the comparison made it. */
  materialize(group: number, ri: number, pi: number, field: string | undefined): ComparedItem;
  /** The group's name in the spelling item.key uses (the reference's, the port's for port-only items). */
  keyOf(group: number, ri: number): string;
  /** item.portKey: the port's spelling when it differs. */
  portKeyOf(group: number, ri: number, pi: number): string | undefined;
}

/** Materialized MATCH items kept for repeated reads (relations look at the same neighbours). */
const CACHE = 32768;

export class ItemTable implements ItemList {
  length = 0;
  private group: Int32Array;
  private ri: Int32Array;
  private pi: Int32Array;
  private fieldId: Int32Array;
  private code: Uint8Array;
  private flags: Uint8Array;
  private refLen: Int32Array;
  /** Δ rel in single precision: the compact form writes three digits of it; items are compared again for their own. */
  private relCol: Float32Array;
  private readonly fields: string[] = [];
  private readonly fieldIds = new Map<string, number>();
  /** Every item beyond round-off, by index. */
  readonly detail = new Map<number, ComparedItem>();
  private readonly cache = new Map<number, ComparedItem>();

  constructor(
    private readonly origin: ItemOrigin,
    capacity: number,
  ) {
    // Zero-filled typed arrays take memory only where written: sized generously.
    const n = Math.max(64, capacity);
    this.group = new Int32Array(n);
    this.ri = new Int32Array(n);
    this.pi = new Int32Array(n);
    this.fieldId = new Int32Array(n);
    this.code = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.refLen = new Int32Array(n);
    this.relCol = new Float32Array(n);
  }

  private grow(): void {
    const n = Math.ceil(this.group.length * 1.5);
    const g = <T extends Int32Array | Uint8Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a as never);
      return b;
    };
    this.group = g(this.group);
    this.ri = g(this.ri);
    this.pi = g(this.pi);
    this.fieldId = g(this.fieldId);
    this.code = g(this.code);
    this.flags = g(this.flags);
    this.refLen = g(this.refLen);
    this.relCol = g(this.relCol);
  }

  private idOf(field: string | undefined): number {
    if (field === undefined) return -1;
    let id = this.fieldIds.get(field);
    if (id === undefined) {
      id = this.fields.length;
      this.fields.push(field);
      this.fieldIds.set(field, id);
    }
    return id;
  }

  private push(group: number, ri: number, pi: number, field: string | undefined, refLen: number): number {
    if (this.length >= this.group.length) this.grow();
    const i = this.length++;
    this.group[i] = group;
    this.ri[i] = ri;
    this.pi[i] = pi;
    this.fieldId[i] = this.idOf(field);
    this.refLen[i] = refLen;
    return i;
  }

  /** A MATCH item: its coordinates and Δ rel. */
  addMatch(group: number, ri: number, pi: number, field: string | undefined, refLen: number, rel: number | null): void {
    const i = this.push(group, ri, pi, field, refLen);
    this.code[i] = 0;
    this.relCol[i] = rel ?? NaN;
  }

  /** An item beyond round-off, kept whole: relations and findings add to it. */
  addDetail(item: ComparedItem, group: number, ri: number, pi: number): void {
    this.detail.set(this.addKept(item, group, ri, pi), item);
  }

  /** An item that is not MATCH but that nothing adds to (round-off, MISSING): its status, made again when asked. */
  addKept(item: ComparedItem, group: number, ri: number, pi: number): number {
    const i = this.push(group, ri, pi, item.field, item.reference ? item.reference.length : -1);
    this.code[i] = STATUS_CODE[item.status];
    this.relCol[i] = item.rel ?? NaN;
    if (item.roundOff) this.flags[i] = ROUND_OFF;
    return i;
  }

  at(i: number): ComparedItem {
    const kept = this.detail.get(i) ?? this.cache.get(i);
    if (kept) return kept;
    const item = this.materialize(i);
    if (this.cache.size >= CACHE) this.cache.clear();
    this.cache.set(i, item);
    return item;
  }

  /** Item i as an object, not kept (for writing every item out once). */
  item(i: number): ComparedItem {
    return this.detail.get(i) ?? this.materialize(i);
  }

  private materialize(i: number): ComparedItem {
    const f = this.fieldId[i]!;
    return this.origin.materialize(this.group[i]!, this.ri[i]!, this.pi[i]!, f < 0 ? undefined : this.fields[f]);
  }

  status(i: number): Status {
    return STATUSES[this.code[i]!]!;
  }

  /** The status as a code: MATCH 0, MINOR 1, DIVERGENT 2, CRITICAL 3, MISSING 4 (status.ts order). */
  statusCode(i: number): number {
    return this.code[i]!;
  }

  roundOff(i: number): boolean {
    return (this.flags[i]! & ROUND_OFF) !== 0;
  }

  key(i: number): string {
    return this.origin.keyOf(this.group[i]!, this.ri[i]!);
  }

  /** Whether item i has a reference side (its key is then the reference's spelling). */
  fromReference(i: number): boolean {
    return this.ri[i]! >= 0;
  }

  portKey(i: number): string | undefined {
    return this.origin.portKeyOf(this.group[i]!, this.ri[i]!, this.pi[i]!);
  }

  field(i: number): string | undefined {
    const f = this.fieldId[i]!;
    return f < 0 ? undefined : this.fields[f];
  }

  refLength(i: number): number {
    return this.refLen[i]!;
  }

  groupOf(i: number): number {
    return this.group[i]!;
  }

  /** Δ rel to single precision, NaN when none. */
  rel(i: number): number {
    return this.relCol[i]!;
  }
}
