// How precise each side's numbers are, and so how much two values may differ by round-off alone.
//
// A side is float32 when most of its telling numbers (finite, non-integer, with more than 12
// significant bits) are float32 values: a float32 printed with 15 or more digits reads back within
// 1e-14 of that float32, which a double result almost never does. It is 'decimal' (printed to D significant
// digits) when no number of at least 20 shows more than 12 digits; else float64. A key can differ
// from its side (a float64 trace printing one float32 input; a float32 port printing a double loop
// variable): a key whose telling values are all float32 is float32, one with a telling value that is
// not is float64, and a key with none (integers, zeros) takes its side's precision.
//
// The round-off rule (documented in README, "How two traces are compared"): an item's precision is
// its less precise side's. One ulp is measured at the item's magnitude S (its largest |component| on
// either side), because a vector component computed with cancellation carries an error of the size
// of the vector, not of itself. The budget is BUDGET_ULPS ulps: a few ulps (4) for rounding on each
// side and in printing, times an accumulation factor (32) for the operations a traced value usually
// went through; a float32 scattering vector of the real nanoBragg port sits at 22 ulps, lattice
// factors amplified by their steep sinc at hundreds to thousands (those are reported, not excused).
// The floor of the per-component tolerance is FLOOR_ULPS ulps at S: what is zero beside S.
// Pure; knows nothing about keys' meaning, statuses or files.
import { columnsOf, type TraceColumns } from './columns.js';
import type { SidePrecision } from './comparison.js';
import type { TraceDocument } from './record.js';

export const ROUNDING_ULPS = 4;
export const ACCUMULATION = 32;
export const BUDGET_ULPS = ROUNDING_ULPS * ACCUMULATION;
export const FLOOR_ULPS = 4;

/** A precision as the budget uses it. */
export interface Precision {
  type: 'float32' | 'float64' | 'decimal';
  digits?: number;
}

export const FLOAT64: Precision = { type: 'float64' };
export const FLOAT32: Precision = { type: 'float32' };

/** Distance between adjacent float32 values near |x| (x ≠ 0), i.e. one unit in the last place. */
export function ulp32(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return 2 ** -149;
  const e = Math.max(Math.floor(Math.log2(a)), -126);
  return 2 ** (e - 23);
}

export function ulp64(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return 2 ** -1074;
  const e = Math.max(Math.floor(Math.log2(a)), -1022);
  return 2 ** (e - 52);
}

/** One unit in the last place of |x| in a precision. */
export function ulpIn(x: number, p: Precision): number {
  if (p.type === 'float32') return ulp32(x);
  if (p.type === 'float64') return ulp64(x);
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return 0;
  return 10 ** (Math.floor(Math.log10(a)) - (p.digits ?? 15) + 1);
}

/** The unit round-off of a precision, to rank them. */
function roundoff(p: Precision): number {
  if (p.type === 'float64') return 2 ** -53;
  if (p.type === 'float32') return 2 ** -24;
  return 0.5 * 10 ** (1 - (p.digits ?? 15));
}

export function lessPrecise(a: Precision, b: Precision): Precision {
  return roundoff(b) > roundoff(a) ? b : a;
}

export function precisionLabel(p: Precision): string {
  return p.type === 'decimal' ? `${p.digits} digits` : p.type;
}

/** The round-off budget (absolute) of an item of magnitude `scale` in precision `p`. */
export function budgetAt(scale: number, p: Precision): number {
  return BUDGET_ULPS * ulpIn(scale, p);
}

/**
 * A number that only a float32 computation would print: equal to its float32 rounding to 1e-14
 * (what 15+ printed digits keep) and using more than 12 of float32's 24 mantissa bits (0.5 or 0.375
 * are float32 values too, but every precision holds them). Non-integers, and integers beyond 2^24
 * that do not end in 00: there every float32 is an integer (a float32 scattering vector prints
 * `3933482240`), while a double result would show decimals and a count would be round.
 */
export function isTellingFloat32(x: number): boolean {
  if (!Number.isFinite(x)) return false;
  if (Number.isInteger(x) && (Math.abs(x) < 2 ** 24 || x % 100 === 0)) return false;
  const f = Math.fround(x);
  if (Math.abs(f - x) > Math.abs(x) * 1e-14) return false;
  return significantBits32(f) > 12;
}

function significantBits32(f: number): number {
  const a = Math.abs(f);
  const e = Math.max(Math.floor(Math.log2(a)), -126);
  let m = a / 2 ** (e - 23); // the 24-bit mantissa as an integer
  let bits = 24;
  while (bits > 0 && m % 2 === 0) {
    m /= 2;
    bits--;
  }
  return bits;
}

/**
 * What one number says about the precision that printed it: float32 (a telling float32 value),
 * float64 (a non-integer no float32 equals), or nothing (integers, short dyadic numbers such as
 * 0.5 or 325.375 that every precision holds, nan/inf).
 */
function evidenceOf(x: number): 'float32' | 'float64' | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (isTellingFloat32(x)) return 'float32';
  if (Number.isInteger(x)) return undefined;
  return Math.abs(Math.fround(x) - x) > Math.abs(x) * 1e-14 ? 'float64' : undefined;
}

/** Significant decimal digits of the shortest form that reads back as x. */
function digitsOf(x: number): number {
  const s = String(Math.abs(x));
  const mantissa = s.split('e')[0]!.replace('.', '').replace(/^0+/, '');
  return mantissa.replace(/0+$/, '').length || 1;
}

/**
 * How many telling numbers decide a side's precision, and how many of them the digit count looks
 * at: enough to see a format, cheap on a trace of millions (keys decide for themselves anyway).
 */
const SAMPLE = 100_000;
const DIGIT_SAMPLE = 5_000;

/** The precision of a whole trace (see the module header). */
export function sidePrecision(trace: TraceDocument | TraceColumns): SidePrecision {
  const doc = columnsOf(trace);
  let tellingCount = 0;
  let float32 = 0;
  let maxDigits = 0;
  const look = (x: number) => {
    const e = evidenceOf(x);
    if (e === undefined) return;
    tellingCount++;
    if (e === 'float32') float32++;
    if (tellingCount <= DIGIT_SAMPLE) maxDigits = Math.max(maxDigits, digitsOf(x));
  };
  for (let i = 0; i < doc.length; i++) {
    if (tellingCount >= SAMPLE) break;
    doc.forEachNumber(i, look);
  }
  // A double computation never prints float32 values by chance, so a majority of them means the
  // side computes in float32 (the odd double is a loop variable or an input printed as given).
  if (tellingCount >= 5 && float32 > 0.5 * tellingCount) return { type: 'float32', telling: tellingCount, float32 };
  if (tellingCount >= 20 && maxDigits <= 12) return { type: 'decimal', digits: maxDigits, telling: tellingCount, float32 };
  return { type: 'float64', telling: tellingCount, float32 };
}

/**
 * The precision of one key on one side from its records (`field`: one field of record lines), or
 * undefined when it has no telling value (the side's precision applies then).
 */
export function keyPrecision(records: TraceColumns, list: ArrayLike<number> & Iterable<number>, field: string | undefined): 'float32' | 'float64' | undefined {
  let seen = false;
  let all32 = true;
  const look = (x: number) => {
    const e = evidenceOf(x);
    if (e === undefined) return;
    seen = true;
    if (e === 'float64') all32 = false;
  };
  for (const i of list) {
    if (field !== undefined) {
      const v = records.fieldValue(i, field);
      if (typeof v === 'number') look(v);
    } else records.forEachNumber(i, look);
    if (seen && !all32) break;
  }
  return seen ? (all32 ? 'float32' : 'float64') : undefined;
}

/** A side's precision with a key's own (float32/float64) where it has one; decimal printing rules. */
export function effectivePrecision(side: SidePrecision, key: 'float32' | 'float64' | undefined): Precision {
  if (side.type === 'decimal') return { type: 'decimal', digits: side.digits };
  if (key === undefined) return side.type === 'float32' ? FLOAT32 : FLOAT64;
  return key === 'float32' ? FLOAT32 : FLOAT64;
}
