// Explains a disagreement between a reference value and a port value when the numbers support an
// explanation: a unit factor (1e10 m↔Å, 1e3 mm↔m, 180/π rad↔deg, 2π), a simple scale factor (the
// port divides by 2 where the reference divides by 4), a sign flip, a permutation of components
// (axis conventions, a transposed matrix), agreement to single precision (a float32 port),
// nan/inf on one side, or one side that is all zeros (a placeholder).
// Pure functions over component arrays; knows nothing about traces, keys, files or statuses.
import type { Num } from './record.js';

export type DiagnosisKind =
  | 'non-finite'
  | 'zero-side'
  | 'unit-factor'
  | 'scale-factor'
  | 'sign-flip'
  | 'permutation'
  | 'single-precision'
  | 'shape-mismatch'
  | 'kind-mismatch'
  | 'string-mismatch';

export interface Diagnosis {
  kind: DiagnosisKind;
  /** One sentence a person can act on. */
  message: string;
  /** port / reference, when one ratio holds for every significant component. */
  ratio?: number;
  /** unit-factor: the power of ten k with ratio ≈ ±10^k, when the factor is a power of ten. */
  power?: number;
  /** unit-factor: the unit pair the factor usually means, e.g. 'm ↔ Å'. */
  units?: string;
  /** Component indices concerned (sign flips, non-finite values, single-precision check). */
  components?: number[];
  /** permutation: port component i equals sign[i] × reference component map[i]. */
  map?: number[];
  signs?: number[];
}

export type Component = Num | string;

/** Tolerance used to decide that two numbers are "the same" while testing a hypothesis. */
export interface DiagnoseOptions {
  /** Relative closeness, applied to the record's magnitude. Default 1e-6 (single-precision-ish). */
  rel?: number;
  abs?: number;
  /** matrix shape, to recognise a transpose. */
  shape?: [number, number];
  /** Component labels (parts such as `X:… Y:…`), used in messages. */
  labels?: string[];
}

const INT_SENTINELS = new Set([-2147483648, -9223372036854775808]);

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The number a component stands for, or undefined for a genuine string. */
export function componentNumber(v: Component): number | undefined {
  if (typeof v === 'number') return v;
  return v in NON_FINITE ? NON_FINITE[v] : undefined;
}

/** Distance between adjacent float32 values near |x| (x ≠ 0), i.e. one unit in the last place. */
export function ulp32(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return 2 ** -149;
  const e = Math.max(Math.floor(Math.log2(a)), -126);
  return 2 ** (e - 23);
}

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

interface UnitFactor {
  power?: number;
  value: number;
  units: string;
}

// Powers of ten that mean a unit conversion in the quantities traced (SI versus crystallographic).
const POWER_UNITS: Record<number, string> = {
  1: 'nm ↔ Å (or a missing/extra factor of 10)',
  2: 'cm ↔ m (or percent)',
  3: 'mm ↔ m',
  6: 'µm ↔ m (or mm² ↔ m²)',
  7: 'mm ↔ Å',
  9: 'nm ↔ m',
  10: 'm ↔ Å (1 Å = 1e-10 m; also m⁻¹ ↔ Å⁻¹)',
  20: 'm² ↔ Å²',
  30: 'm³ ↔ Å³',
};

const NAMED_FACTORS: UnitFactor[] = [
  { value: 180 / Math.PI, units: 'rad ↔ deg (×57.29578)' },
  { value: 2 * Math.PI, units: '2π (cycles ↔ radians, or k = 1/λ versus k = 2π/λ)' },
];

const FACTOR_CLOSENESS = 1e-4;

function near(x: number, target: number, rel = FACTOR_CLOSENESS): boolean {
  return Math.abs(x - target) <= rel * Math.abs(target);
}

/** Names the unit conversion a magnitude ratio stands for, if any (|ratio| ≈ 10^k, 180/π, 2π, or inverses). */
export function unitFactorOf(ratio: number): UnitFactor | undefined {
  const m = Math.abs(ratio);
  if (!Number.isFinite(m) || m === 0) return undefined;
  const k = Math.round(Math.log10(m));
  if (k !== 0 && near(m, 10 ** k)) {
    const units = POWER_UNITS[Math.abs(k)] ?? `a power of ten (1e${Math.abs(k)})`;
    return { power: k, value: 10 ** k, units };
  }
  for (const f of NAMED_FACTORS) {
    if (near(m, f.value) || near(m, 1 / f.value)) return { value: near(m, f.value) ? f.value : 1 / f.value, units: f.units };
  }
  return undefined;
}

/** A simple fraction p/q (1 ≤ p,q ≤ 8, not 1) that |ratio| equals, e.g. 0.5 → [1, 2]. */
export function simpleFraction(ratio: number, rel = 1e-9): [number, number] | undefined {
  const m = Math.abs(ratio);
  if (!Number.isFinite(m) || m === 0) return undefined;
  for (let q = 1; q <= 8; q++) {
    for (let p = 1; p <= 8; p++) {
      if (p === q || gcd(p, q) !== 1) continue;
      if (near(m, p / q, rel)) return [p, q];
    }
  }
  return undefined;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(7))) : x.toExponential(6).replace(/\.?0+e/, 'e');
}

function list(ix: number[]): string {
  return ix.join(', ');
}

function describeNonFinite(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/**
 * Every explanation the numbers support, most specific first. `reference` and `port` are the
 * components of one compared item (a scalar is a one-element array). Returns [] when nothing fits
 * (the caller reports the plain deltas then).
 */
export function diagnose(reference: Component[], port: Component[], options: DiagnoseOptions = {}): Diagnosis[] {
  if (reference.length !== port.length) {
    return [
      {
        kind: 'shape-mismatch',
        message: `reference has ${reference.length} component(s), port ${port.length}`,
      },
    ];
  }
  const n = reference.length;
  const r: number[] = new Array(n);
  const p: number[] = new Array(n);
  const stringDiffs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = componentNumber(reference[i]);
    const b = componentNumber(port[i]);
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
    const fa = Number.isFinite(r[i]);
    const fb = Number.isFinite(p[i]);
    if (fa && fb) continue;
    const same = (Number.isNaN(r[i]) && Number.isNaN(p[i])) || r[i] === p[i];
    if (!same) nonFinite.push(i);
  }
  if (nonFinite.length) {
    const parts = nonFinite.map((i) => {
      const side = !Number.isFinite(r[i]) && Number.isFinite(p[i]) ? 'reference' : Number.isFinite(r[i]) ? 'port' : 'both';
      return side === 'both'
        ? `component ${i}: ${describeNonFinite(r[i])} vs ${describeNonFinite(p[i])}`
        : `component ${i}: ${side} ${describeNonFinite(side === 'reference' ? r[i] : p[i])}`;
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
  for (let i = 0; i < n; i++) {
    normR = Math.max(normR, Math.abs(r[i]));
    normP = Math.max(normP, Math.abs(p[i]));
  }
  const scale = Math.max(normR, normP);
  if (scale === 0) return out;
  const relTol = Math.max(options.rel ?? 1e-6, 1e-12);
  const absTol = options.abs ?? 0;
  const same = (a: number, b: number, s: number) => Math.abs(a - b) <= Math.max(absTol, relTol * s);

  // C converts nan/inf to int as INT_MIN (x86): `hkl_rounded -2147483648` is a nan in disguise.
  const intMin: number[] = [];
  for (let i = 0; i < n; i++) if (INT_SENTINELS.has(r[i]) !== INT_SENTINELS.has(p[i])) intMin.push(i);
  if (intMin.length) {
    out.push({
      kind: 'non-finite',
      message:
        `component(s) ${list(intMin)} hold ${intMin.map((i) => (INT_SENTINELS.has(r[i]) ? r[i] : p[i])).join(', ')} on one side:` +
        ' the integer C produces when converting nan/inf (so a nan/inf upstream)',
      components: intMin,
    });
  }

  if ((normR === 0) !== (normP === 0)) {
    const side = normR === 0 ? 'reference' : 'port';
    out.push({
      kind: 'zero-side',
      message: `the ${side} is all zeros while the other side is not (a placeholder, a skipped computation, or a value never set)`,
    });
    return out;
  }

  // One ratio for every significant component: a unit or scale factor (or a whole-vector sign flip).
  const ratio = commonRatio(r, p, normR, normP);
  if (ratio !== undefined) {
    const unit = unitFactorOf(ratio);
    const sign = ratio < 0 ? ' with the sign flipped' : '';
    if (unit) {
      const big = Math.abs(ratio) > 1 ? 'port' : 'reference';
      const factor = Math.abs(ratio) > 1 ? Math.abs(ratio) : 1 / Math.abs(ratio);
      out.push({
        kind: 'unit-factor',
        message:
          `port = reference × ${fmt(ratio)}${sign}: the ${big} is ${fmt(factor)} times larger` +
          ` — ${unit.units}`,
        ratio,
        ...(unit.power !== undefined ? { power: unit.power } : {}),
        units: unit.units,
      });
    } else if (near(Math.abs(ratio), 1, relTol)) {
      if (ratio < 0) {
        out.push({
          kind: 'sign-flip',
          message: n === 1 ? 'sign flipped: port = −reference' : 'every component has the opposite sign (port = −reference)',
          ratio,
          components: [...Array(n).keys()].filter((i) => r[i] !== 0),
        });
      }
    } else {
      const frac = simpleFraction(ratio, 1e-6);
      if (frac) {
        const [num, den] = frac;
        const text = den === 1 ? `${num}` : `${num}/${den}`;
        const inverse = num === 1 ? `${den}` : `${den}/${num}`;
        out.push({
          kind: 'scale-factor',
          message: `port = reference × ${text}${sign} (reference = port × ${inverse}): a count or normalisation differs`,
          ratio,
        });
      } else if (significantCount(r, normR) >= 2) {
        out.push({
          kind: 'scale-factor',
          message: `every component is scaled by the same factor: port = reference × ${fmt(ratio)}`,
          ratio,
        });
      }
    }
  }

  // Some components off by one unit factor, the others equal (`X:1.02e-4 Y:1.02e-4 pixel_mm:0.05`
  // against `X:0.102 Y:0.102 pixel_mm:0.05`: two lengths printed in other units).
  let partial: Diagnosis | undefined;
  if (n >= 2 && ratio === undefined) {
    partial = partialUnitFactor(r, p, (a, b) => same(a, b, scale), options.labels);
    if (partial) out.push(partial);
  }

  // Signed permutation of components: axis conventions, swapped axes, transposed matrices.
  if (n >= 2 && n <= 16 && ratio === undefined && !partial) {
    const found = signedPermutation(r, p, (a, b) => same(a, b, scale));
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
        const desc = map.map((j, i) => `${i}←${signs[i] < 0 ? '−' : ''}${j}`).join(' ');
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

  // Single precision: every component within a few float32 ulps of the record's magnitude.
  let f32 = true;
  let anyDiff = false;
  for (let i = 0; i < n && f32; i++) {
    if (r[i] !== p[i]) anyDiff = true;
    if (!agreesInFloat32(r[i], p[i], scale)) f32 = false;
  }
  if (f32 && anyDiff) {
    out.push({
      kind: 'single-precision',
      message: 'agrees to single precision (within 4 float32 ulps): the port (or the reference) likely computes in float32',
    });
  }
  return out;
}

function partialUnitFactor(
  r: number[],
  p: number[],
  same: (a: number, b: number) => boolean,
  labels: string[] | undefined,
): Diagnosis | undefined {
  const off: number[] = [];
  let factor: number | undefined;
  for (let i = 0; i < r.length; i++) {
    if (same(r[i], p[i])) continue;
    if (r[i] === 0) return undefined;
    const q = p[i] / r[i];
    if (factor === undefined) {
      if (!unitFactorOf(q)) return undefined;
      factor = q;
    } else if (!near(q, factor, 1e-4)) return undefined;
    off.push(i);
  }
  if (factor === undefined || off.length === r.length) return undefined;
  const unit = unitFactorOf(factor)!;
  const names = off.map((i) => (labels?.[i] !== undefined ? `${i} (${labels[i]})` : String(i))).join(', ');
  return {
    kind: 'unit-factor',
    message: `component(s) ${names}: port = reference × ${fmt(factor)} — ${unit.units}; the other components agree`,
    ratio: factor,
    ...(unit.power !== undefined ? { power: unit.power } : {}),
    units: unit.units,
    components: off,
  };
}

function significantCount(v: number[], norm: number): number {
  let c = 0;
  for (const x of v) if (Math.abs(x) > 1e-9 * norm) c++;
  return c;
}

/**
 * The ratio port/reference shared by every component that is significant on either side
 * (components tiny on both sides, relative to each side's own magnitude, are round-off and skipped).
 * Undefined when the components disagree about the ratio.
 */
function commonRatio(r: number[], p: number[], normR: number, normP: number): number | undefined {
  let ratio: number | undefined;
  const tiny = 1e-9;
  for (let i = 0; i < r.length; i++) {
    const sr = Math.abs(r[i]) > tiny * normR;
    const sp = Math.abs(p[i]) > tiny * normP;
    if (!sr && !sp) continue;
    if (sr !== sp) return undefined;
    const q = p[i] / r[i];
    if (ratio === undefined) ratio = q;
    else if (!near(q, ratio, 1e-4)) return undefined;
  }
  return ratio;
}

/** A bijection map with signs such that p[i] ≈ signs[i]·r[map[i]], preferring identity and +1. */
function signedPermutation(
  r: number[],
  p: number[],
  same: (a: number, b: number) => boolean,
): { map: number[]; signs: number[] } | undefined {
  const n = r.length;
  const candidates: Array<Array<[number, number]>> = [];
  for (let i = 0; i < n; i++) {
    const c: Array<[number, number]> = [];
    const order = [i, ...[...Array(n).keys()].filter((j) => j !== i)];
    for (const j of order) {
      if (same(p[i], r[j])) c.push([j, 1]);
      else if (same(p[i], -r[j])) c.push([j, -1]);
    }
    if (!c.length) return undefined;
    candidates.push(c);
  }
  const map = new Array<number>(n);
  const signs = new Array<number>(n);
  const used = new Array<boolean>(n).fill(false);
  let steps = 0;
  const search = (i: number): boolean => {
    if (i === n) return true;
    if (++steps > 10_000) return false;
    for (const [j, s] of candidates[i]) {
      if (used[j]) continue;
      used[j] = true;
      map[i] = j;
      signs[i] = s;
      if (search(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return search(0) ? { map, signs } : undefined;
}

function isTranspose(map: number[], [rows, cols]: [number, number]): boolean {
  if (rows !== cols || rows * cols !== map.length) return false;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (map[i * cols + j] !== j * rows + i) return false;
  return true;
}

/**
 * A value that a float32 computation could have printed: a float32 number written with 15 or more
 * significant digits reads back within ~1e-16 of that float32; a double result almost never does.
 * Integers and zero are excluded (every precision represents them), so they prove nothing.
 */
export function isTellingFloat32(x: number): boolean {
  return Number.isFinite(x) && !Number.isInteger(x) && Math.abs(Math.fround(x) - x) <= Math.abs(x) * 1e-14;
}

/** Share of the telling (non-integer, finite) numbers of a trace that are float32 values. */
export function float32Share(values: Iterable<number>): { float32: number; telling: number } {
  let float32 = 0;
  let telling = 0;
  for (const v of values) {
    if (!Number.isFinite(v) || Number.isInteger(v)) continue;
    telling++;
    if (isTellingFloat32(v)) float32++;
  }
  return { float32, telling };
}

/**
 * The trace-level single-precision diagnosis: the port prints only float32 values, so differences
 * beyond a few float32 ulps are float32 round-off amplified by the computation (cancellation,
 * steep functions such as the lattice factor), not a logic error.
 */
export function float32TraceDiagnosis(share: { float32: number; telling: number }): Diagnosis {
  return {
    kind: 'single-precision',
    message: `the port computes in single precision: ${share.float32} of its ${share.telling} non-integer values are exactly float32 numbers, so this difference is float32 round-off carried through the computation`,
  };
}
