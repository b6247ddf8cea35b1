// Property tests of the two readings of a number token (stages/trace/parse/numbers.ts): the fast
// scanner, which cuts and judges a token in one pass on the common line shapes, and the general
// classifier, which judges a token the general reader has already cut. The parser picks one or the
// other by the shape of a line, so if they ever disagreed the same number would be read one way on
// one line and another way on the next. Both are also held to a reading spelled out as regular
// expressions, so that they cannot agree on something wrong.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NumberScanner, classifyNumber, toNum } from '../../stages/trace/parse/numbers.js';
import { F_INT, F_NAN, F_NINF, F_NUM, F_PINF, F_VERB } from '../../stages/trace/parse/shape.js';
import { parseTraceText } from '../../stages/trace/parse.js';

const digits = (maxLength: number, minLength = 0) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });
const sign = fc.constantFrom('', '', '-', '+');

/** Integers, decimals and exponents, with the odd empty part: `5.`, `.5`, `007`, `1e`, `-.e5`, `1e-400`. */
const exponent = fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(4)).map((p) => p.join(''));
const decimal = fc
  .tuple(sign, digits(20), fc.option(digits(20)), fc.option(exponent))
  .map(([s, int, frac, exp]) => s + int + (frac === null ? '' : '.' + frac) + (exp ?? ''));

/** Long literals around the 32 bytes up to which a valid one is copied to JSON as it stands. */
const long = fc
  .tuple(
    sign,
    fc.integer({ min: 24, max: 36 }).chain((n) => digits(n, n)),
    fc.option(fc.nat()),
    fc.option(fc.constantFrom('e5', 'e-12', 'E+99', 'e123')),
  )
  .map(([s, ds, dot, exp]) => {
    const k = dot === null ? -1 : 1 + (dot % (ds.length - 1));
    return s + (k < 0 ? ds : ds.slice(0, k) + '.' + ds.slice(k)) + (exp ?? '');
  });

/** nan, inf, infinity in random case, and near misses. */
const word = fc.constantFrom('nan', 'inf', 'infinity', 'na', 'nann', 'in', 'info', 'infinit', 'infinityy', 'infinitx', 'nanx');
const special = fc
  .tuple(sign, word, fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }))
  .map(([s, word, upper]) => s + [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

/** What programs print: JavaScript's spellings of doubles, close to C's %g and %e and Python's repr. */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const printed = fc.oneof(
  fc.double().map((d) => (Object.is(d, -0) ? '-0' : String(d))),
  fc.tuple(finite, fc.integer({ min: 0, max: 20 })).map(([d, p]) => d.toExponential(p)),
  fc.tuple(finite, fc.integer({ min: 1, max: 21 })).map(([d, p]) => d.toPrecision(p)),
);

/** Spellings neither reader takes: hex, C suffixes, thousands separators. */
const foreign = fc.constantFrom(
  ...['0x1f', '0X1F', '-0x1p3', '0x', '1f', '1.5f', '10L', '1_000', '1,000', '1.2.3', '--1', '+-1', '1e+-5', '.', '-', '+', 'e5', '.e5'],
);

const junk = fc.string({ unit: fc.constantFrom(...'0123456789+-.eEnaifxX_:=[]();,\t é'), maxLength: 12 });

/** A token, possibly with junk spliced into it. */
const token = fc.oneof(
  { arbitrary: decimal, weight: 4 },
  { arbitrary: long, weight: 2 },
  { arbitrary: special, weight: 2 },
  { arbitrary: printed, weight: 3 },
  { arbitrary: foreign, weight: 1 },
  { arbitrary: junk, weight: 2 },
  {
    arbitrary: fc.tuple(fc.oneof(decimal, printed, special), junk, fc.nat()).map(([t, j, at]) => {
      const k = at % (t.length + 1);
      return t.slice(0, k) + j + t.slice(k);
    }),
    weight: 2,
  },
);

/** What may follow a token on a line: an end of token or not, then anything. */
const tail = fc.tuple(fc.constantFrom('', ' ', '\t', '\r', ',', ';', ']', ')', '=', ':', 'x', '5'), junk).map(([a, b]) => a + b);

/** Where the scanner would end the token at a (a blank, or between brackets also ',' and ';'). */
function tokenEnd(b: Buffer, a: number, e: number, inBrackets: boolean): number {
  let i = a;
  while (i < e) {
    const c = b[i];
    if (c === 32 || (c >= 9 && c <= 13) || (inBrackets && (c === 44 || c === 59))) break;
    i++;
  }
  return i;
}

/** The flags a token should get, from the spelling alone. */
function expectedFlags(text: string): number {
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
  if (special) {
    if (special[2].toLowerCase() === 'nan') return F_NUM | F_NAN;
    return F_NUM | (special[1] === '-' ? F_NINF : F_PINF);
  }
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return 0;
  const integer = /^[+-]?\d+$/.test(text);
  // Valid JSON as it stands, and too short to overflow a double (at most a two-digit exponent).
  const verbatim = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d{1,2})?$/.test(text) && text.length <= 32;
  return F_NUM | (integer ? F_INT : 0) | (verbatim ? F_VERB : 0);
}

describe('number scanner and classifier', () => {
  it('the fast scanner accepts exactly the tokens the classifier accepts, cut at the same place, with the same flags', () => {
    const scanner = new NumberScanner();
    fc.assert(
      fc.property(junk, token, tail, fc.boolean(), fc.nat(), (before, tok, after, inBrackets, cutAt) => {
        const b = Buffer.from(before + tok + after, 'utf8');
        const a = Buffer.byteLength(before, 'utf8');
        if (a >= b.length) return;
        // the scanner's callers hand it a token that starts at a and a line that ends at e
        const e = a + 1 + (cutAt % (b.length - a));
        const cut = tokenEnd(b, a, e, inBrackets);
        const general = classifyNumber(b, a, cut);
        const end = scanner.scanNumber(b, a, e, inBrackets);
        if (general === 0) {
          expect(end).toBe(-1);
        } else {
          expect(end).toBe(cut);
          expect(scanner.numberFlags).toBe(general);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('both read a token as its spelling says: integer, decimal, exponent, nan, inf, and whether it is JSON as it stands', () => {
    const scanner = new NumberScanner();
    fc.assert(
      fc.property(token, fc.boolean(), (tok, inBrackets) => {
        const b = Buffer.from(tok, 'utf8');
        const cut = tokenEnd(b, 0, b.length, inBrackets);
        const text = b.toString('latin1', 0, cut);
        const want = expectedFlags(text);
        expect(classifyNumber(b, 0, cut)).toBe(want);
        if (cut === 0) return;
        const end = scanner.scanNumber(b, 0, b.length, inBrackets);
        expect(end).toBe(want ? cut : -1);
        if (want) expect(scanner.numberFlags).toBe(want);
        if (want & F_VERB) {
          // copied to JSON output byte for byte: it must parse there to the value the parser stores
          expect(Object.is(JSON.parse(text), toNum(text, want))).toBe(true);
        } else if (want && !(want & (F_NAN | F_PINF | F_NINF))) {
          const v = Number(text);
          expect(Object.is(toNum(text, want), Number.isFinite(v) ? v : v > 0 ? 'Infinity' : '-Infinity')).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('a chain line (read in one pass) and a free-text line (read token by token) give the same numbers', () => {
    const number = token.filter((t) => expectedFlags(t) !== 0);
    fc.assert(
      fc.property(fc.array(number, { minLength: 1, maxLength: 4 }), (values) => {
        const body = values.join(' ');
        const doc = parseTraceText(`TRACE_C: k ${body}\nTRACE_C: the k = ${body}`);
        expect(doc.records).toHaveLength(2);
        const [fast, general] = doc.records;
        expect(fast.key).toBe('k');
        expect(general.key).toBe('the k');
        expect(fast.kind).toBe(general.kind);
        expect(fast.values).toHaveLength(values.length);
        fast.values!.forEach((v, i) => expect(Object.is(v, general.values![i])).toBe(true));
      }),
      { numRuns: 1000 },
    );
  });
});
