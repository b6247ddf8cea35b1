// The vocabulary the parts of the parser share: LineShape (what one trace line says, as offsets
// into its bytes), the flags of a value token, the kinds of a record, the byte codes of the line
// grammar and its longest line, and the few byte helpers the scanner and the writers both use. It
// must not know how a line is read, nor how a shape is written out: those are scanner.ts and the
// writers.
import { isIndexName } from '../columns.js';
import type { RecordKind } from '../record.js';

/** Lines longer than this many bytes are ignored (counted in stats.ignored, reported via `warn`). */
export const MAX_LINE = 1 << 20;

// Flags of a value token.
export const F_NUM = 1; // a number
export const F_INT = 2; // an integer literal (no '.', no exponent)
export const F_VERB = 4; // already a valid, finite JSON number: copied verbatim to JSON output
export const F_NAN = 8;
export const F_PINF = 16;
export const F_NINF = 32;

// Kinds of a record, as indices (see KIND_NAMES).
export const K_NUMBER = 0;
export const K_INTEGER = 1;
export const K_VECTOR = 2;
export const K_MATRIX = 3;
export const K_PARTS = 4;
export const K_RECORD = 5;
export const K_STRING = 6;
export const KINDS = 7;
export const KIND_NAMES: RecordKind[] = ['number', 'integer', 'vector', 'matrix', 'parts', 'record', 'string'];

// Bytes.
export const TAB = 9;
export const NL = 10;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const PLUS = 43;
export const COMMA = 44;
export const MINUS = 45;
export const DOT = 46;
export const ZERO = 48;
export const COLON = 58;
export const SEMICOLON = 59;
export const EQUALS = 61;
export const LPAREN = 40;
export const RPAREN = 41;
export const LBRACKET = 91;
export const BACKSLASH = 92;
export const RBRACKET = 93;
export const RBRACE = 125;

/** Space, tab, \n, \v, \f, \r. Codes, not SPACE, TAB and CR: those are exports of this module. */
export function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** ASCII bytes as a string (numbers, constants); non-ASCII goes through the UTF-8 decoder. */
export function latin1(b: Buffer, a: number, e: number): string {
  return b.toString('latin1', a, e);
}

export function utf8(b: Buffer, a: number, e: number): string {
  return b.toString('utf8', a, e);
}

/**
 * What one trace line says, as offsets into the scanned bytes (nothing is decoded on the way to
 * JSON output). Scratch: filled per line, consumed at once by an emitter.
 */
export class LineShape {
  src: Buffer = Buffer.alloc(0);
  /** Length of the line in bytes: bounds the size of its JSON. */
  lineBytes = 0;
  prefix = '';
  /** Index of the prefix in the scanner's prefix table (for cached JSON bytes). */
  prefixId = 0;
  /** The key is src[keyA, keyB), or the prefix itself when keyA < 0. */
  keyA = -1;
  keyB = -1;
  /** FNV-1a of the key bytes (when keyA >= 0), for RecordHeads. */
  keyHash = 0;
  /** One of the K_* kinds. */
  kind = K_STRING;
  /** Count of values (numeric kinds), parts or fields. */
  n = 0;
  /** Value tokens src[va[k], vb[k]) and their flags (0: not numeric, kept as a string). */
  va: number[] = [];
  vb: number[] = [];
  flags: number[] = [];
  /** Part labels / field names src[la[k], lb[k]). */
  la: number[] = [];
  lb: number[] = [];
  rows = 0;
  cols = 0;
  /** string kind: src[textA, textB). */
  textA = 0;
  textB = 0;
  /** Numeric kinds read from a printout (./printouts.ts): the unit src[unitA, unitB) when unitA >= 0, the dtype when not ''. */
  unitA = -1;
  unitB = -1;
  dtype = '';
  /** record kind: how an object holds the fields (FIELDS_*), set by the scanner. */
  fieldOrder = FIELDS_AS_WRITTEN;

  key(): string {
    return this.keyA < 0 ? this.prefix : utf8(this.src, this.keyA, this.keyB);
  }
  raw(k: number): string {
    return this.flags[k] ? latin1(this.src, this.va[k], this.vb[k]) : utf8(this.src, this.va[k], this.vb[k]);
  }
  label(k: number): string {
    return utf8(this.src, this.la[k], this.lb[k]);
  }
  text(): string {
    return utf8(this.src, this.textA, this.textB);
  }
  unit(): string | undefined {
    return this.unitA < 0 ? undefined : utf8(this.src, this.unitA, this.unitB);
  }
}

// How an object (and JSON.parse, and so every reader of a parsed trace) holds a record line's
// fields. The writers must give the same fields in the same order, so a line that is not
// FIELDS_AS_WRITTEN is written from its object rather than from its bytes.
export const FIELDS_AS_WRITTEN = 0;
/** A field named like an array index (`3=4`): an object lists it before the others. */
export const FIELDS_REORDERED = 1;
/** A name given twice (after UTF-8 decoding): an object keeps it once, with its last value. */
export const FIELDS_MERGED = 2;

/** The FIELDS_* of a record shape, from its bytes where they are ASCII. */
export function fieldOrderOf(sh: LineShape): number {
  const src = sh.src;
  const la = sh.la;
  const lb = sh.lb;
  const n = sh.n;
  let ascii = true;
  let index = false;
  for (let k = 0; k < n; k++) {
    const a = la[k];
    const e = lb[k];
    // Only a name that starts with a digit is decoded to be tested.
    if (!index && src[a] >= 48 && src[a] <= 57 && isIndexName(latin1(src, a, e))) index = true;
    for (let i = a; ascii && i < e; i++) if (src[i] >= 0x80) ascii = false;
  }
  if (!ascii) {
    // Distinct bytes may decode alike (every malformed sequence becomes U+FFFD).
    if (repeatedFieldOf(sh) !== undefined) return FIELDS_MERGED;
  } else {
    for (let k = 1; k < n; k++) {
      const a = la[k];
      const len = lb[k] - a;
      for (let j = 0; j < k; j++) {
        if (lb[j] - la[j] !== len) continue;
        let i = 0;
        while (i < len && src[la[j] + i] === src[a + i]) i++;
        if (i === len) return FIELDS_MERGED;
      }
    }
  }
  return index ? FIELDS_REORDERED : FIELDS_AS_WRITTEN;
}

/** The first field name of a record shape that repeats an earlier one, decoded. */
export function repeatedFieldOf(sh: LineShape): string | undefined {
  const seen = new Set<string>();
  for (let k = 0; k < sh.n; k++) {
    const name = sh.label(k);
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

export function sameBytes(p: Buffer, b: Buffer, a: number, n: number): boolean {
  if (p.length !== n) return false;
  for (let i = 0; i < n; i++) if (p[i] !== b[a + i]) return false;
  return true;
}

export type Emit = (sh: LineShape, seq: number, line: number) => void;
