// Detector and beam geometry: the MOSFLM convention with the detector pivoting
// about the direct-beam spot, pixel positions, the pixel's solid angle and the
// Kahn polarization factor. Knows nothing of the crystal.

import type { Options } from './cli.js';
import { setup, type SetupRecord } from './records.js';
import { dot, cross, rotateAbout, unit, vec3, type Round, type Vec3 } from './vector.js';

export interface Detector {
  readonly fdet: Vec3;
  readonly sdet: Vec3;
  readonly odet: Vec3;
  readonly beam: Vec3;
  readonly polarAxis: Vec3;
  readonly spindle: Vec3;
  /** position of the first pixel's corner relative to the crystal (m) */
  readonly pix0: Vec3;
  readonly pixelM: number;
  readonly fpixels: number;
  readonly spixels: number;
  readonly closeDistanceM: number;
  readonly distanceM: number;
}

/** Smallest positive normal double, nanoBragg's stand-in for a zero divisor. */
const DBL_MIN = 2.2250738585072014e-308;

export function setupDetector(o: Options, q: Round): { detector: Detector; records: SetupRecord[] } {
  const pixel = q(o.pixelMm / 1000);
  let detsizeF = q(102.4e-3);
  let detsizeS = q(102.4e-3);
  if (o.detpixels > 0) {
    detsizeF = q(pixel * o.detpixels);
    detsizeS = q(pixel * o.detpixels);
  }
  const fpixels = Math.ceil(q(q(detsizeF / pixel) - 0.5));
  const spixels = Math.ceil(q(q(detsizeS / pixel) - 0.5));

  // MOSFLM puts the first pixel's centre at (0.5, 0.5) pixels: the beam centre
  // given in mm maps to the detector origin with half a pixel added.
  const Xbeam = o.XbeamMm !== undefined ? q(o.XbeamMm / 1000) : q(q(detsizeS + pixel) / 2);
  const Ybeam = o.YbeamMm !== undefined ? q(o.YbeamMm / 1000) : q(q(detsizeF + pixel) / 2);
  const beam = unit(vec3(1, 0, 0), q).unit;
  let odet = unit(vec3(1, 0, 0), q).unit;
  let fdet = unit(vec3(0, 0, 1), q).unit;
  let sdet = unit(vec3(0, -1, 0), q).unit;
  const polarAxis = unit(vec3(0, 0, 1), q).unit;
  const spindle = unit(vec3(0, 0, 1), q).unit;
  const Fbeam = q(Ybeam + q(0.5 * pixel));
  const Sbeam = q(Xbeam + q(0.5 * pixel));

  let ratio = dot(beam, odet, q);
  if (ratio === 0) ratio = DBL_MIN;
  const closeDistance = q(Math.abs(q(ratio * q(o.distanceMm / 1000))));
  const distance = q(closeDistance / ratio);

  // The detector is never tilted here, but nanoBragg still applies the zero
  // two-theta rotation, which settles the signs of the zero components.
  const twothetaAxis = vec3(0, 0, -1);
  const twotheta = 0;
  fdet = rotateAbout(fdet, twothetaAxis, twotheta, q);
  sdet = rotateAbout(sdet, twothetaAxis, twotheta, q);
  odet = rotateAbout(odet, twothetaAxis, twotheta, q);

  const records: SetupRecord[] = [
    setup('detector_convention', 'MOSFLM'),
    setup('angles_rad', 'rotx:', 0, ' roty:', 0, ' rotz:', 0, ' twotheta:', twotheta),
    // nanoBragg divides the (already metre) beam centre by 1000 once more in this line
    setup('beam_center_m', 'X:', q(Xbeam / 1000), ' Y:', q(Ybeam / 1000), ' pixel_mm:', q(pixel * 1000)),
    setup('initial_fdet', 0, ' ', 0, ' ', 1),
    setup('initial_sdet', 0, ' ', -1, ' ', 0),
    setup('initial_odet', 1, ' ', 0, ' ', 0),
    setup('convention_mapping', 'Fbeam\u2190Ybeam_mm(+0.5px),Sbeam\u2190Xbeam_mm(+0.5px),beam_vec=[1 0 0]'),
    setup('Fbeam_m', Fbeam),
    setup('Sbeam_m', Sbeam),
    setup('distance_m', distance),
    setup('term_fast', q(-Fbeam * fdet.x), ' ', q(-Fbeam * fdet.y), ' ', q(-Fbeam * fdet.z)),
    setup('term_slow', q(-Sbeam * sdet.x), ' ', q(-Sbeam * sdet.y), ' ', q(-Sbeam * sdet.z)),
    setup('term_beam', q(distance * beam.x), ' ', q(distance * beam.y), ' ', q(distance * beam.z)),
  ];

  const pix0Component = (f: number, s: number, b: number): number =>
    q(q(q(-Fbeam * f) - q(Sbeam * s)) + q(distance * b));
  const pix0 = vec3(
    pix0Component(fdet.x, sdet.x, beam.x),
    pix0Component(fdet.y, sdet.y, beam.y),
    pix0Component(fdet.z, sdet.z, beam.z),
  );
  records.push(setup('pix0_vector', pix0.x, ' ', pix0.y, ' ', pix0.z));

  const closeDistanceM = dot(pix0, odet, q);
  const detector: Detector = {
    fdet,
    sdet,
    odet,
    beam,
    polarAxis,
    spindle,
    pix0,
    pixelM: pixel,
    fpixels,
    spixels,
    closeDistanceM,
    distanceM: q(closeDistanceM / ratio),
  };
  return { detector, records };
}

/** Where a sub-pixel lies relative to the crystal (m). */
export function pixelPosition(det: Detector, fastM: number, slowM: number, q: Round): Vec3 {
  const odetM = 0; // the front face of a sensor of zero thickness
  const component = (f: number, s: number, o: number, p: number): number =>
    q(q(q(q(fastM * f) + q(slowM * s)) + q(odetM * o)) + p);
  return vec3(
    component(det.fdet.x, det.sdet.x, det.odet.x, det.pix0.x),
    component(det.fdet.y, det.sdet.y, det.odet.y, det.pix0.y),
    component(det.fdet.z, det.sdet.z, det.odet.z, det.pix0.z),
  );
}

/** Solid angle of a pixel seen from the crystal: (pixel/R)^2 times the obliquity close/R. */
export function pixelSolidAngle(det: Detector, airpathM: number, q: Round): number {
  return q(q(q(q(q(det.pixelM * det.pixelM) / airpathM) / airpathM) * det.closeDistanceM) / airpathM);
}

/**
 * Kahn polarization factor for a beam polarized along `axis` (kahn = 0:
 * unpolarized). Like nanoBragg it re-normalises both rays, and hands them back.
 */
export function polarizationFactor(
  kahn: number,
  incidentIn: Vec3,
  diffractedIn: Vec3,
  axisIn: Vec3,
  q: Round,
): { factor: number; incident: Vec3; diffracted: Vec3 } {
  const incident = unit(incidentIn, q).unit;
  const diffracted = unit(diffractedIn, q).unit;
  const axis = unit(axisIn, q).unit;
  const cos2theta = dot(incident, diffracted, q);
  const cos2thetaSqr = q(cos2theta * cos2theta);
  const sin2thetaSqr = q(1 - cos2thetaSqr);
  let psi = 0;
  if (kahn !== 0) {
    // the E-vector is taken to lie closest to the polarization axis
    const Bin = unit(cross(axis, incident, q), q).unit;
    const Ein = unit(cross(incident, Bin, q), q).unit;
    psi = q(-q(Math.atan2(dot(diffracted, Bin, q), dot(diffracted, Ein, q))));
  }
  const factor = q(0.5 * q(q(1 + cos2thetaSqr) - q(q(kahn * q(Math.cos(q(2 * psi)))) * sin2thetaSqr)));
  return { factor, incident, diffracted };
}
