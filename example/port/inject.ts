// The realistic porting bugs the port can plant on request (--inject NAME),
// so that the evidence pipeline has a known divergence to find.

export const INJECT_NAMES = ['phi-carryover', 'pixel-center', 'angstrom-meter', 'float32'] as const;

export type InjectName = (typeof INJECT_NAMES)[number];

export const INJECT_DESCRIPTIONS: Record<InjectName, string> = {
  'phi-carryover': 'phi steps after the first reuse the lattice factors of phi step 0',
  'pixel-center': 'pixel positions drop the half-pixel offset to the pixel centre',
  'angstrom-meter': 'the scattering vector divides by the wavelength in angstrom instead of metres',
  float32: 'every intermediate is rounded to single precision',
};

export function isInjectName(name: string): name is InjectName {
  return (INJECT_NAMES as readonly string[]).includes(name);
}
