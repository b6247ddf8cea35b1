// Reading JSON byte by byte from a file, in pieces, into one reused buffer: the part of the trace
// reader (trace-json.ts) that knows JSON, not traces. A value cut off by the end of the buffer
// throws MORE; `step` then reads more and starts the value again. Anything it does not read
// itself (malformed JSON, or JSON the caller leaves to JSON.parse) throws Unread. Strings are
// interned by their bytes (decoded the first time they are seen); numbers are read exactly as
// JSON.parse reads them: digits that fit a double exactly, scaled by an exact power of ten (one
// correctly rounded operation: Clinger's fast path), anything longer by Number() on the token.
import { readSync } from 'node:fs';
import type { ColumnsBuilder } from './columns.js';

/** Thrown when the input needs the general path. */
export class Unread extends Error {}
/** Thrown when a piece of the input is cut off by the end of the buffer: read more, parse again. */
export const MORE = new Error('more input');

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT = 9007199254740992;
export const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Buffer's own latin1 decoding, without toString's argument handling (a third of a short number's cost). */
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

export function unread(): never {
  throw new Unread();
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class JsonFileReader {
  protected buf: Buffer;
  protected pos = 0;
  protected end = 0;
  private eof = false;
  // The string just read: bytes [ss, se) of buf; plain when it holds only printable ASCII.
  protected ss = 0;
  protected se = 0;
  protected plain = true;
  // Strings by their bytes, so that a repeated prefix, key or label is never decoded again.
  private table = new Int32Array(1024);
  private tableUsed = 0;
  private arena = Buffer.allocUnsafe(1 << 16);
  private arenaUsed = 0;
  private readonly at: number[] = [];
  private readonly len: number[] = [];

  constructor(
    private readonly fd: number,
    piece: number,
    /** Where interned strings get their ids. */
    protected readonly b: ColumnsBuilder,
  ) {
    this.buf = Buffer.allocUnsafe(piece);
  }

  /** Moves [from, end) to the start of the buffer and reads more after it; false at the end of the file. */
  protected fill(from: number): boolean {
    if (this.eof) return false;
    const keep = this.end - from;
    if (from === 0 && keep === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, keep);
      this.buf = bigger;
    } else if (keep > 0) this.buf.copy(this.buf, 0, from, this.end);
    this.end = keep;
    this.pos -= from;
    const n = readSync(this.fd, this.buf, keep, this.buf.length - keep, null);
    if (n === 0) this.eof = true;
    this.end += n;
    return n > 0;
  }

  /** Runs one restartable step from the current position. */
  protected step(f: () => void): void {
    for (;;) {
      const start = this.pos;
      try {
        f();
        return;
      } catch (e) {
        if (e !== MORE) throw e;
        this.pos = start;
        if (!this.fill(start)) unread(); // the file ends inside a value
      }
    }
  }

  protected ws(): number {
    const buf = this.buf;
    let p = this.pos;
    while (p < this.end && isWs(buf[p]!)) p++;
    if (p >= this.end) throw MORE;
    this.pos = p;
    return buf[p]!;
  }

  protected expect(c: number): void {
    if (this.ws() !== c) unread();
    this.pos++;
  }

  /** A string's bytes into ss/se; plain unless it has an escape or a byte outside printable ASCII. */
  protected scanString(): void {
    const buf = this.buf;
    const end = this.end;
    let p = this.pos;
    if (buf[p] !== QUOTE) unread();
    p++;
    const s = p;
    let plain = true;
    for (;;) {
      if (p >= end) throw MORE;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        if (p + 1 >= end) throw MORE;
        p += 2;
        continue;
      }
      if (c < 0x20) unread(); // a control character is not allowed in a JSON string
      if (c >= 0x7f) plain = false;
      p++;
    }
    this.ss = s;
    this.se = p;
    this.plain = plain;
    this.pos = p + 1;
  }

  /** The string just scanned, decoded as JSON.parse would. */
  protected decoded(): string {
    if (this.plain) return latin1(this.buf, this.ss, this.se);
    return JSON.parse(this.buf.toString('utf8', this.ss - 1, this.se + 1)) as string;
  }

  /** The id of the string just scanned, decoding it only when its bytes are new. */
  protected interned(): number {
    if (!this.plain) return this.b.intern(this.decoded());
    const buf = this.buf;
    const s = this.ss;
    const n = this.se - s;
    let h = 0x811c9dc5 ^ n;
    for (let p = s; p < this.se; p++) h = Math.imul(h ^ buf[p]!, 0x01000193);
    const mask = this.table.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = this.table[slot]!;
      if (e === 0) break;
      const id = e - 1;
      if (this.len[id] === n) {
        const arena = this.arena;
        const a = this.at[id]! - s;
        let p = s;
        while (p < this.se && arena[a + p] === buf[p]) p++;
        if (p === this.se) return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.b.intern(latin1(buf, s, this.se));
    if (this.at[id] === undefined) {
      if (this.arenaUsed + n > this.arena.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + n));
        this.arena.copy(bigger, 0, 0, this.arenaUsed);
        this.arena = bigger;
      }
      buf.copy(this.arena, this.arenaUsed, s, this.se);
      this.at[id] = this.arenaUsed;
      this.len[id] = n;
      this.arenaUsed += n;
      this.table[slot] = id + 1;
      if (++this.tableUsed * 2 > this.table.length) this.rehash();
    }
    return id;
  }

  protected rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.at.length; id++) {
      if (this.at[id] === undefined) continue;
      const s = this.at[id]!;
      const n = this.len[id]!;
      let h = 0x811c9dc5 ^ n;
      for (let p = s; p < s + n; p++) h = Math.imul(h ^ this.arena[p]!, 0x01000193);
      let slot = h & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
  }

  /** A JSON number, exactly as JSON.parse reads it. */
  protected number(): number {
    const buf = this.buf;
    const end = this.end;
    let p = this.pos;
    const s = p;
    let c = buf[p]!;
    const neg = c === 0x2d;
    if (neg) {
      if (++p >= end) throw MORE;
      c = buf[p]!;
    }
    let mant = 0;
    let digits = 0; // significant digits read into mant
    let scale = 0; // power of ten to apply to mant
    if (c === 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        digits++;
        if (++p >= end) throw MORE;
        c = buf[p]!;
      }
    } else unread();
    if (p >= end) throw MORE;
    c = buf[p]!;
    if (c === 0x2e) {
      if (++p >= end) throw MORE;
      c = buf[p]!;
      if (c < 0x30 || c > 0x39) unread();
      while (c >= 0x30 && c <= 0x39) {
        if (mant !== 0 || c !== 0x30) digits++;
        mant = mant * 10 + (c - 0x30);
        scale--;
        if (++p >= end) throw MORE;
        c = buf[p]!;
      }
    }
    if (c === 0x65 || c === 0x45) {
      if (++p >= end) throw MORE;
      c = buf[p]!;
      let eneg = false;
      if (c === 0x2b || c === 0x2d) {
        eneg = c === 0x2d;
        if (++p >= end) throw MORE;
        c = buf[p]!;
      }
      if (c < 0x30 || c > 0x39) unread();
      let e = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (e < 100000) e = e * 10 + (c - 0x30);
        if (++p >= end) throw MORE;
        c = buf[p]!;
      }
      scale += eneg ? -e : e;
    }
    this.pos = p;
    if (digits <= 15 || mant <= MAX_EXACT) {
      // mant is exact; so is 10^|scale| up to 1e22, and one operation on two exact doubles is
      // correctly rounded, as JSON.parse's result is.
      if (mant === 0) return neg ? -0 : 0;
      if (scale >= -22 && scale <= 22) {
        const x = scale < 0 ? mant / POW10[-scale]! : mant * POW10[scale]!;
        return neg ? -x : x;
      }
    }
    return Number(latin1(buf, s, p));
  }

  protected integer(min: number): number {
    const c = this.ws();
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) unread();
    const x = this.number();
    if (!Number.isInteger(x) || x < min) unread();
    return x;
  }

  /** A string member's value, at least `min` characters (as the schema counts them: code points). */
  protected stringValue(min: number): string {
    this.ws();
    this.scanString();
    const s = this.decoded();
    if (min > 0 && s.length === 0) unread();
    return s;
  }

  /** `[` … `]` with at least one element, each read by `element`; returns the count. */
  protected array(element: () => void): number {
    this.expect(0x5b);
    if (this.ws() === 0x5d) unread(); // every array of a record has minItems 1
    let n = 0;
    for (;;) {
      element();
      n++;
      const c = this.ws();
      this.pos++;
      if (c === 0x5d) return n;
      if (c !== 0x2c) unread();
    }
  }

  /** A member name of an object; the position is left after the ':'. */
  protected memberName(): void {
    this.ws();
    this.scanString();
    this.expect(0x3a);
  }

  protected isName(name: string): boolean {
    const n = name.length;
    if (this.se - this.ss !== n) return false;
    for (let k = 0; k < n; k++) if (this.buf[this.ss + k] !== name.charCodeAt(k)) return false;
    return true;
  }

  /** Whether the bytes at the position are `lit` (throws MORE when the buffer ends first). */
  protected lit(lit: Uint8Array): boolean {
    const buf = this.buf;
    const p = this.pos;
    const n = lit.length;
    if (p + n > this.end) throw MORE;
    for (let k = 0; k < n; k++) if (buf[p + k] !== lit[k]) return false;
    this.pos = p + n;
    return true;
  }

  /** A top-level member other than records: small, read with JSON.parse. */
  protected smallValue(): unknown {
    const buf = this.buf;
    this.ws();
    let p = this.pos;
    let depth = 0;
    for (;;) {
      if (p >= this.end) throw MORE;
      const c = buf[p]!;
      if (c === QUOTE) {
        p++;
        for (;;) {
          if (p >= this.end) throw MORE;
          const d = buf[p]!;
          if (d === BACKSLASH) p += 2;
          else if (d === QUOTE) break;
          else p++;
        }
        p++;
        if (depth === 0) break;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          p++;
          break;
        }
      } else if (depth === 0 && (c === 0x2c || isWs(c))) break;
      p++;
    }
    const text = buf.toString('utf8', this.pos, p);
    this.pos = p;
    try {
      return JSON.parse(text);
    } catch {
      return unread();
    }
  }
}
