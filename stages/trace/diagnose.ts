// Explains one item's disagreement when its numbers support an explanation, and only then, saying
// how well: round-off (within the budget of precision.ts; called single precision only when the
// less precise side is float32), a unit factor (1e10 m ↔ Å, 1e3 mm ↔ m, 180/π rad ↔ deg, 2π),
// exact or with a residual, a simple scale factor (the port divides by 2 where the reference
// divides by 4), a sign flip, a permutation of components (axis conventions, a transposed matrix),
// nan/inf on one side, or one side that is all zeros (a placeholder). A ratio is claimed only when
// it explains every component to within round-off; a unit factor with a residual only when the
// residual is small and stated. Relations between items (carry-over, a shift along another traced
// vector, a product of other ratios) are in relations.ts.
// Pure functions over component arrays; knows nothing about traces, keys, files or statuses.
import type { Component, Diagnosis } from './comparison.js';
import { componentNumber } from './components.js';
import { budgetAt, BUDGET_ULPS, FLOAT32, FLOAT64, isTellingFloat32, precisionLabel, ulp32, ulpIn, type Precision } from './precision.js';
import { formatNumber, unitFactorOf, simpleFraction, nearFactor } from './factors.js';
import { isTranspose, signedPermutation } from './permutation.js';

export type { Component, Diagnosis, DiagnosisKind } from './comparison.js';
export { componentNumber } from './components.js';
export { ulp32 } from './precision.js';
export { simpleFraction, unitFactorOf } from './factors.js';

export interface DiagnoseOptions {
  /** Absolute tolerance: differences below it are the same value. */
  abs?: number;
  /** The item's round-off budget (absolute, per component); default from `precision`. */
  budget?: number;
  /** The less precise side's precision; default: float32 when one side prints only float32 values. */
  precision?: Precision;
  /** matrix shape, to recognise a transpose. */
  shape?: [number, number];
  /** Component labels (parts such as `X:… Y:…`), used in messages. */
  labels?: string[];
}

const INT_SENTINELS = new Set([-2147483648, -9223372036854775808]);

/**
 * Largest residual, as a share of the vector's magnitude, with which a unit factor is still named.
 * Vectors only: every component must agree on the factor, which a coincidence rarely does; a
 * scalar's ratio is named only when it is the factor to 1e-4 (factors.ts).
 */
const UNIT_RESIDUAL = 0.01;

/**
 * True when `a` and `b` agree to single precision: they round to the same float32, or differ by at
 * most `ulps` float32 ulps of `scale` (the magnitude of the whole vector, so that round-off zeros
 * in a vector of size 100 are not judged against their own tiny magnitude).
 */
export function agreesInFloat32(a: number, b: number, scale = Math.max(Math.abs(a), Math.abs(b)), ulps = 4): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  if (Math.fround(a) === Math.fround(b)) return true;
  return Math.abs(a - b) <= ulps * ulp32(scale || Math.max(Math.abs(a), Math.abs(b)));
}

function list(ix: number[]): string {
  return ix.join(', ');
}

function describeNonFinite(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

function percent(x: number): string {
  const p = x * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : Number(p.toPrecision(2))} %`;
}

/** float32 when either side's telling components are all float32 values: a standalone guess. */
function inferredPrecision(r: number[], p: number[]): Precision {
  const all32 = (v: number[]) => {
    let seen = false;
    for (const x of v) {
      if (!Number.isFinite(x) || Number.isInteger(x)) continue;
      if (!isTellingFloat32(x)) return false;
      seen = true;
    }
    return seen;
  };
  return all32(r) || all32(p) ? FLOAT32 : FLOAT64;
}

/** The round-off diagnosis of an item whose every difference fits the budget. */
export function roundOffDiagnosis(maxDelta: number, scale: number, precision: Precision): Diagnosis {
  const ulps = maxDelta / ulpIn(scale, precision);
  const shown = ulps < 10 ? Number(ulps.toFixed(1)) : Math.round(ulps);
  const label = precisionLabel(precision);
  return precision.type === 'float32'
    ? {
        kind: 'single-precision',
        message: `within float32 round-off: the largest difference is ${shown} float32 ulps of the value's magnitude (budget ${BUDGET_ULPS})`,
        ulps: shown,
        budgetUlps: BUDGET_ULPS,
      }
    : {
        kind: 'round-off',
        message: `within ${label} round-off: the largest difference is ${shown} ulps of the value's magnitude in ${label} (budget ${BUDGET_ULPS})`,
        ulps: shown,
        budgetUlps: BUDGET_ULPS,
      };
}

/**
 * Every explanation the numbers support, most specific first. `reference` and `port` are the
 * components of one compared item (a scalar is a one-element array). Returns [] when nothing fits
 * (the caller then says so plainly and shows the deltas).
 */
export function diagnose(reference: Component[], port: Component[], options: DiagnoseOptions = {}): Diagnosis[] {
  if (reference.length !== port.length) {
    return [{ kind: 'shape-mismatch', message: `reference has ${reference.length} component(s), port ${port.length}` }];
  }
  const n = reference.length;
  const r: number[] = new Array(n);
  const p: number[] = new Array(n);
  const stringDiffs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = componentNumber(reference[i]!);
    const b = componentNumber(port[i]!);
    if ((a === undefined) !== (b === undefined)) {
      const str = a === undefined ? 'reference' : 'port';
      return [
        {
          kind: 'kind-mismatch',
          message: `component ${i}: the ${str} prints text (${JSON.stringify(a === undefined ? reference[i] : port[i])}) where the other side prints a number`,
          components: [i],
        },
      ];
    }
    if (a === undefined || b === undefined) {
      if (reference[i] !== port[i]) stringDiffs.push(i);
      r[i] = 0;
      p[i] = 0;
    } else {
      r[i] = a;
      p[i] = b;
    }
  }
  const out: Diagnosis[] = [];
  if (stringDiffs.length) {
    out.push({
      kind: 'string-mismatch',
      message: stringDiffs.map((i) => `${JSON.stringify(reference[i])} ≠ ${JSON.stringify(port[i])}`).join('; '),
      components: stringDiffs,
    });
  }

  // nan/inf on one side (or different non-finite values) dominates everything else.
  const nonFinite: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(r[i]!) && Number.isFinite(p[i]!)) continue;
    const same = (Number.isNaN(r[i]!) && Number.isNaN(p[i]!)) || r[i] === p[i];
    if (!same) nonFinite.push(i);
  }
  if (nonFinite.length) {
    const parts = nonFinite.map((i) => {
      const side = !Number.isFinite(r[i]!) && Number.isFinite(p[i]!) ? 'reference' : Number.isFinite(r[i]!) ? 'port' : 'both';
      return side === 'both'
        ? `component ${i}: ${describeNonFinite(r[i]!)} vs ${describeNonFinite(p[i]!)}`
        : `component ${i}: ${side} ${describeNonFinite(side === 'reference' ? r[i]! : p[i]!)}`;
    });
    out.push({
      kind: 'non-finite',
      message: `nan/inf on one side — ${parts.join('; ')} (a division by zero or an uninitialised/placeholder input upstream)`,
      components: nonFinite,
    });
    return out;
  }

  let normR = 0;
  let normP = 0;
  let maxDelta = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(r[i]!) || !Number.isFinite(p[i]!)) continue;
    normR = Math.max(normR, Math.abs(r[i]!));
    normP = Math.max(normP, Math.abs(p[i]!));
    maxDelta = Math.max(maxDelta, Math.abs(p[i]! - r[i]!));
  }
  const scale = Math.max(normR, normP);
  if (scale === 0) return out;
  const precision = options.precision ?? inferredPrecision(r, p);
  const budget = options.budget ?? budgetAt(scale, precision);
  const close = Math.max(budget, options.abs ?? 0);
  const same = (a: number, b: number) => Math.abs(a - b) <= close;

  if (maxDelta > 0 && maxDelta <= budget && !stringDiffs.length) {
    out.push(roundOffDiagnosis(maxDelta, scale, precision));
    return out;
  }

  // C converts nan/inf to int as INT_MIN (x86): `hkl_rounded -2147483648` is a nan in disguise.
  const intMin: number[] = [];
  for (let i = 0; i < n; i++) if (INT_SENTINELS.has(r[i]!) !== INT_SENTINELS.has(p[i]!)) intMin.push(i);
  if (intMin.length) {
    out.push({
      kind: 'non-finite',
      message:
        `component(s) ${list(intMin)} hold ${intMin.map((i) => (INT_SENTINELS.has(r[i]!) ? r[i] : p[i])).join(', ')} on one side:` +
        ' the integer C produces when converting nan/inf (so a nan/inf upstream)',
      components: intMin,
    });
  }

  if ((normR === 0) !== (normP === 0)) {
    const side = normR === 0 ? 'reference' : 'port';
    out.push({ kind: 'zero-side', message: `the ${side} is all zeros while the other side is not (a placeholder, a skipped computation, or a value never set)` });
    return out;
  }

  const ratio = commonRatio(r, p, close);
  if (ratio !== undefined) {
    const d = ratioDiagnosis(ratio, r, p, n, close);
    if (d) out.push(d);
    return out;
  }

  const residual = unitFactorWithResidual(r, p, normR);
  if (residual) {
    out.push(residual);
    return out;
  }

  // Some components off by one unit factor, the others equal (`X:1.02e-4 Y:1.02e-4 pixel_mm:0.05`
  // against `X:0.102 Y:0.102 pixel_mm:0.05`: two lengths printed in other units).
  if (n >= 2) {
    const partial = partialUnitFactor(r, p, same, options.labels);
    if (partial) {
      out.push(partial);
      return out;
    }
  }

  // Signed permutation of components: axis conventions, swapped axes, transposed matrices.
  if (n >= 2 && n <= 16) {
    const found = signedPermutation(r, p, same);
    if (found) {
      const { map, signs } = found;
      const identity = map.every((j, i) => j === i);
      const flipped = signs.flatMap((s, i) => (s < 0 ? [i] : []));
      if (identity && flipped.length) {
        out.push({
          kind: 'sign-flip',
          message: `component(s) ${list(flipped)} have the opposite sign; the others agree (an axis convention?)`,
          components: flipped,
          map,
          signs,
        });
      } else if (!identity) {
        const transposed = options.shape && isTranspose(map, options.shape);
        const desc = map.map((j, i) => `${i}←${signs[i]! < 0 ? '−' : ''}${j}`).join(' ');
        out.push({
          kind: 'permutation',
          message: transposed
            ? `the matrix is transposed (row-major versus column-major)${flipped.length ? ' with some signs flipped' : ''}`
            : `components are permuted${flipped.length ? ' (with sign flips)' : ''}: port[i] = reference[j] as ${desc}`,
          map,
          signs,
        });
      }
    }
  }
  return out;
}

/** What one ratio shared by every component means, when it means something. */
function ratioDiagnosis(ratio: number, r: number[], p: number[], n: number, close: number): Diagnosis | undefined {
  const unit = unitFactorOf(ratio);
  const sign = ratio < 0 ? ' with the sign flipped' : '';
  if (unit) {
    const big = Math.abs(ratio) > 1 ? 'port' : 'reference';
    const factor = Math.abs(ratio) > 1 ? Math.abs(ratio) : 1 / Math.abs(ratio);
    return {
      kind: 'unit-factor',
      message: `port = reference × ${formatNumber(ratio)}${sign} for every component: the ${big} is ${formatNumber(factor)} times larger — ${unit.units}`,
      ratio,
      ...(unit.power !== undefined ? { power: unit.power } : {}),
      units: unit.units,
    };
  }
  if (Math.abs(Math.abs(ratio) - 1) * Math.max(...r.map(Math.abs)) <= close) {
    if (ratio > 0) return undefined; // the same values: nothing to say
    return {
      kind: 'sign-flip',
      message: n === 1 ? 'sign flipped: port = −reference' : 'every component has the opposite sign (port = −reference)',
      ratio,
      components: [...Array(n).keys()].filter((i) => r[i] !== 0),
    };
  }
  const frac = simpleFraction(ratio, 1e-9) ?? simpleFractionWithin(ratio, r, p, close);
  if (frac) {
    const [num, den] = frac;
    const text = den === 1 ? `${num}` : `${num}/${den}`;
    const inverse = num === 1 ? `${den}` : `${den}/${num}`;
    return {
      kind: 'scale-factor',
      message: `port = reference × ${ratio < 0 ? '−' : ''}${text}${sign} (reference = port × ${inverse}): a count or normalisation differs`,
      ratio,
    };
  }
  if (significantCount(r, close) >= 2) {
    return {
      kind: 'scale-factor',
      message: `every component is scaled by the same factor: port = reference × ${formatNumber(ratio)} (each component within round-off)`,
      ratio,
    };
  }
  return undefined;
}

/** A simple fraction that explains every component to within `close`. */
function simpleFractionWithin(ratio: number, r: number[], p: number[], close: number): [number, number] | undefined {
  const frac = simpleFraction(ratio, 1e-4);
  if (!frac) return undefined;
  const q = Math.sign(ratio) * (frac[0] / frac[1]);
  return r.every((x, i) => deviation(p[i]!, x, q) <= close) ? frac : undefined;
}

/**
 * How far p is from q × r, in the units of the larger side (the budget is measured at the item's
 * magnitude, which is the larger side's): port units when |q| ≥ 1, reference units otherwise.
 */
function deviation(p: number, r: number, q: number): number {
  return Math.abs(p - q * r) / Math.min(1, Math.abs(q));
}

/**
 * A unit factor that explains the vector up to a residual: every significant component's ratio
 * near the same power of ten (or 180/π, 2π), and once divided out, the components differ by at
 * most UNIT_RESIDUAL of the vector's magnitude.
 */
function unitFactorWithResidual(r: number[], p: number[], normR: number): Diagnosis | undefined {
  let lead = -1;
  for (let i = 0; i < r.length; i++) if (lead < 0 || Math.abs(r[i]!) > Math.abs(r[lead]!)) lead = i;
  if (lead < 0 || r[lead] === 0 || p[lead] === 0) return undefined;
  const factor = nearFactor(p[lead]! / r[lead]!, 0.05);
  if (!factor) return undefined;
  const f = factor.value * Math.sign(p[lead]! / r[lead]!);
  let ofMagnitude = 0;
  let worstOwn = 0;
  let significant = 0;
  for (let i = 0; i < r.length; i++) {
    const back = p[i]! / f;
    const d = Math.abs(back - r[i]!);
    ofMagnitude = Math.max(ofMagnitude, d / normR);
    // Each component's own disagreement, floored at a tenth of the magnitude so that a component
    // near zero does not read as a huge percentage.
    worstOwn = Math.max(worstOwn, d / Math.max(Math.abs(r[i]!), 0.1 * normR));
    if (Math.abs(r[i]!) > 1e-3 * normR) significant++;
  }
  if (significant < 2 || ofMagnitude > UNIT_RESIDUAL) return undefined;
  const ratios = r.map((x, i) => (x !== 0 && Math.abs(x) > 1e-3 * normR ? formatNumber(p[i]! / x, 5) : '—'));
  return {
    kind: 'unit-factor',
    message:
      `port ≈ reference × ${formatNumber(f)} — ${factor.units} — with a residual of ${percent(worstOwn)}` +
      (r.length > 1 ? ` (ratios ${ratios.join(', ')}; ${percent(ofMagnitude)} of the magnitude)` : '') +
      ': the unit factor is there, and something else differs too',
    ratio: f,
    ...(factor.power !== undefined ? { power: factor.power } : {}),
    units: factor.units,
    residual: Number(worstOwn.toPrecision(3)),
  };
}

function partialUnitFactor(r: number[], p: number[], same: (a: number, b: number) => boolean, labels: string[] | undefined): Diagnosis | undefined {
  const off: number[] = [];
  let factor: number | undefined;
  for (let i = 0; i < r.length; i++) {
    if (same(r[i]!, p[i]!)) continue;
    if (r[i] === 0) return undefined;
    const q = p[i]! / r[i]!;
    if (factor === undefined) {
      if (!unitFactorOf(q)) return undefined;
      factor = q;
    } else if (Math.abs(q - factor) > 1e-4 * Math.abs(factor)) return undefined;
    off.push(i);
  }
  if (factor === undefined || off.length === r.length) return undefined;
  const unit = unitFactorOf(factor)!;
  const names = off.map((i) => (labels?.[i] !== undefined ? `${i} (${labels[i]})` : String(i))).join(', ');
  return {
    kind: 'unit-factor',
    message: `component(s) ${names}: port = reference × ${formatNumber(factor)} — ${unit.units}; the other components agree`,
    ratio: factor,
    ...(unit.power !== undefined ? { power: unit.power } : {}),
    units: unit.units,
    components: off,
  };
}

function significantCount(v: number[], close: number): number {
  let c = 0;
  for (const x of v) if (Math.abs(x) > close) c++;
  return c;
}

/**
 * The ratio port/reference that explains every component to within `close` (taken from the
 * largest reference component, the best conditioned), or undefined when one ratio does not.
 */
function commonRatio(r: number[], p: number[], close: number): number | undefined {
  let lead = -1;
  for (let i = 0; i < r.length; i++) if (lead < 0 || Math.abs(r[i]!) > Math.abs(r[lead]!)) lead = i;
  if (lead < 0 || r[lead] === 0) return undefined;
  const q = p[lead]! / r[lead]!;
  if (q === 0 || !Number.isFinite(q)) return undefined;
  for (let i = 0; i < r.length; i++) if (deviation(p[i]!, r[i]!, q) > close) return undefined;
  return q;
}
