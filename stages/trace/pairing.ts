// Which reference record meets which port record: records are grouped by their family-free
// identity (family.ts), aliases renaming port keys first; within a group they pair by occurrence,
// or, for record groups named by `matchBy`, by the value of a field (phi_tic=3 with phi_tic=3).
// Knows records and identities, not values or statuses.
import type { CompareOptions } from './comparison.js';
import { groupName, identityOf } from './family.js';
import type { Precision } from './precision.js';
import type { Num, TraceRecord } from './record.js';

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
  /** The group name in each trace's spelling (first record seen). */
  refName?: string;
  portName?: string;
  ref: number[];
  port: number[];
  /** Set when the group's records pair by this field's value instead of by occurrence. */
  matchField?: string;
  refByValue?: Map<string, number[]>;
  portByValue?: Map<string, number[]>;
  memo?: Map<string, Decision>;
  /** The precision of each field ('' for the record itself), computed when first needed. */
  precision?: Map<string, Precision>;
}

export interface Side {
  records: TraceRecord[];
  group: Group[];
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
  records: TraceRecord[],
  family: string,
  isRef: boolean,
  groups: Map<string, Group>,
  aliasOf: ((rec: TraceRecord, name: string) => string | undefined) | undefined,
): Side {
  const n = records.length;
  const group = new Array<Group>(n);
  const occ = new Int32Array(n);
  const pair = new Int32Array(n).fill(-1);
  // prefix → key → group: two lookups on strings whose hashes are cached, no string building.
  const cache = new Map<string, Map<string, Group>>();
  for (let i = 0; i < n; i++) {
    const rec = records[i]!;
    let byKey = cache.get(rec.prefix);
    if (!byKey) {
      byKey = new Map();
      cache.set(rec.prefix, byKey);
    }
    const k = rec.kind === 'record' ? '' : rec.key;
    let g = byKey.get(k);
    if (!g) {
      const name = groupName(rec, family);
      const id = aliasOf?.(rec, name) ?? identityOf(rec.prefix, rec.key, rec.kind, family);
      g = groups.get(id);
      if (!g) {
        g = { id, ref: [], port: [] };
        groups.set(id, g);
      }
      if (isRef) g.refName ??= name;
      else g.portName ??= name;
      byKey.set(k, g);
    }
    const list = isRef ? g.ref : g.port;
    occ[i] = list.length;
    list.push(i);
    group[i] = g;
  }
  return { records, group, occ, pair };
}

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
function matchFieldFor(g: Group, matchBy: CompareOptions['matchBy'], refRecords: TraceRecord[], portRecords: TraceRecord[]): string | undefined {
  if (matchBy === undefined) return undefined;
  const sample = g.ref.length ? refRecords[g.ref[0]!] : portRecords[g.port[0]!];
  if (!sample || sample.kind !== 'record') return undefined;
  const field =
    typeof matchBy === 'string'
      ? matchBy
      : ((g.refName !== undefined ? matchBy[g.refName] : undefined) ?? (g.portName !== undefined ? matchBy[g.portName] : undefined));
  if (field === undefined) return undefined;
  const has = (records: TraceRecord[], list: number[]) => list.some((i) => records[i]!.fields !== undefined && field in records[i]!.fields!);
  return has(refRecords, g.ref) || has(portRecords, g.port) ? field : undefined;
}

/** Groups a side's records of one group by their match value; sets each record's occurrence within it. */
function byValue(list: number[], records: TraceRecord[], field: string, occ: Int32Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of list) {
    const f = records[i]!.fields;
    const vk = matchKey(f && field in f ? f[field] : undefined);
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
