// Which reference record meets which port record: records are grouped by their family-free
// identity (family.ts), aliases renaming port keys first; within a group they pair by occurrence,
// or, for record groups named by `matchBy`, by the value of a field (phi_tic=3 with phi_tic=3).
// Knows records and identities, not values or statuses.
import { KIND_NAMES, K_RECORD, type TraceColumns } from './columns.js';
import type { CompareOptions } from './comparison.js';
import { groupName, identityOf } from './family.js';
import type { Precision } from './precision.js';
import type { Num } from './record.js';

export interface Tolerance {
  rel: number;
  abs: number;
  minor: number;
}

/** ignore / tolerance decisions for a group's field ('' for the record itself). */
export interface Decision {
  ignore: boolean;
  tol: Tolerance | null;
}

/** Records of both traces that share an identity, in each trace's order. */
export interface Group {
  id: string;
  /** Position among the comparison's groups, in order of first appearance. */
  index: number;
  /** The group name in each trace's spelling (first record seen). */
  refName?: string;
  portName?: string;
  /** The group's records on each side (indices into that trace), in order. */
  ref: Int32Array;
  port: Int32Array;
  /** Set when the group's records pair by this field's value instead of by occurrence. */
  matchField?: string;
  refByValue?: Map<string, number[]>;
  portByValue?: Map<string, number[]>;
  memo?: Map<string, Decision>;
  /** The decision for the group's whole records (not their fields), when it is the same for all. */
  whole?: Decision;
  /** The precision of each field ('' for the record itself), computed when first needed. */
  precision?: Map<string, Precision>;
}

export interface Side {
  records: TraceColumns;
  /** Each record's group (its index). */
  group: Int32Array;
  /** Occurrence of each record within its group (within its match value, for matched groups). */
  occ: Int32Array;
  /** Index of the paired record in the other trace, -1 when none. */
  pair: Int32Array;
}

const NO_VALUE = '\u0002';

export function matchKey(v: Num | string | undefined): string {
  return v === undefined ? NO_VALUE : typeof v === 'number' ? String(v) : v;
}

export function indexSide(
  records: TraceColumns,
  family: string,
  isRef: boolean,
  groups: Map<string, Group>,
  aliasOf: ((key: string, name: string) => string | undefined) | undefined,
  list: Group[],
): Side {
  const n = records.length;
  const group = new Int32Array(n);
  const occ = new Int32Array(n);
  const pair = new Int32Array(n).fill(-1);
  // (prefix, key) → group + 1, by the ids of the interned strings: no string is built or hashed.
  // One table of keys per prefix while they stay small (a trace has a handful of prefixes), else a map.
  const width = records.strings.length + 1;
  const tables: Array<Int32Array | null | undefined> = [];
  let tableCount = 0;
  const map = new Map<number, number>();
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const isRecord = records.kind[i] === K_RECORD;
    const prefixId = records.prefix[i]!;
    const keySlot = isRecord ? 0 : records.key[i]! + 1;
    let table = tables[prefixId];
    if (table === undefined) table = tables[prefixId] = width <= 1 << 16 && tableCount++ < 32 ? new Int32Array(width) : null;
    let gi = (table ? table[keySlot]! : (map.get(prefixId * width + keySlot) ?? 0)) - 1;
    if (gi < 0) {
      let g: Group | undefined;
      const prefix = records.prefixOf(i);
      const key = records.keyOf(i);
      const kind = KIND_NAMES[records.kind[i]!]!;
      const name = groupName(prefix, key, kind, family);
      const id = aliasOf?.(key, name) ?? identityOf(prefix, key, kind, family);
      g = groups.get(id);
      if (!g) {
        g = { id, index: list.length, ref: NONE, port: NONE };
        groups.set(id, g);
        list.push(g);
      }
      if (isRef) g.refName ??= name;
      else g.portName ??= name;
      gi = g.index;
      if (table) table[keySlot] = gi + 1;
      else map.set(prefixId * width + keySlot, gi + 1);
    }
    while (counts.length <= gi) counts.push(0);
    occ[i] = counts[gi]!++;
    group[i] = gi;
  }
  // Each group's records as one slice of a single array (one array per group took 8 bytes a
  // record more, as boxed growable lists).
  const members = new Int32Array(n);
  const at = new Int32Array(counts.length + 1);
  for (let k = 0; k < counts.length; k++) at[k + 1] = at[k]! + counts[k]!;
  for (let k = 0; k < counts.length; k++) {
    const slice = members.subarray(at[k]!, at[k + 1]!);
    if (isRef) list[k]!.ref = slice;
    else list[k]!.port = slice;
  }
  for (let i = 0; i < n; i++) members[at[group[i]!]! + occ[i]!] = i;
  return { records, group, occ, pair };
}

const NONE = new Int32Array(0);

/** Pairs the records of every group: by a field's value for matched record groups, else by occurrence. */
export function pairRecords(groups: Map<string, Group>, ref: Side, prt: Side, matchBy: CompareOptions['matchBy']): void {
  for (const g of groups.values()) {
    const field = matchFieldFor(g, matchBy, ref.records, prt.records);
    if (field === undefined) {
      const n = Math.min(g.ref.length, g.port.length);
      for (let k = 0; k < n; k++) {
        ref.pair[g.ref[k]!] = g.port[k]!;
        prt.pair[g.port[k]!] = g.ref[k]!;
      }
      continue;
    }
    g.matchField = field;
    g.refByValue = byValue(g.ref, ref.records, field, ref.occ);
    g.portByValue = byValue(g.port, prt.records, field, prt.occ);
    for (const [vk, list] of g.refByValue) {
      const other = g.portByValue.get(vk);
      if (!other) continue;
      const n = Math.min(list.length, other.length);
      for (let k = 0; k < n; k++) {
        ref.pair[list[k]!] = other[k]!;
        prt.pair[other[k]!] = list[k]!;
      }
    }
  }
}

/** The field a group's records pair by, if `matchBy` names one that its record lines carry. */
function matchFieldFor(g: Group, matchBy: CompareOptions['matchBy'], refRecords: TraceColumns, portRecords: TraceColumns): string | undefined {
  if (matchBy === undefined) return undefined;
  const [sample, at] = g.ref.length ? [refRecords, g.ref[0]] : [portRecords, g.port[0]];
  if (at === undefined || sample.kind[at] !== K_RECORD) return undefined;
  const field =
    typeof matchBy === 'string'
      ? matchBy
      : ((g.refName !== undefined ? matchBy[g.refName] : undefined) ?? (g.portName !== undefined ? matchBy[g.portName] : undefined));
  if (field === undefined) return undefined;
  const has = (records: TraceColumns, list: Int32Array) => list.some((i) => records.hasField(i, field));
  return has(refRecords, g.ref) || has(portRecords, g.port) ? field : undefined;
}

/** Groups a side's records of one group by their match value; sets each record's occurrence within it. */
function byValue(list: Int32Array, records: TraceColumns, field: string, occ: Int32Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of list) {
    const vk = matchKey(records.fieldValue(i, field));
    let l = out.get(vk);
    if (!l) {
      l = [];
      out.set(vk, l);
    }
    occ[i] = l.length;
    l.push(i);
  }
  return out;
}
