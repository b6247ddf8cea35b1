// The comparison of one item's components (the hot path of compare-traces): status, largest
// difference, worst component. Knows statuses and tolerances, not keys, traces or diagnoses.
//
// Each component is judged against its own magnitude: |port − ref| ≤ max(abs, rel × |component|,
// floor), where the floor is FLOOR_ULPS ulps of the item's magnitude S in its less precise side's
// precision (precision.ts), capped at rel × S. So 1e-17 beside 1.0 is noise in float64, 1e-8
// beside 1.0 noise in float32, a 3.5e-6 relative error in a small component of a large vector is
// seen, and a user asking for rel 1e-12 still sees float32 rounding (it is labelled round-off). Integers on
// both sides must be equal. The status of an item beyond tolerance is graded by rel = max|Δ| / S:
// MINOR below `minor`, else DIVERGENT; CRITICAL for nan/inf on one side, a shape or kind mismatch,
// magnitudes ≥ 10× apart (zero against non-zero included) or a component of opposite sign whose
// difference is beyond minor × S.
import type { Component, ComparedItem, ToleranceSpec } from './comparison.js';
import { CRITICAL_FACTOR, DEFAULT_TOLERANCE } from './comparison.js';
import type { TraceRecord } from './record.js';
import { FLOAT64, FLOOR_ULPS, ulpIn, type Precision } from './precision.js';
import type { Status } from './status.js';

export interface Tol {
  rel: number;
  abs: number;
  minor: number;
}

export interface Outcome {
  status: Status;
  abs: number | null;
  rel: number | null;
  delta: number | null;
  ratio: number | null;
  worst: number | null;
}

/** Where the floor's precision comes from; asked only when a component exceeds rel and abs. */
export interface PrecisionSource {
  precision(): Precision;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The number a component stands for, or undefined for a genuine string. */
export function componentNumber(v: Component): number | undefined {
  if (typeof v === 'number') return v;
  return v in NON_FINITE ? NON_FINITE[v] : undefined;
}

export function componentsOf(rec: TraceRecord): { values: Component[]; labels?: string[] } {
  switch (rec.kind) {
    case 'string':
      return { values: [rec.text ?? ''] };
    case 'parts':
      return { values: (rec.parts ?? []).map((p) => p.value), labels: (rec.parts ?? []).map((p) => p.label) };
    case 'record': {
      const f = rec.fields ?? {};
      const keys = Object.keys(f);
      return { values: keys.map((k) => f[k]!), labels: keys };
    }
    default:
      return { values: rec.values ?? (rec.text !== undefined ? [rec.text] : []) };
  }
}

export function sameLabels(a?: string[], b?: string[]): boolean {
  if (!a || !b) return !a && !b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameShape(a: [number, number] | undefined, b: [number, number] | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a[0] === b[0] && a[1] === b[1];
}

export function signedDeltas(r: Component[], p: Component[]): Array<number | null> {
  const out: Array<number | null> = new Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const a = componentNumber(r[i]!);
    const b = i < p.length ? componentNumber(p[i]!) : undefined;
    out[i] = a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
  }
  return out;
}

/** The largest magnitude among the finite numbers of both sides. */
export function magnitudeOf(r: Component[], p: Component[]): number {
  let s = 0;
  for (const list of [r, p]) {
    for (const c of list) {
      const x = componentNumber(c);
      if (x !== undefined && Number.isFinite(x)) s = Math.max(s, Math.abs(x));
    }
  }
  return s;
}

const FLOAT64_SOURCE: PrecisionSource = { precision: () => FLOAT64 };

function numbersOnly(v: Component[]): boolean {
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') return false;
  return true;
}

/**
 * compareInto for components that are all numbers (finite or not), read in place: r[ro, ro + rn)
 * against p[po, po + pn), as a trace's columns hold them. The same rules, step for step, without
 * an array per item: most of a large comparison goes through here.
 */
export function compareNumbersInto(into: Outcome, r: ArrayLike<number>, ro: number, rn: number, p: ArrayLike<number>, po: number, pn: number, tol: Tol, exact: boolean, source: PrecisionSource = FLOAT64_SOURCE): boolean {
  into.abs = null;
  into.rel = null;
  into.delta = null;
  into.ratio = null;
  into.worst = null;
  if (rn !== pn) {
    into.status = 'CRITICAL';
    return true;
  }
  const n = rn;
  let normR = 0;
  let normP = 0;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const a = r[ro + i]!;
    const b = p[po + i]!;
    if (a !== a || b !== b || a === Infinity || a === -Infinity || b === Infinity || b === -Infinity) {
      finite = false;
      if (!((a !== a && b !== b) || a === b)) {
        into.status = 'CRITICAL';
        into.worst = i;
        return true;
      }
      continue;
    }
    const ma = a < 0 ? -a : a;
    const mb = b < 0 ? -b : b;
    if (ma > normR) normR = ma;
    if (mb > normP) normP = mb;
  }
  const scale = normR > normP ? normR : normP;
  const minorAllowed = tol.minor * scale;
  let floor = -1; // computed once, the first time a component exceeds rel and abs
  let maxD = 0;
  let maxAt = -1;
  let worst = -1;
  let worstExcess = 0;
  let worstD = 0;
  let failed = false;
  let signFlip = false;
  for (let i = 0; i < n; i++) {
    const a = r[ro + i]!;
    const b = p[po + i]!;
    if (!finite && !(Number.isFinite(a) && Number.isFinite(b))) continue;
    const d = b > a ? b - a : a - b;
    if (d > maxD) {
      maxD = d;
      maxAt = i;
    }
    if (d === 0) continue;
    let allowed = 0;
    if (!exact) {
      const ma = a < 0 ? -a : a;
      const mb = b < 0 ? -b : b;
      allowed = tol.rel * (ma > mb ? ma : mb);
      if (tol.abs > allowed) allowed = tol.abs;
      if (d > allowed) {
        if (floor < 0) floor = Math.min(FLOOR_ULPS * ulpIn(scale, source.precision()), tol.rel * scale);
        if (floor > allowed) allowed = floor;
      }
    }
    if (d > allowed) {
      failed = true;
      const excess = allowed > 0 ? d / allowed : Infinity;
      if (worst < 0 || excess > worstExcess || (excess === worstExcess && d > worstD)) {
        worst = i;
        worstExcess = excess;
        worstD = d;
      }
      if (a * b < 0 && d > minorAllowed) signFlip = true;
    }
  }
  if (!failed) {
    into.status = 'MATCH';
    into.abs = maxD;
    into.rel = scale === 0 ? 0 : maxD / scale;
    into.worst = maxAt >= 0 ? maxAt : n > 0 ? 0 : null;
    return false;
  }
  const rel = scale === 0 ? 0 : maxD / scale;
  let status: Status;
  const orders =
    (normR === 0) !== (normP === 0) || (normR > 0 && normP > 0 && (normR / normP >= CRITICAL_FACTOR || normP / normR >= CRITICAL_FACTOR));
  if (orders) status = 'CRITICAL';
  else if (signFlip) status = 'CRITICAL';
  else if (!exact && rel < tol.minor) status = 'MINOR';
  else status = 'DIVERGENT';
  if (worst < 0) worst = n > 0 ? 0 : -1;
  into.status = status;
  into.abs = maxD;
  into.rel = rel;
  if (worst >= 0) {
    into.worst = worst;
    const a = r[ro + worst]!;
    const b = p[po + worst]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      into.delta = b - a;
      if (a !== 0 && Number.isFinite(b / a)) into.ratio = b / a;
    }
  }
  return true;
}

/**
 * Compares component arrays and writes status, abs, rel, delta, ratio and worst into `into`;
 * returns true when the item is not MATCH (the caller then adds deltas and diagnoses).
 * `exact`: integers on both sides, no tolerance and no MINOR.
 */
export function compareInto(into: Outcome, r: Component[], p: Component[], tol: Tol, exact: boolean, source: PrecisionSource = FLOAT64_SOURCE): boolean {
  if (numbersOnly(r) && numbersOnly(p)) return compareNumbersInto(into, r as number[], 0, r.length, p as number[], 0, p.length, tol, exact, source);
  const n = r.length;
  if (n !== p.length) return compareNumbersInto(into, [], 0, n, [], 0, p.length, tol, exact, source);
  // Some component is text or a non-finite name. Text against text enters the numeric rules as a
  // pair of NaN (which they skip) and is judged here.
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  let textDiff = -1;
  for (let i = 0; i < n; i++) {
    const x = componentNumber(r[i]!);
    const y = componentNumber(p[i]!);
    // Text against a number, or a non-finite value against another value: the first such pair.
    const nonFinite = x !== undefined && y !== undefined && (!Number.isFinite(x) || !Number.isFinite(y)) && !((x !== x && y !== y) || x === y);
    if ((x === undefined) !== (y === undefined) || nonFinite) {
      into.abs = into.rel = into.delta = into.ratio = null;
      into.status = 'CRITICAL';
      into.worst = i;
      return true;
    }
    if (x === undefined && r[i] !== p[i] && textDiff < 0) textDiff = i;
    a[i] = x ?? NaN;
    b[i] = y ?? NaN;
  }
  const failed = compareNumbersInto(into, a, 0, n, b, 0, n, tol, exact, source);
  if (textDiff < 0) return failed;
  // A differing text component makes the item DIVERGENT at least; its numbers still say how far.
  if (into.status === 'MATCH' || into.status === 'MINOR') into.status = 'DIVERGENT';
  if (!failed) {
    into.worst = textDiff;
    if (into.abs === 0) into.abs = into.rel = null;
  }
  return true;
}

/** Compares two component arrays (a scalar is a one-element array); see the module header. */
export function compareComponents(reference: Component[], port: Component[], tolerance: ToleranceSpec = {}, exact = false, precision: Precision = FLOAT64): Outcome {
  const out: Outcome = { status: 'MATCH', abs: null, rel: null, delta: null, ratio: null, worst: null };
  const tol: Tol = {
    rel: tolerance.rel ?? DEFAULT_TOLERANCE.rel,
    abs: tolerance.abs ?? DEFAULT_TOLERANCE.abs,
    minor: tolerance.minor ?? DEFAULT_TOLERANCE.minor,
  };
  compareInto(out, reference, port, tol, exact, { precision: () => precision });
  return out;
}

/** Numbers of an item's components, or undefined when any is text or non-finite. */
export function finiteNumbers(values: ComparedItem['reference']): number[] | undefined {
  if (!values) return undefined;
  const out: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = componentNumber(values[i]!);
    if (x === undefined || !Number.isFinite(x)) return undefined;
    out[i] = x;
  }
  return out;
}
