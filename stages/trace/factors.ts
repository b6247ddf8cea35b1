// Factors that mean something in the quantities traced: powers of ten that are unit conversions
// (SI against crystallographic units), 180/π and 2π, and small fractions (a count or normalisation
// that differs). Also the one number format the diagnoses use. Pure; knows nothing about items.

export interface UnitFactor {
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

/** How close a ratio must be to a factor to be that factor exactly. */
export const FACTOR_CLOSENESS = 1e-4;

function near(x: number, target: number, rel: number): boolean {
  return Math.abs(x - target) <= rel * Math.abs(target);
}

/** The meaningful factor |ratio| lies within `rel` of (10^k with k ≠ 0, 180/π, 2π, or an inverse). */
export function nearFactor(ratio: number, rel: number): UnitFactor | undefined {
  const m = Math.abs(ratio);
  if (!Number.isFinite(m) || m === 0) return undefined;
  const k = Math.round(Math.log10(m));
  if (k !== 0 && near(m, 10 ** k, rel)) {
    const units = POWER_UNITS[Math.abs(k)] ?? `a power of ten (1e${Math.abs(k)})`;
    return { power: k, value: 10 ** k, units };
  }
  for (const f of NAMED_FACTORS) {
    if (near(m, f.value, rel)) return { value: f.value, units: f.units };
    if (near(m, 1 / f.value, rel)) return { value: 1 / f.value, units: f.units };
  }
  return undefined;
}

/** Names the unit conversion a magnitude ratio stands for, if it is one (to FACTOR_CLOSENESS). */
export function unitFactorOf(ratio: number): UnitFactor | undefined {
  return nearFactor(ratio, FACTOR_CLOSENESS);
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

/** A number for a message: up to `digits` significant digits, exponent form outside [1e-3, 1e6). */
export function formatNumber(x: number, digits = 7): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1).replace(/\.?0+e/, 'e');
}
