// The crystal: cell vectors from lengths and angles, their rotation about the
// spindle, fractional Miller indices and the lattice factor of a
// parallelepiped crystal. Knows nothing of the detector.

import { cross, dot, length, rotateAbout, scale, vec3, withLength, type Round, type Vec3 } from './vector.js';

export interface Crystal {
  /** real-space cell vectors in metres at phi = 0 */
  readonly a: Vec3;
  readonly b: Vec3;
  readonly c: Vec3;
  /** reciprocal cell vectors in 1/angstrom */
  readonly aStar: Vec3;
  readonly bStar: Vec3;
  readonly cStar: Vec3;
  readonly aLengthM: number;
  readonly bLengthM: number;
  readonly cLengthM: number;
}

export interface Orientation {
  readonly a: Vec3;
  readonly b: Vec3;
  readonly c: Vec3;
}

const DBL_MIN = 2.2250738585072014e-308;

/**
 * Reciprocal vectors in the standard orientation (a* along x, b* in the xy
 * plane), real vectors from their cross products with the cell volume
 * enforced, then reciprocal vectors regenerated from the real ones.
 */
export function buildCrystal(cell: readonly number[], rtd: number, q: Round): Crystal {
  let a = q(cell[0]!);
  let b = q(cell[1]!);
  let c = q(cell[2]!);
  let alpha = q(cell[3]! / rtd);
  let beta = q(cell[4]! / rtd);
  let gamma = q(cell[5]! / rtd);
  if (b <= 0) b = a;
  if (c <= 0) c = a;
  const right = q(Math.PI / 2);
  if (alpha <= 0) alpha = right;
  if (beta <= 0) beta = right;
  if (gamma <= 0) gamma = right;
  const sin = (x: number): number => q(Math.sin(x));
  const cos = (x: number): number => q(Math.cos(x));

  const halfSum = q(q(q(alpha + beta) + gamma) / 2);
  let skew = q(q(q(sin(halfSum) * sin(q(halfSum - alpha))) * sin(q(halfSum - beta))) * sin(q(halfSum - gamma)));
  if (skew < 0) skew = -skew;
  let Vcell = q(q(q(q(2 * a) * b) * c) * q(Math.sqrt(skew)));
  if (Vcell <= 0) Vcell = DBL_MIN;
  let Vstar = q(1 / Vcell);

  const asLen = Math.abs(q(q(q(b * c) * sin(alpha)) * Vstar));
  const bsLen = Math.abs(q(q(q(c * a) * sin(beta)) * Vstar));
  const csLen = Math.abs(q(q(q(a * b) * sin(gamma)) * Vstar));

  let sinGs = q(q(q(c * Vstar) / asLen) / bsLen);
  let cosAs = q(q(q(cos(beta) * cos(gamma)) - cos(alpha)) / q(sin(beta) * sin(gamma)));
  let cosBs = q(q(q(cos(gamma) * cos(alpha)) - cos(beta)) / q(sin(gamma) * sin(alpha)));
  let cosGs = q(q(q(cos(alpha) * cos(beta)) - cos(gamma)) / q(sin(alpha) * sin(beta)));
  if (sinGs > 1) sinGs = 1;
  if (sinGs < -1) sinGs = -1;
  // nanoBragg clamps an out-of-range cosine to +1 whatever its sign
  if (q(cosAs * cosAs) > 1) cosAs = 1;
  if (q(cosBs * cosBs) > 1) cosBs = 1;
  if (q(cosGs * cosGs) > 1) cosGs = 1;

  const as0 = vec3(asLen, 0, 0);
  const bs0 = vec3(q(bsLen * cosGs), q(bsLen * sinGs), 0);
  const cs0 = vec3(
    q(csLen * cosBs),
    q(q(csLen * q(cosAs - q(cosBs * cosGs))) / sinGs),
    q(q(csLen * Vcell) / q(q(q(a * b) * c) * sinGs)),
  );

  // b* x c* must have length a/V (and cyclically) for the requested cell to hold
  const bsXcs = withLength(cross(bs0, cs0, q), q(a / Vcell), q);
  const csXas = withLength(cross(cs0, as0, q), q(b / Vcell), q);
  const asXbs = withLength(cross(as0, bs0, q), q(c / Vcell), q);
  Vstar = q(1 / Vcell);
  Vcell = q(1 / Vstar);

  const ra = scale(bsXcs, Vcell, q);
  const rb = scale(csXas, Vcell, q);
  const rc = scale(asXbs, Vcell, q);

  const metre = q(1e-10);
  const aM = scale(ra, metre, q);
  const bM = scale(rb, metre, q);
  const cM = scale(rc, metre, q);
  return {
    a: aM,
    b: bM,
    c: cM,
    aStar: scale(cross(rb, rc, q), Vstar, q),
    bStar: scale(cross(rc, ra, q), Vstar, q),
    cStar: scale(cross(ra, rb, q), Vstar, q),
    aLengthM: length(aM, q),
    bLengthM: length(bM, q),
    cLengthM: length(cM, q),
  };
}

export function rotateCrystal(crystal: Crystal, spindle: Vec3, phi: number, q: Round): Orientation {
  return {
    a: rotateAbout(crystal.a, spindle, phi, q),
    b: rotateAbout(crystal.b, spindle, phi, q),
    c: rotateAbout(crystal.c, spindle, phi, q),
  };
}

/**
 * nanoBragg only re-rotates the working orientation when phi != 0, so a phi
 * step at exactly 0 keeps whatever the previous pass over the phi steps (the
 * previous pixel, sub-pixel or source) left behind. This is that pass.
 */
export function sweepOrientation(
  start: Orientation,
  crystal: Crystal,
  spindle: Vec3,
  phiAt: (tic: number) => number,
  phisteps: number,
  q: Round,
): Orientation {
  let orientation = start;
  for (let tic = 0; tic < phisteps; tic++) {
    const phi = phiAt(tic);
    if (phi !== 0) orientation = rotateCrystal(crystal, spindle, phi, q);
  }
  return orientation;
}

/** Fractional Miller indices: the cell vectors (m) dotted with the scattering vector (1/m). */
export function millerIndices(o: Orientation, scattering: Vec3, q: Round): [number, number, number] {
  return [dot(o.a, scattering, q), dot(o.b, scattering, q), dot(o.c, scattering, q)];
}

/** Lattice transform of N unit cells along one axis: sin(N x)/sin(x), N at x = 0. */
export function sincg(x: number, N: number, q: Round): number {
  if (x === 0) return N;
  return q(q(Math.sin(q(x * N))) / q(Math.sin(x)));
}

export interface LatticeFactors {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly total: number;
}

/** Lattice factor of a parallelepiped of Na x Nb x Nc cells; an axis one cell wide contributes 1. */
export function latticeFactors(
  hkl: readonly [number, number, number],
  N: readonly [number, number, number],
  q: Round,
): LatticeFactors {
  const pi = q(Math.PI);
  let total = 1;
  const along = (index: number, cells: number): number => {
    if (!(cells > 1)) return 1;
    const factor = sincg(q(pi * index), cells, q);
    total = q(total * factor);
    return factor;
  };
  const a = along(hkl[0], N[0]);
  const b = along(hkl[1], N[1]);
  const c = along(hkl[2], N[2]);
  return { a, b, c, total };
}
