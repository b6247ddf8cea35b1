// Diagnoses that relate an item to other items of the same comparison, claimed only when the
// numbers hold them:
// - carry-over: a port value equal to the reference's value of another record of the same key
//   ("port phi_tic=1 equals reference phi_tic=0": a cache not invalidated), or a reference value
//   equal to another of its own records while the port's differ (the reference carries state over);
// - shift: a vector's difference parallel to another traced vector, or in the plane of two, in
//   units of a traced scalar when one fits ("Δ = −0.5 × pixel_mm (mm → m) along fdet_vec"); a
//   scalar's difference equal to a traced size (a pixel, a step) times a simple fraction.
// Runs after every item is compared; adds to the diagnoses of items beyond round-off. Pure.
import type { ComparedItem, Diagnosis } from './comparison.js';
import { finiteNumbers } from './components.js';
import { formatNumber } from './factors.js';
import type { ItemList } from './items.js';

/** Items beyond round-off examined (the first ones in order): relations are for reading, not for counting. */
const MAX_EXAMINED = 2000;
/** Record groups larger than this are not searched for carry-over (a per-phi group has tens). */
const MAX_GROUP = 1000;

export function isBeyondNoise(item: ComparedItem): boolean {
  return (item.status === 'MINOR' || item.status === 'DIVERGENT' || item.status === 'CRITICAL') && !item.roundOff;
}

export function isWithinNoise(item: ComparedItem): boolean {
  return item.status === 'MATCH' || item.roundOff === true;
}

/** isBeyondNoise and isWithinNoise of item i, without its object. */
export function beyondNoiseAt(items: ItemList, i: number): boolean {
  const s = items.status(i);
  return (s === 'MINOR' || s === 'DIVERGENT' || s === 'CRITICAL') && !items.roundOff(i);
}

export function withinNoiseAt(items: ItemList, i: number): boolean {
  return items.status(i) === 'MATCH' || items.roundOff(i);
}

export function relateItems(items: ItemList): void {
  const beyond: number[] = [];
  for (let i = 0; i < items.length && beyond.length < MAX_EXAMINED; i++) if (beyondNoiseAt(items, i)) beyond.push(i);
  if (!beyond.length) return;
  carryOvers(items, beyond);
  shifts(items, beyond);
}

function add(item: ComparedItem, d: Diagnosis): void {
  // Relations are the most specific reading of an item: they go first.
  item.diagnoses = [d, ...(item.diagnoses ?? [])];
}

function closenessOf(item: ComparedItem): number {
  return Math.max(item.budget ?? 0, item.tolerance?.abs ?? 0);
}

function equalWithin(a: number[], b: number[], close: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > close) return false;
  return true;
}

function maxDifference(a: number[], b: number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Worth matching: not all zeros and not all integers (every record holds those). */
function telling(v: number[]): boolean {
  return v.some((x) => x !== 0 && !Number.isInteger(x));
}

function recordLabel(item: ComparedItem): string {
  return item.match ? `${item.match.field}=${item.match.value}` : `occurrence ${item.occurrence}`;
}

// ---------------------------------------------------------------------------------------------
// Carry-over

function carryOvers(items: ItemList, beyond: number[]): void {
  const groupOf = (i: number) => `${items.key(i)}\u0000${items.field(i) ?? ''}`;
  const wanted = new Set(beyond.map(groupOf));
  const wantedKeys = new Set(beyond.map((i) => items.key(i)));
  const members = new Map<string, number[]>();
  for (let i = 0; i < items.length; i++) {
    if (!wantedKeys.has(items.key(i))) continue; // no string built for the million others
    const g = groupOf(i);
    if (!wanted.has(g)) continue;
    let list = members.get(g);
    if (!list) members.set(g, (list = []));
    list.push(i);
  }
  for (const x of beyond) {
    const X = items.at(x);
    const list = members.get(groupOf(x))!;
    if (list.length < 2 || list.length > MAX_GROUP) continue;
    const rX = finiteNumbers(X.reference);
    const pX = finiteNumbers(X.port);
    if (!rX || !pX) continue;
    const close = closenessOf(X);
    const nearest = (test: (Y: ComparedItem) => boolean): number | undefined => {
      let before: number | undefined;
      let after: number | undefined;
      for (const y of list) {
        if (y === x || !test(items.at(y))) continue;
        if (y < x) before = y;
        else if (after === undefined) after = y;
      }
      return before ?? after;
    };
    if (telling(pX)) {
      const y = nearest((Y) => {
        const rY = finiteNumbers(Y.reference);
        return rY !== undefined && equalWithin(pX, rY, close) && !equalWithin(rX, rY, close);
      });
      if (y !== undefined) {
        add(X, {
          kind: 'carry-over',
          message: `port ${recordLabel(X)} equals reference ${recordLabel(items.at(y))}: a value carried over from another record (stale state, a cache not invalidated)`,
          related: [y],
        });
        continue;
      }
    }
    if (telling(rX)) {
      // Equality is symmetric; the stale record is the one the port disagrees with, so the other
      // must agree with the port (its difference a tenth of this one's at most).
      const dX = maxDifference(rX, pX);
      const y = nearest((Y) => {
        const rY = finiteNumbers(Y.reference);
        const pY = finiteNumbers(Y.port);
        return rY !== undefined && pY !== undefined && equalWithin(rX, rY, close) && !equalWithin(pX, pY, close) && maxDifference(rY, pY) <= 0.1 * dX;
      });
      if (y !== undefined) {
        add(X, {
          kind: 'carry-over',
          message: `reference ${recordLabel(X)} equals reference ${recordLabel(items.at(y))} while the port's differ: the reference carries a value over from another record`,
          related: [y],
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shifts along traced vectors

interface Direction {
  index: number;
  name: string;
  v: number[];
  unit: number[];
  norm: number;
}

interface Scalar {
  index: number;
  name: string;
  value: number;
}

interface Fit {
  text: string;
  index: number;
  coefficient: number;
}

/**
 * Powers of ten tried when a coefficient is a traced scalar in other units, what they mean, and
 * what the scalar's name must say for the conversion to be believed (`pixel_mm` for mm → m; a
 * `distance_m` that happens to be 0.1 is not a pixel of 0.1 mm).
 */
const POWERS: Array<[number, string, RegExp]> = [
  [0, '', /./],
  [-3, ' (mm → m)', /mm/i],
  [3, ' (m → mm)', /(_m|meters?)$/i],
  [-10, ' (Å → m)', /(angstroms?|_A)$/i],
  [10, ' (m → Å)', /(_m|meters?)$/i],
  [-6, ' (µm → m)', /(um|microns?)$/i],
  [6, ' (m → µm)', /(_m|meters?)$/i],
];
/** Names tried first among scalars of equal fit: the sizes a position is usually off by. */
const LIKELY = /pixel|size|step|spacing/i;
const FRACTIONS = [1, 0.5, 2, 0.25, 1.5, 3, 4, 1 / 3, 2 / 3];

/** How far a direction must be pinned down before a parallel is claimed: |Δ| over the noise on it. */
const MIN_SIGNAL = 20;
/** How far back candidates are looked for, and how many of each kind are tried. */
const WINDOW = 1000;
const MAX_CANDIDATES = 64;
const MAX_SCALARS = 200;

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function norm(a: number[]): number {
  return Math.sqrt(dot(a, a));
}

function axisGloss(name: string): string {
  if (/fdet/.test(name)) return ' (the fast axis)';
  if (/sdet/.test(name)) return ' (the slow axis)';
  if (/odet/.test(name)) return ' (the detector normal)';
  if (/spindle/.test(name)) return ' (the spindle axis)';
  return '';
}

function shifts(items: ItemList, beyond: number[]): void {
  const vectors: Direction[] = [];
  const scalars: Scalar[] = [];
  // Candidates are values both sides agree on, traced in the window before an examined item.
  let from = 0;
  for (const x of beyond) {
    for (let i = Math.max(from, x - WINDOW); i < x; i++) {
      const n = items.refLength(i);
      if (n < 0 || n > 4) continue;
      const it = items.at(i);
      if (!it.reference) continue;
      if (it.labels && it.port) {
        // A labelled part both sides agree on is a traced scalar, whatever its neighbours do
        // (`beam_center_m=X:… Y:… pixel_mm:0.05` with X and Y in other units).
        const labels = it.labels;
        it.reference!.forEach((c, k) => {
          if (typeof c === 'number' && c === it.port![k]) pushScalar(scalars, i, `${it.name}.${labels[k]}`, c);
        });
        continue;
      }
      if (!isWithinNoise(it)) continue;
      const r = finiteNumbers(it.reference);
      if (!r) continue;
      if (r.length === 1) pushScalar(scalars, i, it.name, r[0]!);
      else if (it.field === undefined) {
        const n = norm(r);
        if (n > 0) vectors.push({ index: i, name: it.name, v: r, unit: r.map((v) => v / n), norm: n });
      }
    }
    from = Math.max(from, x);
  }
  for (const x of beyond) {
    const X = items.at(x);
    const r = finiteNumbers(X.reference);
    const p = finiteNumbers(X.port);
    if (r && p && r.length === 1 && p.length === 1) {
      const d = offsetBy(p[0]! - r[0]!, closenessOf(X), upstream(scalars, x).slice(-MAX_SCALARS).filter((s) => LIKELY.test(s.name)));
      if (d) add(X, d);
      continue;
    }
    if (!r || !p || r.length < 2 || r.length > 4 || X.labels) continue;
    const delta = p.map((v, i) => v - r[i]!);
    const size = norm(delta);
    const noise = closenessOf(X);
    if (size < MIN_SIGNAL * noise || size === 0) continue;
    const tol = Math.max(noise, 1e-9 * size);
    // A difference along the value itself is a scale factor, not a shift (diagnose.ts says so).
    const nr = norm(r);
    if (nr > 0 && perpendicular(delta, r.map((v) => v / nr)) <= tol) continue;
    const dirs = distinctDirections(upstream(vectors, x).filter((v) => v.v.length === r.length));
    const near = upstream(scalars, x).slice(-MAX_SCALARS);
    const d = parallelTo(delta, size, tol, dirs, near) ?? inPlaneOf(delta, tol, dirs, near);
    if (d) add(X, d);
  }
}

/** The candidates (in index order) traced in the window before item x. */
function upstream<T extends { index: number }>(list: T[], x: number): T[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.index < x - WINDOW) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < list.length && list[end]!.index < x) end++;
  return list.slice(lo, end);
}

function pushScalar(out: Scalar[], index: number, name: string, value: number): void {
  if (value !== 0) out.push({ index, name, value });
}

function perpendicular(delta: number[], unit: number[]): number {
  const c = dot(delta, unit);
  return norm(delta.map((x, i) => x - c * unit[i]!));
}

/** One candidate per direction, the nearest upstream one (it is the one the port just used). */
function distinctDirections(vs: Direction[]): Direction[] {
  const out: Direction[] = [];
  for (let k = vs.length - 1; k >= 0 && out.length < MAX_CANDIDATES; k--) {
    const v = vs[k]!;
    if (out.some((o) => Math.abs(Math.abs(dot(o.unit, v.unit)) - 1) < 1e-9)) continue;
    out.push(v);
  }
  return out;
}

/** The traced scalar (times a simple fraction and a unit power of ten) that a length equals. */
function fitScalar(c: number, noise: number, scalars: Scalar[]): Fit | undefined {
  const close = Math.max(1e-6, noise / Math.abs(c));
  if (close > 1e-3) return undefined;
  const nearestFirst = [...scalars].reverse();
  const ordered = [...nearestFirst.filter((s) => LIKELY.test(s.name)), ...nearestFirst.filter((s) => !LIKELY.test(s.name))];
  for (const [k, unit, named] of POWERS) {
    for (const q of FRACTIONS) {
      for (const s of ordered) {
        if (!named.test(s.name)) continue;
        const target = q * s.value * 10 ** k;
        const sign = Math.sign(c) * Math.sign(target);
        if (Math.abs(c - sign * target) > close * Math.abs(c)) continue;
        const coefficient = sign * q;
        return { text: `${coefficient < 0 ? '−' : ''}${formatNumber(Math.abs(coefficient), 4)} × ${s.name}${unit}`, index: s.index, coefficient };
      }
    }
  }
  return undefined;
}

/**
 * A scalar off by a traced size (Fbeam_m without its half pixel): only sizes whose name says so
 * are tried, since a scalar difference has no direction to pin it down.
 */
function offsetBy(delta: number, noise: number, scalars: Scalar[]): Diagnosis | undefined {
  if (delta === 0 || Math.abs(delta) < MIN_SIGNAL * noise) return undefined;
  const fit = fitScalar(delta, noise, scalars);
  if (!fit) return undefined;
  return { kind: 'shift', message: `Δ = ${fit.text}`, related: [fit.index], ratio: Number(fit.coefficient.toPrecision(6)) };
}

function parallelTo(delta: number[], size: number, tol: number, dirs: Direction[], scalars: Scalar[]): Diagnosis | undefined {
  for (const v of dirs) {
    const c = dot(delta, v.unit);
    const off = perpendicular(delta, v.unit);
    if (off > tol) continue;
    const isUnit = Math.abs(v.norm - 1) < 1e-6;
    const along = isUnit ? c : c / v.norm; // a length along a unit vector, else a multiple of the vector
    const fit = isUnit ? fitScalar(along, tol, scalars) : undefined;
    const how = fit ? `${fit.text} along ${v.name}` : isUnit ? `${formatNumber(along, 4)} along ${v.name}` : `${formatNumber(along, 4)} × ${v.name}`;
    return {
      kind: 'shift',
      message: `Δ ∥ ${v.name}${axisGloss(v.name)}: Δ = ${how} (|Δ| ${formatNumber(size, 3)}; the part off that direction is ${formatNumber((100 * off) / size, 2)} % of it)`,
      related: fit ? [v.index, fit.index] : [v.index],
      ratio: Number(along.toPrecision(6)),
    };
  }
  return undefined;
}

/** Δ = a·v1 + b·v2 for two traced unit vectors, claimed only when both a and b are traced scalars. */
function inPlaneOf(delta: number[], tol: number, dirs: Direction[], scalars: Scalar[]): Diagnosis | undefined {
  const units = dirs.filter((v) => Math.abs(v.norm - 1) < 1e-6);
  for (let i = 0; i < units.length; i++) {
    for (let j = i + 1; j < units.length; j++) {
      const v1 = units[i]!;
      const v2 = units[j]!;
      const c12 = dot(v1.unit, v2.unit);
      if (Math.abs(c12) > 0.99) continue;
      const d1 = dot(delta, v1.unit);
      const d2 = dot(delta, v2.unit);
      const det = 1 - c12 * c12;
      const a = (d1 - c12 * d2) / det;
      const b = (d2 - c12 * d1) / det;
      const residual = norm(delta.map((x, k) => x - a * v1.unit[k]! - b * v2.unit[k]!));
      if (residual > tol || Math.abs(a) <= tol || Math.abs(b) <= tol) continue;
      const fa = fitScalar(a, tol, scalars);
      const fb = fitScalar(b, tol, scalars);
      if (!fa || !fb) continue;
      // The earlier-listed vector first, as the trace prints them.
      const [first, second] = v1.index < v2.index ? [[fa, v1], [fb, v2]] as const : [[fb, v2], [fa, v1]] as const;
      return {
        kind: 'shift',
        message: `Δ = ${first[0].text} along ${first[1].name}${axisGloss(first[1].name)} and ${second[0].text} along ${second[1].name}${axisGloss(second[1].name)}`,
        related: [first[1].index, second[1].index, first[0].index, second[0].index],
      };
    }
  }
  return undefined;
}
