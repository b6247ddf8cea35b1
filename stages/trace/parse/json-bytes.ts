// Pieces of JSON written as bytes into a buffer the caller has made room in: constants, quoted
// text, number tokens straight from the input bytes. Shared by the record writer and the record
// heads; knows LineShape's offsets and a token's flags, not the layout of a record or document.
import * as numbers from './numbers.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { toNum } = numbers;
const { BACKSLASH, COMMA, F_NAN, F_NINF, F_PINF, F_VERB, QUOTE, SPACE, latin1, utf8 } = shape;

export const ascii = (s: string) => Buffer.from(s, 'latin1');

// The put* helpers write at `p` into `out` and return the new position. The caller has made room.

/** Constants: a native copy beats a byte loop from about 16 bytes on (measured: 17 against 40 ns for 27 bytes). */
export function put(out: Buffer, p: number, src: Uint8Array): number {
  out.set(src, p);
  return p + src.length;
}

export function putUint(out: Buffer, p: number, v: number): number {
  return p + out.write(String(v), p, 'latin1');
}

/**
 * src[a, e) as a JSON string. Printable ASCII and well-formed UTF-8 sequences are copied as they
 * are checked: JSON.stringify leaves both as they are, so the bytes are the same (decoding and
 * encoding a line with an arrow in it cost 3% of a parse). Anything else (a control character, a
 * quote, a backslash, a byte the decoder would replace) goes through JSON.stringify (at most 6
 * bytes per byte).
 */
export function putQuoted(out: Buffer, p: number, src: Buffer, a: number, e: number): number {
  let q = p;
  out[q++] = QUOTE;
  for (let i = a; i < e; i++) {
    const c = src[i];
    if (c >= SPACE && c <= 126 && c !== QUOTE && c !== BACKSLASH) {
      out[q++] = c;
      continue;
    }
    const n = c >= 0xc2 ? utf8Length(src, i, e) : 0;
    if (n === 0) return p + out.write(JSON.stringify(utf8(src, a, e)), p, 'utf8');
    for (let k = 0; k < n; k++) out[q++] = src[i + k];
    i += n - 1;
  }
  out[q++] = QUOTE;
  return q;
}

/** The length of the well-formed UTF-8 sequence at src[i] (a lead byte ≥ 0xC2), 0 when it is not one. */
function utf8Length(src: Buffer, i: number, e: number): number {
  const c = src[i];
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < e && src[i + k] >= lo && src[i + k] <= hi;
  if (c <= 0xdf) return cont(1) ? 2 : 0;
  if (c <= 0xef) {
    // No overlong forms (E0 A0..) and no surrogates (ED ..9F).
    const ok = c === 0xe0 ? cont(1, 0xa0) : c === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok && cont(2) ? 3 : 0;
  }
  if (c <= 0xf4) {
    const ok = c === 0xf0 ? cont(1, 0x90) : c === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const J_NAN = ascii('"NaN"');
const J_PINF = ascii('"Infinity"');
const J_NINF = ascii('"-Infinity"');

/**
 * A number token: verbatim when it is valid JSON already, else through parseFloat (at most 32
 * bytes). The bytes are copied in a loop: values are short, and Buffer.copy costs about 60 ns a
 * call here (its argument checks are JavaScript), as much as a loop over 50 bytes.
 */
function putNum(out: Buffer, p: number, src: Buffer, a: number, e: number, flags: number): number {
  if (flags & F_VERB) {
    for (let i = a; i < e; i++) out[p++] = src[i];
    return p;
  }
  if (flags & F_NAN) return put(out, p, J_NAN);
  if (flags & F_PINF) return put(out, p, J_PINF);
  if (flags & F_NINF) return put(out, p, J_NINF);
  const v = toNum(latin1(src, a, e), flags);
  const json = typeof v === 'string' ? '"' + v + '"' : Object.is(v, -0) ? '-0' : String(v);
  return p + out.write(json, p, 'latin1');
}

/**
 * The values of a numeric record, comma-separated. The usual case, verbatim numbers one blank
 * apart, is one copy of the whole run with the blanks overwritten by commas.
 */
export function putNumbers(out: Buffer, p: number, sh: LineShape, arena: Uint8Array, outAt: number, srcAt: number): number {
  const n = sh.n;
  const va = sh.va;
  const vb = sh.vb;
  const flags = sh.flags;
  const src = sh.src;
  let simple = true;
  for (let k = 0; simple && k < n; k++) {
    if (!(flags[k] & F_VERB) || (k > 0 && va[k] !== vb[k - 1] + 1)) simple = false;
  }
  if (simple) {
    const a = va[0];
    const e = vb[n - 1];
    if (outAt >= 0 && srcAt >= 0) {
      arena.copyWithin(outAt + p, srcAt + a, srcAt + e);
      p += e - a;
    } else for (let i = a; i < e; i++) out[p++] = src[i];
    for (let k = 1; k < n; k++) out[p - e + va[k] - 1] = COMMA;
    return p;
  }
  for (let k = 0; k < n; k++) {
    if (k > 0) out[p++] = COMMA;
    p = putNum(out, p, src, va[k], vb[k], flags[k]);
  }
  return p;
}

export function putValue(out: Buffer, p: number, src: Buffer, a: number, e: number, flags: number): number {
  return flags ? putNum(out, p, src, a, e, flags) : putQuoted(out, p, src, a, e);
}
