// The leading bytes of every streamed record, kept ready-made because they repeat, so that each is
// written with one native copy: the record's numbering (`{"seq":S,"line":L`) and its head
// (`,"prefix":…,"key":…,"kind":…` and the opening of its values). Knows LineShape and the JSON
// pieces of json-bytes.ts, not the values or the document around the records.
import * as json from './json-bytes.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { ascii, put, putQuoted } = json;
const { KINDS, ZERO, sameBytes } = shape;

/** By K_* kind. */
const J_KIND: Buffer[] = [
  ascii(',"kind":"number","values":['),
  ascii(',"kind":"integer","values":['),
  ascii(',"kind":"vector","values":['),
  ascii(',"kind":"matrix","values":['),
  ascii(',"kind":"parts","parts":['),
  ascii(',"kind":"record","fields":{'),
  ascii(',"kind":"string","text":'),
];

/**
 * `,\n{"seq":S,"line":L`, the start of every record, kept as bytes with both numbers advanced in
 * place: seq grows by one per record and line by small steps, so a digit or two changes and the
 * whole run is one native copy. Rewritten from strings only when a number gains a digit or line
 * jumps far. Writing the numbers with String(v) and Buffer.write made emitting half again as slow
 * (370 against 240 ms per 50 MB); two digit counters and two constants, four copies per record,
 * took 110 ms more per 200 MB than this.
 */
export class RecordNumbering {
  private readonly text = Buffer.alloc(64);
  private len = 0;
  private seq = -1;
  private line = -1;
  /** The digits of seq are text[seqA, seqB), those of line text[lineA, len). */
  private seqA = 0;
  private seqB = 0;
  private lineA = 0;

  /**
   * text[0, len), kept as a view for out.set: Buffer.copy checks its arguments in JavaScript and
   * cost 175 ms more per 200 MB (~60 against ~20 ns a call).
   */
  private view = this.text.subarray(0, 0);

  /** Writes the start of record `seq` from `line`; the first record has no `,\n` before it. */
  put(out: Buffer, p: number, seq: number, line: number): number {
    if (this.len === 0 || seq !== this.seq + 1 || !this.advance(line) || !increment(this.text, this.seqA, this.seqB)) this.rewrite(seq, line);
    this.seq = seq;
    this.line = line;
    if (seq === 0) return put(out, p, this.text.subarray(2, this.len));
    out.set(this.view, p);
    return p + this.len;
  }

  private advance(line: number): boolean {
    const step = line - this.line;
    if (step < 0 || step > 64) return false;
    for (let s = 0; s < step; s++) if (!increment(this.text, this.lineA, this.len)) return false;
    return true;
  }

  private rewrite(seq: number, line: number): void {
    const s = String(seq);
    const head = ',\n{"seq":';
    this.seqA = head.length;
    this.seqB = this.seqA + s.length;
    this.lineA = this.seqB + ',"line":'.length;
    this.len = this.text.write(`${head}${s},"line":${line}`, 0, 'latin1');
    this.view = this.text.subarray(0, this.len);
  }
}

/** Adds one to the decimal digits d[a, e); false when they would need one more digit. */
function increment(d: Buffer, a: number, e: number): boolean {
  let i = e - 1;
  while (i >= a && d[i] === 57) d[i--] = ZERO;
  if (i < a) return false;
  d[i]++;
  return true;
}

const HEAD_SLOTS = 1 << 12; // at most; a power of two, at most half of it used

/**
 * `,"prefix":"P","key":"k","kind":"K","values":[` (or the opening of parts, fields or text) by
 * prefix, key bytes and kind. A log holds a few hundred distinct keys in millions of lines, so
 * one native copy of this replaces escaping the key and two more copies: ~30 ms per 200 MB (the
 * key is hashed by the scanner while it reads it, and compared here byte for byte). Open
 * addressing in a table that starts small and doubles (filling 4096 slots for every parse cost a
 * small log 1 ms); bounded: past HEAD_SLOTS/2 distinct keys, heads are written piece by piece.
 */
export class RecordHeads {
  /** Per slot: the key bytes, its prefix and hash, its heads by kind. */
  private keys: Array<Buffer | undefined> = new Array<Buffer | undefined>(64).fill(undefined);
  private prefixIds = new Int32Array(64);
  private hashes = new Int32Array(64);
  private heads: Array<Array<Buffer | undefined>> = new Array<Array<Buffer | undefined>>(64);
  private used = 0;
  /** Records keyed by their prefix (`P k=v ...`, `P: 1 2 3`): by prefix and kind. */
  private readonly prefixKeyed: Array<Buffer | undefined> = [];
  /** `,"prefix":"P","key":` by prefix, for heads written piece by piece. */
  private readonly prefixParts: Buffer[] = [];

  /** Writes the head of sh's record at out[p]; returns the position after it. */
  put(out: Buffer, p: number, sh: LineShape): number {
    const head = this.get(sh);
    if (head) return put(out, p, head);
    const start = (this.prefixParts[sh.prefixId] ??= Buffer.from(`,"prefix":${JSON.stringify(sh.prefix)},"key":`, 'utf8'));
    p = put(out, p, start);
    p = putQuoted(out, p, sh.src, sh.keyA, sh.keyB);
    return put(out, p, J_KIND[sh.kind]);
  }

  private get(sh: LineShape): Buffer | undefined {
    const kind = sh.kind;
    if (sh.keyA < 0) {
      const i = sh.prefixId * KINDS + kind;
      return this.prefixKeyed[i] ?? (this.prefixKeyed[i] = buildHead(sh));
    }
    const b = sh.src;
    const a = sh.keyA;
    const n = sh.keyB - a;
    const hash = (sh.keyHash + sh.prefixId) | 0;
    const mask = this.keys.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const k = this.keys[slot];
      if (k === undefined) {
        if (2 * this.used >= this.keys.length) {
          if (this.keys.length >= HEAD_SLOTS) return undefined;
          this.grow();
          return this.get(sh);
        }
        this.used++;
        this.keys[slot] = Buffer.from(b.subarray(a, sh.keyB));
        this.prefixIds[slot] = sh.prefixId;
        this.hashes[slot] = hash;
        const heads = (this.heads[slot] = new Array<Buffer | undefined>(KINDS).fill(undefined));
        return (heads[kind] = buildHead(sh));
      }
      if (k.length === n && this.prefixIds[slot] === sh.prefixId && sameBytes(k, b, a, n)) {
        const heads = this.heads[slot];
        return heads[kind] ?? (heads[kind] = buildHead(sh));
      }
    }
  }

  /** Doubles the table, placing each key again by its hash. */
  private grow(): void {
    const { keys, prefixIds, hashes, heads } = this;
    const size = 2 * keys.length;
    const mask = size - 1;
    this.keys = new Array<Buffer | undefined>(size).fill(undefined);
    this.prefixIds = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.heads = new Array<Array<Buffer | undefined>>(size);
    for (let old = 0; old < keys.length; old++) {
      if (keys[old] === undefined) continue;
      let slot = hashes[old] & mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & mask;
      this.keys[slot] = keys[old];
      this.prefixIds[slot] = prefixIds[old];
      this.hashes[slot] = hashes[old];
      this.heads[slot] = heads[old];
    }
  }
}

/** `,"prefix":"P","key":"k"` and the opening of sh's kind, written the way the piecewise path writes them. */
function buildHead(sh: LineShape): Buffer {
  const start = `,"prefix":${JSON.stringify(sh.prefix)},"key":`;
  // room for the start twice (it holds the quoted prefix, the key when there is none) and the key escaped
  const scratch = Buffer.allocUnsafe(2 * Buffer.byteLength(start) + (sh.keyA < 0 ? 0 : 6 * (sh.keyB - sh.keyA)) + 64);
  let p = scratch.write(start, 0, 'utf8');
  p = sh.keyA < 0 ? p + scratch.write(JSON.stringify(sh.prefix), p, 'utf8') : putQuoted(scratch, p, sh.src, sh.keyA, sh.keyB);
  p = put(scratch, p, J_KIND[sh.kind]);
  return Buffer.from(scratch.subarray(0, p));
}
