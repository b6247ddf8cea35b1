// C printf's %g for the port's trace lines, digit for digit.
//
// JavaScript's toPrecision rounds exact ties upwards, glibc rounds them to
// even, so this works from the exact decimal expansion of the double instead
// (every finite double is an integer times a power of two). It knows nothing
// about traces or physics.

const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite, non-zero |x| as integer digits times 10^scale. */
function exactDecimal(abs: number): { digits: string; scale: number } {
  view.setFloat64(0, abs);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  if (exponent >= 0) return { digits: (mantissa << BigInt(exponent)).toString(), scale: 0 };
  // m / 2^k = m * 5^k / 10^k
  return { digits: (mantissa * 5n ** BigInt(-exponent)).toString(), scale: exponent };
}

/** |x| rounded to `precision` significant digits, half to even; `exponent` is that of the first digit. */
function roundSignificant(abs: number, precision: number): { digits: string; exponent: number } {
  const { digits, scale } = exactDecimal(abs);
  let exponent = digits.length - 1 + scale;
  if (digits.length <= precision) return { digits: digits.padEnd(precision, '0'), exponent };
  const kept = digits.slice(0, precision);
  const rest = digits.slice(precision);
  let roundUp: boolean;
  if (rest[0]! > '5') roundUp = true;
  else if (rest[0]! < '5') roundUp = false;
  else if (/[1-9]/.test(rest.slice(1))) roundUp = true;
  else roundUp = Number(kept[kept.length - 1]) % 2 === 1;
  if (!roundUp) return { digits: kept, exponent };
  const bumped = (BigInt(kept) + 1n).toString();
  if (bumped.length > precision) {
    exponent += 1;
    return { digits: bumped.slice(0, precision), exponent };
  }
  return { digits: bumped, exponent };
}

function stripFraction(fraction: string): string {
  return fraction.replace(/0+$/, '');
}

/** printf("%.<precision>g", x) as glibc prints it, including "-0", "inf" and "nan". */
export function formatG(x: number, precision = 15): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const abs = Math.abs(x);
  if (abs === 0) return `${sign}0`;
  const p = Math.max(1, precision);
  const { digits, exponent } = roundSignificant(abs, p);
  if (exponent < -4 || exponent >= p) {
    const fraction = stripFraction(digits.slice(1));
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${digits[0]}${fraction ? '.' + fraction : ''}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent >= 0) {
    const whole = digits.slice(0, exponent + 1);
    const fraction = stripFraction(digits.slice(exponent + 1));
    return `${sign}${whole}${fraction ? '.' + fraction : ''}`;
  }
  const fraction = stripFraction('0'.repeat(-exponent - 1) + digits);
  return `${sign}0.${fraction}`;
}

/** The trace's usual number format, C's %.15g. */
export function formatNumber(x: number): string {
  return formatG(x, 15);
}

/** C's %d for a value the C side holds in an int. */
export function formatInteger(x: number): string {
  const n = Math.trunc(x);
  return Object.is(n, -0) ? '0' : String(n);
}
