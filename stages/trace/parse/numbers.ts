// Both readings of a number token: classifyNumber, the general classifier, which judges a token
// already cut out of a line, and NumberScanner, the fast path, which cuts the token and judges it in
// the same pass (most of a trace log is numbers; two passes over them were measured slower, see
// scanNumericBody in scanner.ts). The two must agree on every token, which
// tests/trace/parse-scanner.test.ts checks.
// A token's flags (shape.ts) say whether it is a number, an integer literal, a non-finite spelling,
// and whether its bytes are valid JSON as they stand. Knows nothing of lines, keys or output.
import type { Num } from '../record.js';
import * as shape from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { COMMA, DOT, F_INT, F_NAN, F_NINF, F_NUM, F_PINF, F_VERB, MINUS, PLUS, SEMICOLON, ZERO, isBlank, isDigit, latin1 } = shape;

/** Whether c ends a value token: a blank, or between brackets also ',' and ';'. */
function endsToken(c: number, inBrackets: boolean): boolean {
  return isBlank(c) || (inBrackets && (c === COMMA || c === SEMICOLON));
}

/** Whether a number can start with byte c: a digit, sign or '.', or n (nan) or i (inf). Keys rarely do. */
export function mayStartNumber(c: number): boolean {
  return c <= 57 || (c | 32) === 110 || (c | 32) === 105;
}

/** Flags of b[a, e) read as a number; 0 when it is not one. */
export function classifyNumber(b: Buffer, a: number, e: number): number {
  if (a >= e) return 0;
  let i = a;
  let c = b[i];
  let verbatim = true;
  let negative = false;
  if (c === MINUS) {
    negative = true;
    i++;
  } else if (c === PLUS) {
    verbatim = false;
    i++;
  }
  if (i >= e) return 0;
  c = b[i];
  if (c > 57) return classifySpecial(b, i, e, negative);
  const intStart = i;
  while (i < e && isDigit(b[i])) i++;
  const intDigits = i - intStart;
  if (intDigits > 1 && b[intStart] === ZERO) verbatim = false; // 007 is not JSON
  let integer = true;
  let fracDigits = 0;
  if (i < e && b[i] === DOT) {
    integer = false;
    i++;
    const fracStart = i;
    while (i < e && isDigit(b[i])) i++;
    fracDigits = i - fracStart;
    if (fracDigits === 0 || intDigits === 0) verbatim = false; // `5.` and `.5` are not JSON
  }
  if (intDigits + fracDigits === 0) return 0;
  if (i < e) {
    c = b[i];
    if (c !== 101 && c !== 69) return 0;
    integer = false;
    i++;
    if (i < e && (b[i] === PLUS || b[i] === MINUS)) i++;
    const expStart = i;
    while (i < e && isDigit(b[i])) i++;
    const expDigits = i - expStart;
    if (expDigits === 0 || i !== e) return 0;
    if (expDigits > 2) verbatim = false; // might overflow to Infinity: let parseFloat decide
  }
  // A short literal with at most a two-digit exponent cannot overflow a double.
  if (e - a > 32) verbatim = false;
  return F_NUM | (integer ? F_INT : 0) | (verbatim ? F_VERB : 0);
}

/** nan, inf, infinity in any case (C prints nan/-nan/inf/-inf, Python nan/inf). */
function classifySpecial(b: Buffer, i: number, e: number, negative: boolean): number {
  const n = e - i;
  if (n !== 3 && n !== 8) return 0;
  const c0 = b[i] | 32;
  const c1 = b[i + 1] | 32;
  const c2 = b[i + 2] | 32;
  if (n === 3 && c0 === 110 && c1 === 97 && c2 === 110) return F_NUM | F_NAN;
  if (c0 === 105 && c1 === 110 && c2 === 102) {
    if (n === 8 && latin1(b, i + 3, e).toLowerCase() !== 'inity') return 0;
    return F_NUM | (negative ? F_NINF : F_PINF);
  }
  return 0;
}

export function toNum(raw: string, flags: number): Num {
  if (flags & F_NAN) return 'NaN';
  if (flags & F_PINF) return 'Infinity';
  if (flags & F_NINF) return '-Infinity';
  const v = parseFloat(raw);
  if (Number.isFinite(v)) return v;
  return v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * The fast path. The line scanner extends it rather than holding one so that its hot loops call
 * these as methods of `this`, exactly as they did before the parser was split into modules (no
 * other object to load per token, the same inlining).
 */
export class NumberScanner {
  /** Flags of the last number scanNumber accepted. */
  numberFlags = 0;

  /**
   * The end of the token at b[a] (it runs to the next blank or to e; between brackets also to ','
   * or ';') when it is a number, with its flags in numberFlags; -1 when it is not. The same
   * verdict as classifyNumber on the token, but cutting the token and validating it in one pass
   * instead of two.
   */
  scanNumber(b: Buffer, a: number, e: number, inBrackets: boolean): number {
    let i = a;
    let c = b[i];
    let verbatim = true;
    let negative = false;
    if (c === MINUS) {
      negative = true;
      i++;
    } else if (c === PLUS) {
      verbatim = false;
      i++;
    }
    if (i >= e) return -1;
    if (b[i] > 57) return this.scanSpecial(b, i, e, inBrackets, negative);
    const intStart = i;
    while (i < e && isDigit(b[i])) i++;
    const intDigits = i - intStart;
    if (intDigits > 1 && b[intStart] === ZERO) verbatim = false;
    let fracDigits = -1; // no '.'
    if (i < e && b[i] === DOT) {
      i++;
      const fracStart = i;
      while (i < e && isDigit(b[i])) i++;
      fracDigits = i - fracStart;
      if (fracDigits === 0 || intDigits === 0) verbatim = false;
    }
    if (intDigits === 0 && fracDigits <= 0) return -1;
    if (i < e && !endsToken(b[i], inBrackets)) return this.scanExponent(b, a, i, e, inBrackets, verbatim);
    if (i - a > 32) verbatim = false;
    this.numberFlags = F_NUM | (fracDigits < 0 ? F_INT : 0) | (verbatim ? F_VERB : 0);
    return i;
  }

  /**
   * scanNumber for nan, inf and infinity (b[i] is past the sign). This and scanExponent are apart
   * so that scanNumber stays under V8's inlining size and is inlined into its callers: ~30 ms per
   * 200 MB.
   */
  private scanSpecial(b: Buffer, i: number, e: number, inBrackets: boolean, negative: boolean): number {
    let te = i;
    while (te < e && !endsToken(b[te], inBrackets)) te++;
    const f = classifySpecial(b, i, te, negative);
    this.numberFlags = f;
    return f === 0 ? -1 : te;
  }

  /** scanNumber from the byte after the mantissa b[a, i), which must start an exponent. */
  private scanExponent(b: Buffer, a: number, i: number, e: number, inBrackets: boolean, verbatim: boolean): number {
    const c = b[i];
    if (c !== 101 && c !== 69) return -1;
    i++;
    if (i < e && (b[i] === PLUS || b[i] === MINUS)) i++;
    const expStart = i;
    while (i < e && isDigit(b[i])) i++;
    const expDigits = i - expStart;
    if (expDigits === 0 || (i < e && !endsToken(b[i], inBrackets))) return -1;
    if (expDigits > 2 || i - a > 32) verbatim = false;
    this.numberFlags = F_NUM | (verbatim ? F_VERB : 0);
    return i;
  }
}
