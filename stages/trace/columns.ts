// A parsed trace held as columns: the form compare-traces works on. A million records as objects
// take ~400 MB of heap (an object, an array and boxed numbers each); as columns ~20 bytes a record
// plus 12 a component. Built from a TraceDocument (columnsOf) or straight from trace JSON
// (./trace-json.ts), never both kept.
//
// Each record keeps one body, the one its kind reads (record.ts): `values` for number, integer,
// vector and matrix; `parts` for parts; `fields` for record lines; `text` for string. Its
// components are that body's values in file order, in one array of doubles for the whole trace;
// a part or field takes two slots, its value and its label (the part label or field name, as an
// index into `strings`), so that the values of ordinary lines, most of a trace, carry none. A
// record whose body does not fit that (hand-written JSON with two bodies, a field named like an
// integer, which objects order differently) is kept whole as an object: valid, rare, still read.
// Pure data; knows nothing about comparing.
import type { Num, RecordKind, TraceDocument, TraceRecord } from './record.js';

export const KIND_NAMES: readonly RecordKind[] = ['number', 'integer', 'vector', 'matrix', 'string', 'parts', 'record'];
export const K_NUMBER = 0;
export const K_INTEGER = 1;
export const K_VECTOR = 2;
export const K_MATRIX = 3;
export const K_STRING = 4;
export const K_PARTS = 5;
export const K_RECORD = 6;
const KIND_CODE: Readonly<Record<string, number>> = { number: 0, integer: 1, vector: 2, matrix: 3, string: 4, parts: 5, record: 6 };

/** Record flags. */
export const F_TEXT = 1; // a component is a string (text, or 'NaN' / 'Infinity' / '-Infinity')
export const F_ODD = 2; // kept whole in `odd`
export const F_EXTRA = 4; // has an entry in `extra`

/** What few records carry besides their components. */
export interface RecordExtra {
  shape?: [number, number];
  unit?: string;
  dtype?: string;
  text?: string;
}

export interface TraceMeta {
  source: string;
  prefixes: string[];
  stats: TraceDocument['stats'];
}

/** A field name that an object would list before the others (an array index). */
export function isIndexName(name: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(name) && Number(name) < 4294967295;
}

export class TraceColumns {
  readonly format = 'evidence-trace/1';
  constructor(
    readonly meta: TraceMeta,
    readonly length: number,
    /** Prefixes, keys and labels, each once. */
    readonly strings: string[],
    readonly prefix: Int32Array,
    readonly key: Int32Array,
    readonly kind: Uint8Array,
    readonly line: Int32Array,
    readonly flags: Uint8Array,
    /** Slot range of record i: [start[i], start[i + 1]). */
    readonly start: Int32Array,
    /** Component values (NaN where the component is a string: see `text`), a label after each part or field. */
    readonly num: Float64Array,
    /** Components that are strings, by slot. */
    readonly text: Map<number, string>,
    readonly extra: Map<number, RecordExtra>,
    readonly odd: Map<number, TraceRecord>,
  ) {}

  get source(): string {
    return this.meta.source;
  }

  get prefixes(): string[] {
    return this.meta.prefixes;
  }

  prefixOf(i: number): string {
    return this.strings[this.prefix[i]!]!;
  }

  keyOf(i: number): string {
    return this.strings[this.key[i]!]!;
  }

  lineOf(i: number): number {
    return this.flags[i]! & F_ODD ? this.odd.get(i)!.line : this.line[i]!;
  }

  kindOf(i: number): RecordKind {
    return KIND_NAMES[this.kind[i]!]!;
  }

  /** The record's `values` when it has them (a new array). */
  values(i: number): Num[] | undefined {
    if (this.flags[i]! & F_ODD) return this.odd.get(i)!.values;
    const k = this.kind[i]!;
    if (k > K_MATRIX) return undefined;
    return this.components(i) as Num[];
  }

  /** Slots per component of record i: 2 for parts and fields (value, label), else 1. */
  private stride(i: number): number {
    const k = this.kind[i]!;
    return k === K_PARTS || k === K_RECORD ? 2 : 1;
  }

  /** The components of record i's body, in file order (a new array). */
  components(i: number): Array<Num | string> {
    const a = this.start[i]!;
    const step = this.stride(i);
    const n = (this.start[i + 1]! - a) / step;
    const out: Array<Num | string> = new Array(n);
    if (this.flags[i]! & F_TEXT) {
      for (let k = 0; k < n; k++) out[k] = this.text.get(a + k * step) ?? this.num[a + k * step]!;
    } else {
      for (let k = 0; k < n; k++) out[k] = this.num[a + k * step]!;
    }
    return out;
  }

  /** The label of component n of record i (a part or a field). */
  private labelOf(i: number, n: number): string {
    return this.strings[this.num[this.start[i]! + 2 * n + 1]!]!;
  }

  shapeOf(i: number): [number, number] | undefined {
    const f = this.flags[i]!;
    if (!(f & (F_ODD | F_EXTRA))) return undefined;
    if (f & F_ODD) return this.odd.get(i)!.shape;
    return this.extra.get(i)?.shape;
  }

  /** Whether record i is a record line carrying `field`. */
  hasField(i: number, field: string): boolean {
    if (this.flags[i]! & F_ODD) {
      const f = this.odd.get(i)!.fields;
      return f !== undefined && field in f;
    }
    return this.kind[i] === K_RECORD && this.labelIndex(i, field) >= 0;
  }

  /** Record line i's value of `field`, undefined when it has none. */
  fieldValue(i: number, field: string): Num | string | undefined {
    if (this.flags[i]! & F_ODD) {
      const f = this.odd.get(i)!.fields;
      return f && field in f ? f[field] : undefined;
    }
    if (this.kind[i] !== K_RECORD) return undefined;
    const c = this.labelIndex(i, field);
    return c < 0 ? undefined : (this.text.get(c) ?? this.num[c]!);
  }

  /** The slot of the value labelled `name` in record i, -1 when none. */
  private labelIndex(i: number, name: string): number {
    for (let c = this.start[i]!; c < this.start[i + 1]!; c += 2) if (this.strings[this.num[c + 1]!] === name) return c;
    return -1;
  }

  /** Calls f with every number of record i (values, fields, parts), as precision.ts reads them. */
  forEachNumber(i: number, f: (x: number) => void): void {
    if (this.flags[i]! & F_ODD) {
      const r = this.odd.get(i)!;
      if (r.values) for (const v of r.values) if (typeof v === 'number') f(v);
      if (r.fields) for (const k in r.fields) {
        const v = r.fields[k];
        if (typeof v === 'number') f(v);
      }
      if (r.parts) for (const p of r.parts) if (typeof p.value === 'number') f(p.value);
      return;
    }
    const text = this.flags[i]! & F_TEXT;
    const step = this.stride(i);
    for (let c = this.start[i]!; c < this.start[i + 1]!; c += step) if (!text || !this.text.has(c)) f(this.num[c]!);
  }

  /** Record i as an object (a new one; the document order of its fields is kept). */
  record(i: number): TraceRecord {
    if (this.flags[i]! & F_ODD) return this.odd.get(i)!;
    const k = this.kind[i]!;
    const rec: TraceRecord = { seq: i, line: this.line[i]!, prefix: this.prefixOf(i), key: this.keyOf(i), kind: KIND_NAMES[k]! };
    const x = this.extra.get(i);
    if (k <= K_MATRIX) {
      rec.values = this.components(i) as Num[];
      if (x?.shape) rec.shape = x.shape;
      if (x?.unit !== undefined) rec.unit = x.unit;
      if (x?.dtype !== undefined) rec.dtype = x.dtype;
    } else if (k === K_PARTS) {
      rec.parts = this.components(i).map((value, n) => ({ label: this.labelOf(i, n), value }));
    } else if (k === K_RECORD) {
      const values = this.components(i);
      const fields: Record<string, Num | string> = {};
      for (let n = 0; n < values.length; n++) {
        const name = this.labelOf(i, n);
        // As JSON.parse does for a field named __proto__: an own property.
        if (name === '__proto__') Object.defineProperty(fields, name, { value: values[n], enumerable: true, writable: true, configurable: true });
        else fields[name] = values[n]!;
      }
      rec.fields = fields;
    } else if (x?.text !== undefined) {
      rec.text = x.text;
    }
    return rec;
  }
}

/** Grows columns record by record; `mark`/`rollback` undo a record read only in part. Slots, not components, are counted. */
export class ColumnsBuilder {
  private n = 0;
  private c = 0;
  private prefix: Int32Array;
  private key: Int32Array;
  private kind: Uint8Array;
  private line: Int32Array;
  private flags: Uint8Array;
  private start: Int32Array;
  private num: Float64Array;
  readonly strings: string[] = [];
  private readonly ids = new Map<string, number>();
  readonly text = new Map<number, string>();
  readonly extra = new Map<number, RecordExtra>();
  readonly odd = new Map<number, TraceRecord>();

  constructor(records = 1024, components = 4096) {
    records = Math.max(16, records);
    components = Math.max(16, components);
    this.prefix = new Int32Array(records);
    this.key = new Int32Array(records);
    this.kind = new Uint8Array(records);
    this.line = new Int32Array(records);
    this.flags = new Uint8Array(records);
    this.start = new Int32Array(records + 1);
    this.num = new Float64Array(components);
  }

  get records(): number {
    return this.n;
  }

  get components(): number {
    return this.c;
  }

  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  private growRecords(): void {
    const cap = Math.ceil(this.prefix.length * 1.5) + 16;
    const grow = <T extends Int32Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.prefix = grow(this.prefix, cap);
    this.key = grow(this.key, cap);
    this.kind = grow(this.kind, cap);
    this.line = grow(this.line, cap);
    this.flags = grow(this.flags, cap);
    this.start = grow(this.start, cap + 1);
  }

  private growComponents(): void {
    const cap = Math.ceil(this.num.length * 1.5) + 16;
    const num = new Float64Array(cap);
    num.set(this.num);
    this.num = num;
  }

  /** Starts a record: its components follow, then setKeys and end. */
  begin(): void {
    if (this.n >= this.prefix.length) this.growRecords();
    this.flags[this.n] = 0;
    this.start[this.n] = this.c;
  }

  /** A value of a `values` body. */
  number(x: number): void {
    if (this.c >= this.num.length) this.growComponents();
    this.num[this.c++] = x;
  }

  string(s: string): void {
    if (this.c >= this.num.length) this.growComponents();
    this.num[this.c] = NaN;
    this.text.set(this.c++, s);
    this.flags[this.n] |= F_TEXT;
  }

  /** A part's or field's label, after its value (-1 until setLabel when the label comes second). */
  label(label: number): void {
    if (this.c >= this.num.length) this.growComponents();
    this.num[this.c++] = label;
  }

  /** Sets what `begin` could not know yet (a reader that meets the record's members in any order). */
  setKeys(prefix: number, key: number, kind: number, line: number): void {
    const n = this.n;
    this.prefix[n] = prefix;
    this.key[n] = key;
    this.kind[n] = kind;
    this.line[n] = line;
  }

  /** Labels the component added last (a part whose value came before its label). */
  setLabel(label: number): void {
    this.num[this.c - 1] = label;
  }

  /** Whether a label slot from `from` on holds this label (a repeated field name). */
  hasLabelSince(from: number, label: number): boolean {
    for (let c = from + 1; c < this.c; c += 2) if (this.num[c] === label) return true;
    return false;
  }

  /** Sets the record's fields that the columns do not hold. */
  setExtra(x: RecordExtra): void {
    this.extra.set(this.n, x);
    this.flags[this.n] |= F_EXTRA;
  }

  /** Ends the record begun last. */
  end(): void {
    this.n++;
    this.start[this.n] = this.c;
  }

  /** A record kept whole. */
  whole(rec: TraceRecord): void {
    this.begin();
    this.setKeys(this.intern(rec.prefix), this.intern(rec.key), KIND_CODE[rec.kind] ?? K_STRING, rec.line);
    this.flags[this.n] = F_ODD;
    this.odd.set(this.n, rec);
    this.end();
  }

  mark(): { n: number; c: number } {
    return { n: this.n, c: this.c };
  }

  /** Forgets what was added since `mark` (a record cut off by the end of a read buffer). */
  rollback(m: { n: number; c: number }): void {
    for (let c = m.c; c < this.c; c++) this.text.delete(c);
    this.extra.delete(m.n);
    this.odd.delete(m.n);
    this.n = m.n;
    this.c = m.c;
  }

  finish(meta: TraceMeta): TraceColumns {
    const n = this.n;
    return new TraceColumns(
      meta,
      n,
      this.strings,
      this.prefix.subarray(0, n),
      this.key.subarray(0, n),
      this.kind.subarray(0, n),
      this.line.subarray(0, n),
      this.flags.subarray(0, n),
      this.start.subarray(0, n + 1),
      this.num.subarray(0, this.c),
      this.text,
      this.extra,
      this.odd,
    );
  }
}

/** Whether a record's body is the one its kind reads, and so fits the columns. */
function fitsColumns(r: TraceRecord): boolean {
  if (!(r.kind in KIND_CODE) || !Number.isInteger(r.line) || r.line > 0x7fffffff || r.line < -0x80000000) return false;
  const k = KIND_CODE[r.kind]!;
  const bodies = (r.values ? 1 : 0) + (r.parts ? 1 : 0) + (r.fields ? 1 : 0) + (r.text !== undefined ? 1 : 0);
  if (k <= K_MATRIX) return bodies === 1 && r.values !== undefined;
  if (r.shape || r.unit !== undefined || r.dtype !== undefined) return false;
  if (k === K_STRING) return bodies === 1 && r.text !== undefined;
  if (k === K_PARTS) return bodies === 1 && r.parts !== undefined;
  return bodies === 1 && r.fields !== undefined && !Object.keys(r.fields).some(isIndexName);
}

/** A trace document as columns (the documents tests and the log parser build in memory). */
export function columnsOf(doc: TraceDocument | TraceColumns): TraceColumns {
  if (doc instanceof TraceColumns) return doc;
  const b = new ColumnsBuilder(doc.records.length, doc.records.length * 2);
  for (const r of doc.records) {
    if (!fitsColumns(r)) {
      b.whole(r);
      continue;
    }
    const k = KIND_CODE[r.kind]!;
    b.begin();
    b.setKeys(b.intern(r.prefix), b.intern(r.key), k, r.line);
    const put = (v: Num | string) => (typeof v === 'number' ? b.number(v) : b.string(v));
    if (k <= K_MATRIX) {
      for (const v of r.values!) put(v);
      if (r.shape || r.unit !== undefined || r.dtype !== undefined) {
        b.setExtra({ ...(r.shape ? { shape: r.shape } : {}), ...(r.unit !== undefined ? { unit: r.unit } : {}), ...(r.dtype !== undefined ? { dtype: r.dtype } : {}) });
      }
    } else if (k === K_PARTS) {
      for (const p of r.parts!) {
        put(p.value);
        b.label(b.intern(p.label));
      }
    } else if (k === K_RECORD) {
      for (const name of Object.keys(r.fields!)) {
        put(r.fields![name]!);
        b.label(b.intern(name));
      }
    } else {
      b.setExtra({ text: r.text! });
    }
    b.end();
  }
  return b.finish({ source: doc.source, prefixes: doc.prefixes, stats: doc.stats });
}
