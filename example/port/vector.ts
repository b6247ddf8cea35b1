// Three-vectors and the rounding policy every computation in the port goes through.
//
// A `Round` is applied to the result of each arithmetic operation: the
// identity for ordinary double precision, Math.fround when the float32 bug is
// injected. Operations keep the C reference's order of evaluation, so that in
// double precision the two agree to the last bit wherever the math library does.

export type Round = (x: number) => number;

export const doublePrecision: Round = (x) => x;
export const singlePrecision: Round = Math.fround;

export interface Vec3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export function vec3(x: number, y: number, z: number): Vec3 {
  return { x, y, z };
}

export function dot(u: Vec3, v: Vec3, q: Round): number {
  return q(q(q(u.x * v.x) + q(u.y * v.y)) + q(u.z * v.z));
}

export function cross(u: Vec3, v: Vec3, q: Round): Vec3 {
  return vec3(
    q(q(u.y * v.z) - q(u.z * v.y)),
    q(q(u.z * v.x) - q(u.x * v.z)),
    q(q(u.x * v.y) - q(u.y * v.x)),
  );
}

export function length(v: Vec3, q: Round): number {
  return q(Math.sqrt(q(q(q(v.x * v.x) + q(v.y * v.y)) + q(v.z * v.z))));
}

export function scale(v: Vec3, s: number, q: Round): Vec3 {
  return vec3(q(s * v.x), q(s * v.y), q(s * v.z));
}

export function negate(v: Vec3): Vec3 {
  return vec3(-v.x, -v.y, -v.z);
}

/** The unit vector along v (the zero vector stays zero) and |v|. */
export function unit(v: Vec3, q: Round): { unit: Vec3; length: number } {
  const n = length(v, q);
  if (n === 0) return { unit: vec3(0, 0, 0), length: n };
  return { unit: vec3(q(v.x / n), q(v.y / n), q(v.z / n)), length: n };
}

/** v stretched to the given length (a zero vector is treated as having length 1). */
export function withLength(v: Vec3, newLength: number, q: Round): Vec3 {
  let old = length(v, q);
  if (old <= 0) old = 1;
  const factor = q(newLength / old);
  return vec3(q(factor * v.x), q(factor * v.y), q(factor * v.z));
}

/** Right-handed rotation of v by `angle` radians about a unit axis (Rodrigues' formula). */
export function rotateAbout(v: Vec3, axis: Vec3, angle: number, q: Round): Vec3 {
  const s = q(Math.sin(angle));
  const c = q(Math.cos(angle));
  const along = q(dot(axis, v, q) * q(1 - c));
  return vec3(
    q(q(q(axis.x * along) + q(v.x * c)) + q(q(q(-axis.z * v.y) + q(axis.y * v.z)) * s)),
    q(q(q(axis.y * along) + q(v.y * c)) + q(q(q(axis.z * v.x) - q(axis.x * v.z)) * s)),
    q(q(q(axis.z * along) + q(v.z * c)) + q(q(q(-axis.y * v.x) + q(axis.x * v.y)) * s)),
  );
}
