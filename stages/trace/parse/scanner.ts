// The line scanner: cuts bytes into lines, recognizes a kept prefix, and reads the rest of the line
// into a LineShape (key, kind, offsets of the values), which it hands to an emitter. It knows the
// line grammar of trace logs (see ../parse.ts); it does not know what becomes of a shape (records
// in memory, JSON bytes), what `require` asks for beyond the observer it is given, or about files.
// The common shapes are read in one pass (scanNumericBody, scanRecordBody); every other line, and
// any line those refuse, by the general reader (tokens, then classifyNumber on each).
import * as numbers from './numbers.js';
import type { PrefixTable } from './prefixes.js';
import * as printouts from './printouts.js';
import * as shape from './shape.js';
import type { Emit, LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { classifyNumber, mayStartNumber } = numbers;
const { readPrintout, startsPrintout } = printouts;
const { COLON, COMMA, CR, EQUALS, F_INT, FIELDS_MERGED, fieldOrderOf, K_MATRIX, K_NUMBER, K_INTEGER, K_PARTS, K_RECORD, K_STRING, K_VECTOR } = shape;
const { LBRACKET, LPAREN, MAX_LINE, NL, RBRACKET, RPAREN, SEMICOLON, SPACE, TAB, isBlank } = shape;

const HASH_SEED = 0x811c9dc5;
const HASH_PRIME = 0x01000193;

/** FNV-1a of b[a, e). */
function hashBytes(b: Buffer, a: number, e: number): number {
  let h = HASH_SEED;
  for (let i = a; i < e; i++) h = Math.imul(h ^ b[i], HASH_PRIME);
  return h;
}

/** Sees every record-bearing line before it is emitted (the `require` tracker). */
export interface LineObserver {
  observe(sh: LineShape, line: number): void;
}

/** The line scanner: feeds on bytes, counts lines, hands each record-bearing line to `emit`. */
export class TraceScanner extends numbers.NumberScanner {
  lines = 0;
  records = 0;
  longLines = 0;
  /** Record lines that name a field twice, and the first of them with that name. */
  mergedLines = 0;
  firstMerged: { line: number; name: string } | undefined;
  private readonly sh = new shape.LineShape();
  // Token scratch, reused across lines.
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly eqs: number[] = [];

  constructor(
    readonly prefixes: PrefixTable,
    private readonly req: LineObserver | undefined,
    private readonly emit: Emit,
  ) {
    super();
  }

  /** Scans b[from, to) as '\n'-terminated lines (the last may lack its newline). */
  scanBytes(b: Buffer, from: number, to: number): void {
    let pos = from;
    while (pos < to) {
      let nl = b.indexOf(NL, pos);
      if (nl < 0 || nl > to) nl = to;
      this.scanOne(b, pos, nl);
      pos = nl + 1;
    }
  }

  scanOne(b: Buffer, a: number, e: number): void {
    this.lines++;
    if (e - a > MAX_LINE) {
      this.longLines++;
      return;
    }
    if (this.scanLine(b, a, e)) {
      const sh = this.sh;
      if (sh.kind === K_RECORD && (sh.fieldOrder = fieldOrderOf(sh)) === FIELDS_MERGED && this.mergedLines++ === 0) {
        this.firstMerged = { line: this.lines, name: shape.repeatedFieldOf(sh)! };
      }
      this.req?.observe(this.sh, this.lines);
      this.emit(this.sh, this.records++, this.lines);
    }
  }

  /** Counts a line that was too long to buffer. */
  skipLongLine(): void {
    this.lines++;
    this.longLines++;
  }

  /** Fills this.sh from b[a, e); false when the line holds no record. */
  private scanLine(b: Buffer, a: number, e: number): boolean {
    if (e > a && b[e - 1] === CR) e--;
    let i = a;
    if (e - i >= 3 && b[i] === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf) i += 3; // BOM
    while (i < e && (b[i] === SPACE || b[i] === TAB)) i++;
    const ps = i;
    while (i < e) {
      const c = b[i];
      if (c === COLON || isBlank(c)) break;
      i++;
    }
    if (i === ps) return false;
    const prefixId = this.prefixes.match(b, ps, i);
    if (prefixId < 0) return false;
    const colon = i < e && b[i] === COLON;
    // The shapes most lines have are read in one pass; the rest by the general reader below.
    if (colon ? this.scanNumericBody(b, i + 1, e) : this.scanRecordBody(b, i, e)) {
      const sh = this.sh;
      sh.src = b;
      sh.lineBytes = e - a;
      sh.prefixId = prefixId;
      sh.prefix = this.prefixes.seen[prefixId];
      sh.unitA = -1;
      sh.dtype = '';
      return true;
    }
    if (colon) i++;

    // Tokens of the body: blank-separated, noting the first '=' of each.
    const starts = this.starts;
    const ends = this.ends;
    const eqs = this.eqs;
    let n = 0;
    let allAssign = true;
    for (;;) {
      while (i < e && isBlank(b[i])) i++;
      if (i >= e) break;
      const ts = i;
      let eq = -1;
      while (i < e) {
        const c = b[i];
        if (c <= SPACE && isBlank(c)) break;
        if (c === EQUALS && eq < 0) eq = i;
        i++;
      }
      starts[n] = ts;
      ends[n] = i;
      eqs[n] = eq;
      n++;
      if (eq <= ts) allAssign = false;
    }
    if (n === 0) return false;

    const sh = this.sh;
    sh.src = b;
    sh.lineBytes = e - a;
    sh.prefixId = prefixId;
    sh.prefix = this.prefixes.seen[prefixId];
    sh.unitA = -1;
    sh.dtype = '';
    // `P: F=tensor(1.5, dtype=torch.float64)` is a value, not a record of two fields.
    if (allAssign && (!colon || n >= 2) && !(colon && startsPrintout(b, eqs[0] + 1, ends[0]))) {
      sh.keyA = -1;
      sh.kind = K_RECORD;
      sh.n = n;
      for (let k = 0; k < n; k++) {
        const eq = eqs[k];
        sh.la[k] = starts[k];
        sh.lb[k] = eq;
        sh.va[k] = eq + 1;
        sh.vb[k] = ends[k];
        sh.flags[k] = classifyNumber(b, eq + 1, ends[k]);
      }
      return true;
    }

    const t0s = starts[0];
    const t0e = ends[0];
    const eq0 = eqs[0];
    let first = 1; // first token of the value
    let vs = -1; // start of the value when it begins inside token 0
    if (eq0 > t0s) {
      sh.keyA = t0s;
      sh.keyB = eq0;
      if (eq0 + 1 < t0e) {
        first = 0;
        vs = eq0 + 1;
      }
    } else if (b[t0s] === LBRACKET || classifyNumber(b, t0s, t0e) !== 0 || startsPrintout(b, t0s, t0e)) {
      sh.keyA = -1;
      first = 0;
    } else {
      // `key words = value` (free text such as `TRACE:   Omega (solid angle) = 4.169e-07`): the key
      // runs up to the first lone '='.
      let keyEnd = t0e;
      for (let k = 1; k < n; k++) {
        if (ends[k] - starts[k] === 1 && b[starts[k]] === EQUALS) {
          keyEnd = ends[k - 1];
          first = k + 1;
          break;
        }
      }
      // A heading (`TRACE: Cross product results:`) introduces values but holds none.
      if (first === 1 && b[ends[n - 1] - 1] === COLON) return false;
      sh.keyA = t0s;
      sh.keyB = keyEnd;
    }
    if (first < n && vs < 0) vs = starts[first];
    if (sh.keyA >= 0) sh.keyHash = hashBytes(b, sh.keyA, sh.keyB);
    this.readValue(b, vs, first, n);
    return true;
  }

  /**
   * The body after `P:` in the two shapes most trace lines have, `key n n n` (chain) and `key=n n n`
   * (set-up), with every value a number or the value bracketed: read in one pass, each number
   * validated as its token is cut (see scanNumber), the key hashed as it goes by (for RecordHeads).
   * False for anything else; the general path then reads the body afresh, so this must accept only
   * what it would read the same way: with a ':' after the prefix and a value after the key there is
   * no record (the values hold no '='), a chain key that is no number and no '[' is the key, and
   * all-numeric values never form a parts or free-text reading. Tokenizing then classifying took
   * 250 ms more per 200 MB (1.46 against 1.21 s of CPU); a bracketed line, 1650 against 1250 ns.
   */
  private scanNumericBody(b: Buffer, i: number, e: number): boolean {
    const sh = this.sh;
    while (i < e && isBlank(b[i])) i++;
    const ks = i;
    let eq = -1;
    let h = HASH_SEED; // hashBytes of the key, while its bytes go by
    while (i < e) {
      const c = b[i];
      if (c <= SPACE && isBlank(c)) break;
      if (c === EQUALS) {
        eq = i;
        break;
      }
      h = Math.imul(h ^ c, HASH_PRIME);
      i++;
    }
    if (eq >= 0) {
      if (eq === ks) return false;
      sh.keyA = ks;
      sh.keyB = eq;
      i = eq + 1;
    } else {
      if (i === ks || b[ks] === LBRACKET || (mayStartNumber(b[ks]) && classifyNumber(b, ks, i) !== 0)) return false;
      sh.keyA = ks;
      sh.keyB = i;
    }
    sh.keyHash = h;
    while (i < e && isBlank(b[i])) i++;
    const c0 = i < e ? b[i] : 0;
    if (c0 === LBRACKET || c0 === LPAREN) {
      // `[a b c; d e f]`, `(a, b, c)`: the value runs to the last byte that is not blank.
      let ve = e;
      while (isBlank(b[ve - 1])) ve--;
      return ve - i >= 2 && b[ve - 1] === (c0 === LBRACKET ? RBRACKET : RPAREN) && this.readBracketed(b, i + 1, ve - 1);
    }
    const va = sh.va;
    const vb = sh.vb;
    const flags = sh.flags;
    let n = 0;
    for (;;) {
      while (i < e && isBlank(b[i])) i++;
      if (i >= e) break;
      if (!mayStartNumber(b[i])) return false; // labelled parts, text: leave at once
      const end = this.scanNumber(b, i, e, false);
      if (end < 0) return false;
      va[n] = i;
      vb[n] = end;
      flags[n] = this.numberFlags;
      n++;
      i = end;
    }
    if (n === 0) return false;
    sh.n = n;
    sh.kind = n > 1 ? K_VECTOR : flags[0] & F_INT ? K_INTEGER : K_NUMBER;
    return true;
  }

  /**
   * The body of a record line without ':', `P k=v k=v ...` (per-phi records), in one pass: each
   * value is validated as a number while its token is cut, or else kept as text. False when a
   * token has no '=' after its first byte (no record then); the general path reads the line afresh.
   * 730 against 860 ns for a line of five fields.
   */
  private scanRecordBody(b: Buffer, i: number, e: number): boolean {
    const sh = this.sh;
    const la = sh.la;
    const lb = sh.lb;
    const va = sh.va;
    const vb = sh.vb;
    const flags = sh.flags;
    let n = 0;
    for (;;) {
      while (i < e && isBlank(b[i])) i++;
      if (i >= e) break;
      const ls = i;
      while (i < e && b[i] !== EQUALS && !isBlank(b[i])) i++;
      if (i === ls || i >= e || b[i] !== EQUALS) return false;
      la[n] = ls;
      lb[n] = i;
      i++;
      let end = i < e && mayStartNumber(b[i]) ? this.scanNumber(b, i, e, false) : -1;
      let f = 0;
      if (end >= 0) f = this.numberFlags;
      else {
        end = i;
        while (end < e && !isBlank(b[end])) end++;
      }
      va[n] = i;
      vb[n] = end;
      flags[n] = f;
      n++;
      i = end;
    }
    if (n === 0) return false;
    sh.keyA = -1;
    sh.kind = K_RECORD;
    sh.n = n;
    return true;
  }

  /** Reads the value made of tokens first..n-1 (token `first` starting at vs). */
  private readValue(b: Buffer, vs: number, first: number, n: number): void {
    const sh = this.sh;
    if (first >= n) {
      sh.kind = K_STRING;
      sh.textA = sh.textB = 0;
      return;
    }
    const ve = this.ends[n - 1];
    const c0 = b[vs];
    const c1 = b[ve - 1];
    if (((c0 === LBRACKET && c1 === RBRACKET) || (c0 === LPAREN && c1 === RPAREN)) && this.readBracketed(b, vs + 1, ve - 1)) return;

    const starts = this.starts;
    const ends = this.ends;
    let count = 0;
    let numeric = true;
    for (let k = first; k < n; k++) {
      const a = k === first ? vs : starts[k];
      let e = ends[k];
      if (k < n - 1 && b[e - 1] === COMMA) e--; // `1.5, 2.5, 3.5` as Python f-strings print lists
      const f = classifyNumber(b, a, e);
      if (f === 0) {
        numeric = false;
        break;
      }
      sh.va[count] = a;
      sh.vb[count] = e;
      sh.flags[count] = f;
      count++;
    }
    if (numeric) {
      sh.n = count;
      sh.kind = count > 1 ? K_VECTOR : sh.flags[0] & F_INT ? K_INTEGER : K_NUMBER;
      return;
    }

    // label:value parts (`rotx:0 roty:0`, `X:3.25e-06 Y:3.25e-06 pixel_mm:0.1`)
    count = 0;
    let parts = true;
    for (let k = first; k < n; k++) {
      const a = k === first ? vs : starts[k];
      const e = ends[k];
      let colon = a;
      while (colon < e && b[colon] !== COLON) colon++;
      if (colon === a || colon >= e - 1) {
        parts = false;
        break;
      }
      sh.la[count] = a;
      sh.lb[count] = colon;
      sh.va[count] = colon + 1;
      sh.vb[count] = e;
      sh.flags[count] = classifyNumber(b, colon + 1, e);
      count++;
    }
    if (parts) {
      sh.kind = K_PARTS;
      sh.n = count;
      return;
    }
    if (readPrintout(sh, b, vs, ve)) return;
    sh.unitA = -1;
    sh.dtype = '';
    sh.kind = K_STRING;
    sh.textA = vs;
    sh.textB = ve;
  }

  /** `a b c; d e f` or `a, b, c` between brackets or parentheses: a matrix or a vector; false when not numeric. */
  private readBracketed(b: Buffer, a: number, e: number): boolean {
    const sh = this.sh;
    let count = 0;
    let rows = 0;
    let cols = -1;
    let inRow = 0;
    let i = a;
    for (;;) {
      while (i < e && (isBlank(b[i]) || b[i] === COMMA)) i++;
      if (i >= e || b[i] === SEMICOLON) {
        if (inRow === 0) return false;
        if (cols < 0) cols = inRow;
        else if (cols !== inRow) return false;
        rows++;
        inRow = 0;
        if (i >= e) break;
        i++;
        continue;
      }
      const end = this.scanNumber(b, i, e, true);
      if (end < 0) return false;
      sh.va[count] = i;
      sh.vb[count] = end;
      sh.flags[count] = this.numberFlags;
      i = end;
      count++;
      inRow++;
    }
    sh.n = count;
    if (rows > 1) {
      sh.kind = K_MATRIX;
      sh.rows = rows;
      sh.cols = cols;
    } else {
      sh.kind = K_VECTOR;
    }
    return true;
  }
}
