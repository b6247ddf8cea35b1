// Reads a trace document (schemas/trace.schema.json) from its JSON file straight into columns
// (./columns.ts), in bounded memory: the file is read in pieces into one reused buffer and parsed
// byte by byte, each record goes to the columns as it is read, and a string is decoded only the
// first time its bytes are seen. JSON.parse of a million-record trace took 2.3 s and ~600 MB; this
// reads it in a fraction of that, its memory the columns' own.
//
// It checks everything the schema says while it reads. Whatever it does not take itself (a schema
// violation, JSON it leaves to JSON.parse such as a duplicated member) sends the whole file down
// the general path: JSON.parse and ajv, then columnsOf. That path gives the same document, or the
// same error naming the file and the instance path, as before this reader existed: the fast path
// only has to be right about what it accepts, never complete. Bytes, strings and numbers are
// json-file-reader.ts's; this knows the trace format, nothing about comparing.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readValidatedJson, toolSchemasDir } from '../../src/stage-api/index.js';
import { columnsOf, ColumnsBuilder, isIndexName, KIND_NAMES, K_MATRIX, K_PARTS, K_RECORD, K_STRING, type RecordExtra, type TraceColumns, type TraceMeta } from './columns.js';
import { isWs, JsonFileReader, MORE, QUOTE, unread, Unread } from './json-file-reader.js';
import type { TraceDocument } from './record.js';


const PIECE = 1 << 20;
const DTYPE = /^[a-z][a-z0-9_]*$/;

// Record members, as bits: which were seen.
const M_SEQ = 1;
const M_LINE = 2;
const M_PREFIX = 4;
const M_KEY = 8;
const M_KIND = 16;
const M_VALUES = 32;
const M_SHAPE = 64;
const M_UNIT = 128;
const M_DTYPE = 256;
const M_PARTS = 512;
const M_FIELDS = 1024;
const M_TEXT = 2048;
const REQUIRED = M_SEQ | M_LINE | M_PREFIX | M_KEY | M_KIND;
const HEAD_SEQ = Buffer.from('{"seq":');
const HEAD_LINE = Buffer.from(',"line":');
const HEAD_PREFIX = Buffer.from(',"prefix":');
const HEAD_KEY = Buffer.from(',"key":');
const HEAD_KIND = Buffer.from(',"kind":');
const HEAD_VALUES = Buffer.from(',"values":');

const MEMBER_NAMES = new Map([
  [M_SEQ, 'seq'],
  [M_LINE, 'line'],
  [M_PREFIX, 'prefix'],
  [M_KEY, 'key'],
  [M_KIND, 'kind'],
  [M_VALUES, 'values'],
  [M_SHAPE, 'shape'],
  [M_UNIT, 'unit'],
  [M_DTYPE, 'dtype'],
  [M_PARTS, 'parts'],
  [M_FIELDS, 'fields'],
  [M_TEXT, 'text'],
]);

/** The record member a name of this length and first byte would be (0: none). */
function memberOf(length: number, first: number): number {
  switch (length) {
    case 3:
      return first === 0x73 ? M_SEQ : first === 0x6b ? M_KEY : 0;
    case 4:
      return first === 0x6c ? M_LINE : first === 0x6b ? M_KIND : first === 0x75 ? M_UNIT : first === 0x74 ? M_TEXT : 0;
    case 5:
      return first === 0x73 ? M_SHAPE : first === 0x64 ? M_DTYPE : first === 0x70 ? M_PARTS : 0;
    case 6:
      return first === 0x70 ? M_PREFIX : first === 0x76 ? M_VALUES : first === 0x66 ? M_FIELDS : 0;
    default:
      return 0;
  }
}


class TraceJsonReader extends JsonFileReader {
  private readonly kindOf = new Map<number, number>();
  private readonly meta: Partial<TraceMeta> & { format?: unknown } = {};

  constructor(fd: number, size: number, piece: number) {
    // Zero-filled typed arrays take memory only where written: sized for the densest trace.
    super(fd, piece, new ColumnsBuilder(Math.ceil(size / 64), Math.ceil(size / 16)));
  }

  /** A component: a number, or a string (any, or only the non-finite names when `numeric`). */
  private component(numeric: boolean): void {
    const c = this.ws();
    if (c === QUOTE) {
      this.scanString();
      const s = this.decoded();
      if (numeric && s !== 'NaN' && s !== 'Infinity' && s !== '-Infinity') unread();
      this.b.string(s);
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.b.number(this.number());
    } else unread();
  }

  /** A `values` array (the hot path: most of a trace is numbers); returns the count. */
  private values(): number {
    this.expect(0x5b);
    const b = this.b;
    let n = 0;
    for (;;) {
      const c = this.ws();
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) b.number(this.number());
      else if (c === QUOTE) this.component(true);
      else unread(); // not a value (an empty array too: minItems 1)
      n++;
      const d = this.ws();
      this.pos++;
      if (d === 0x5d) return n;
      if (d !== 0x2c) unread();
    }
  }

  /** One record object, into the columns (or kept whole when its body does not fit them). */
  private record(): void {
    this.ws();
    const start = this.pos;
    const b = this.b;
    let seen = 0;
    let prefix = -1;
    let key = -1;
    let kind = -1;
    let line = 0;
    let values = 0;
    let fits = true;
    let extra: RecordExtra | undefined;
    b.begin();
    let more = true;
    if (this.head()) {
      seen = REQUIRED;
      prefix = this.headPrefix;
      key = this.headKey;
      kind = this.headKind;
      line = this.headLine;
      if (line > 0x7fffffff) fits = false;
      // Most records go on with their values, read here without a member name to match.
      if (this.lit(HEAD_VALUES)) {
        seen |= M_VALUES;
        values = this.values();
      }
      const c = this.ws();
      this.pos++;
      if (c === 0x7d) more = false;
      else if (c !== 0x2c) unread();
    } else {
      this.pos = start;
      this.expect(0x7b);
      if (this.ws() === 0x7d) unread(); // the required members are missing
    }
    while (more) {
      this.memberName();
      const n = this.se - this.ss;
      // Member names by length and first byte, then checked byte by byte: no string is made.
      const m = memberOf(n, this.buf[this.ss]!);
      if (m === 0 || seen & m || !this.isName(MEMBER_NAMES.get(m)!)) unread(); // an unknown or repeated member
      seen |= m;
      switch (m) {
        case M_SEQ:
          this.integer(0);
          break;
        case M_LINE:
          line = this.integer(1);
          if (line > 0x7fffffff) fits = false;
          break;
        case M_PREFIX:
        case M_KEY: {
          this.ws();
          this.scanString();
          if (this.se === this.ss) unread();
          const id = this.interned();
          if (m === M_PREFIX) prefix = id;
          else key = id;
          break;
        }
        case M_KIND:
          this.ws();
          this.scanString();
          kind = this.kindCode(this.interned());
          break;
        case M_VALUES:
          values = this.values();
          break;
        case M_SHAPE: {
          let rows = 0;
          let count = 0;
          let cols = 0;
          this.array(() => {
            const x = this.integer(1);
            if (count === 0) rows = x;
            else cols = x;
            count++;
          });
          if (count !== 2) unread();
          (extra ??= {}).shape = [rows, cols];
          break;
        }
        case M_UNIT:
          (extra ??= {}).unit = this.stringValue(1);
          break;
        case M_DTYPE: {
          const dtype = this.stringValue(0);
          if (!DTYPE.test(dtype)) unread();
          (extra ??= {}).dtype = dtype;
          break;
        }
        case M_TEXT:
          (extra ??= {}).text = this.stringValue(0);
          break;
        case M_PARTS:
          this.array(() => this.part());
          break;
        case M_FIELDS:
          if (!this.fields()) fits = false;
          break;
      }
      const c = this.ws();
      this.pos++;
      if (c === 0x7d) more = false;
      else if (c !== 0x2c) unread();
    }
    if ((seen & REQUIRED) !== REQUIRED) unread();
    // The schema's conditions on kinds.
    if (kind <= 1 && (!(seen & M_VALUES) || values > 1)) unread();
    if ((kind === 2 || kind === K_MATRIX) && !(seen & M_VALUES)) unread();
    if (kind === K_MATRIX && !(seen & M_SHAPE)) unread();
    if (seen & (M_UNIT | M_DTYPE) && kind > K_MATRIX) unread();
    if (kind === K_PARTS && !(seen & M_PARTS)) unread();
    if (kind === K_RECORD && !(seen & M_FIELDS)) unread();
    if (kind === K_STRING && !(seen & M_TEXT)) unread();
    // The columns keep the one body its kind reads (see columns.ts).
    const bodies = seen & (M_VALUES | M_PARTS | M_FIELDS | M_TEXT);
    if (kind <= K_MATRIX) fits &&= bodies === M_VALUES;
    else fits &&= !(seen & (M_SHAPE | M_UNIT | M_DTYPE)) && bodies === (kind === K_STRING ? M_TEXT : kind === K_PARTS ? M_PARTS : M_FIELDS);
    if (!fits) {
      const whole = JSON.parse(this.buf.toString('utf8', start, this.pos));
      b.rollback({ n: b.records, c: this.componentsAtBegin });
      b.whole(whole);
      return;
    }
    b.setKeys(prefix, key, kind, line);
    if (extra) b.setExtra(extra);
    b.end();
  }

  private componentsAtBegin = 0;
  private headPrefix = 0;
  private headKey = 0;
  private headKind = 0;
  private headLine = 0;

  /** A string member's value as an interned id, when it starts right at the position. */
  private headString(): number {
    if (this.pos >= this.end) throw MORE;
    if (this.buf[this.pos] !== QUOTE) return -1;
    this.scanString();
    if (this.se === this.ss) unread();
    return this.interned();
  }

  /** An integer member's value, when it starts right at the position; NaN when it does not. */
  private headInteger(min: number): number {
    if (this.pos >= this.end) throw MORE;
    const c = this.buf[this.pos]!;
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) return NaN;
    const x = this.number();
    if (!Number.isInteger(x) || x < min) unread();
    return x;
  }

  /**
   * The head every record of parse-trace has, `{"seq":S,"line":L,"prefix":P,"key":K,"kind":T`,
   * byte for byte (three times faster than member by member); false, having read only, when the
   * record is written otherwise.
   */
  private head(): boolean {
    if (!this.lit(HEAD_SEQ) || Number.isNaN(this.headInteger(0)) || !this.lit(HEAD_LINE)) return false;
    this.headLine = this.headInteger(1);
    if (Number.isNaN(this.headLine) || !this.lit(HEAD_PREFIX) || (this.headPrefix = this.headString()) < 0) return false;
    if (!this.lit(HEAD_KEY) || (this.headKey = this.headString()) < 0 || !this.lit(HEAD_KIND)) return false;
    const id = this.headString();
    if (id < 0) return false;
    this.headKind = this.kindCode(id);
    return true;
  }

  private kindCode(id: number): number {
    let k = this.kindOf.get(id);
    if (k === undefined) {
      k = KIND_NAMES.indexOf(this.b.strings[id] as never);
      this.kindOf.set(id, k);
    }
    if (k < 0) unread();
    return k;
  }

  /** One `{ "label": …, "value": … }` of a parts array. */
  private part(): void {
    this.expect(0x7b);
    let label = -1;
    let value = false;
    const b = this.b;
    for (;;) {
      this.memberName();
      if (this.isName('label') && label < 0) {
        this.ws();
        this.scanString();
        if (this.se === this.ss) unread();
        label = this.interned();
        if (value) b.setLabel(label);
      } else if (this.isName('value') && !value) {
        this.component(false);
        b.label(label);
        value = true;
      } else unread();
      const c = this.ws();
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) unread();
    }
    if (label < 0 || !value) unread();
  }

  /** A record's fields; false when their order as an object would differ from the file's (see columns.ts). */
  private fields(): boolean {
    this.expect(0x7b);
    if (this.ws() === 0x7d) unread(); // minProperties 1
    const b = this.b;
    const first = b.components;
    let fits = true;
    for (;;) {
      this.memberName();
      if (this.se === this.ss) unread(); // propertyNames minLength 1
      const label = this.interned();
      const name = b.strings[label]!;
      if (isIndexName(name) || b.hasLabelSince(first, label)) fits = false;
      this.component(false);
      b.label(label);
      const c = this.ws();
      this.pos++;
      if (c === 0x7d) return fits;
      if (c !== 0x2c) unread();
    }
  }

  read(): TraceColumns {
    this.fill(0);
    this.step(() => this.expect(0x7b));
    const seen = new Set<string>();
    let done = false;
    while (!done) {
      let name = '';
      this.step(() => {
        this.memberName();
        name = this.decoded();
      });
      if (seen.has(name)) unread();
      seen.add(name);
      if (name === 'records') this.records();
      else if (name === 'format' || name === 'source' || name === 'prefixes' || name === 'stats') {
        this.step(() => {
          (this.meta as Record<string, unknown>)[name] = this.smallValue();
        });
      } else unread();
      this.step(() => {
        const c = this.ws();
        this.pos++;
        if (c === 0x7d) done = true;
        else if (c !== 0x2c) unread();
      });
    }
    // Nothing but blanks after the document.
    for (;;) {
      while (this.pos < this.end && isWs(this.buf[this.pos]!)) this.pos++;
      if (this.pos < this.end) unread();
      if (!this.fill(this.pos)) break;
    }
    if (!seen.has('records')) unread();
    return this.b.finish(checkedMeta(this.meta));
  }

  private records(): void {
    let done = false;
    this.step(() => {
      this.expect(0x5b);
      if (this.ws() === 0x5d) {
        this.pos++;
        done = true;
      }
    });
    const b = this.b;
    while (!done) {
      const start = this.pos;
      const mark = b.mark();
      this.componentsAtBegin = mark.c;
      try {
        this.record();
        const c = this.ws();
        this.pos++;
        if (c === 0x5d) done = true;
        else if (c !== 0x2c) unread();
      } catch (e) {
        if (e !== MORE) throw e;
        b.rollback(mark);
        this.pos = start;
        if (!this.fill(start)) unread();
      }
    }
  }
}

/** The top-level members, checked as the schema checks them. */
function checkedMeta(m: Partial<TraceMeta> & { format?: unknown }): TraceMeta {
  if (m.format !== 'evidence-trace/1' || typeof m.source !== 'string') unread();
  const prefixes = m.prefixes as unknown;
  if (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === 'string' && p.length > 0) || new Set(prefixes).size !== prefixes.length) unread();
  const stats = m.stats as unknown as Record<string, unknown> | undefined;
  const names = ['lines', 'records', 'ignored', 'bytes'];
  if (!stats || typeof stats !== 'object' || Array.isArray(stats) || Object.keys(stats).length !== 4) unread();
  for (const k of names) if (!Number.isInteger(stats[k]) || (stats[k] as number) < 0) unread();
  return { source: m.source, prefixes: prefixes as string[], stats: stats as unknown as TraceMeta['stats'] };
}

/**
 * The trace document in `file` as columns, or undefined when it must take the general path (see
 * the module header), a file it cannot open included. `piece`: bytes read at a time (tests
 * make it tiny to cut values at every place).
 */
export function readTraceJsonFast(file: string, piece = PIECE): TraceColumns | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined; // the general path names the file and what is wrong with it, as it always did
  }
  try {
    return new TraceJsonReader(fd, fstatSync(fd).size, piece).read();
  } catch (e) {
    if (e instanceof Unread || e instanceof SyntaxError) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * The trace document in `file` as columns: read directly when it can be, else through JSON.parse
 * and the schema, which throws the error naming the file and the first failing paths.
 */
export function readTraceFile(file: string): TraceColumns {
  return readTraceJsonFast(file) ?? columnsOf(readValidatedJson<TraceDocument>(file, join(toolSchemasDir(), 'trace.schema.json')));
}
