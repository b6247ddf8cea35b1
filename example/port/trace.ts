// The per-pixel chain of nanoBragg for one traced pixel: set-up, then for each
// sub-pixel, source and phi step the scattering vector, Miller indices,
// lattice and structure factors, summed and scaled into the pixel's photon
// count. Returns the trace as records; injected bugs are planted here.

import type { Options } from './cli.js';
import { pixelPosition, pixelSolidAngle, polarizationFactor, setupDetector } from './geometry.js';
import {
  buildCrystal,
  latticeFactors,
  millerIndices,
  rotateCrystal,
  sweepOrientation,
  type LatticeFactors,
  type Orientation,
} from './lattice.js';
import { chain, chainInteger, type TraceRecord } from './records.js';
import { lookupF, type HklTable } from './structure.js';
import { cross, dot, doublePrecision, negate, rotateAbout, singlePrecision, unit, vec3, type Vec3 } from './vector.js';

/** 1/pi as the C library's M_1_PI; degrees convert with 180/pi built from it. */
const ONE_OVER_PI = 0.31830988618379067154;
/** Thomson cross-section of the electron, r_e^2 in m^2, as nanoBragg hard-codes it. */
const ELECTRON_RADIUS_SQR = 7.94079248018965e-30;
/** Sources sit this far up-beam (m); only their direction matters here. */
const SOURCE_DISTANCE = 10;

/**
 * C's conversion of a double to int as x86-64 performs it: NaN and out-of-range values become
 * INT_MIN (a degenerate cell makes the Miller indices NaN, and nanoBragg prints that).
 */
function toCInt(x: number): number {
  return Number.isNaN(x) || x >= 2147483648 || x < -2147483648 ? -2147483648 : Math.trunc(x);
}

export type TraceResult = { ok: true; records: TraceRecord[] } | { ok: false; message: string };

export function tracePixel(o: Options, table: HklTable): TraceResult {
  const q = o.inject === 'float32' ? singlePrecision : doublePrecision;
  const rtd = q(180 * ONE_OVER_PI);
  const lambda0 = q(o.lambdaA / 1e10);
  const phi0 = q(o.phiDeg / rtd);

  // phi sampling, as nanoBragg resolves -phi/-osc/-phisteps
  let osc = o.oscDeg >= 0 ? q(o.oscDeg / rtd) : -1;
  let phisteps = o.phisteps;
  let phistep: number;
  if (phisteps < 0) {
    if (osc < 0) {
      phisteps = 1;
      osc = 0;
      phistep = 0;
    } else {
      phisteps = 2;
      phistep = q(osc / 2);
    }
  } else {
    if (phisteps === 0) phisteps = 1;
    if (osc < 0) osc = q(1 / rtd);
    phistep = q(osc / phisteps);
  }
  const phiAt = (tic: number): number => q(phi0 + q(phistep * tic));

  const { detector: det, records } = setupDetector(o, q);
  const trace: TraceRecord[] = [...records];
  if (o.traceSlow < 0 || o.traceSlow >= det.spixels || o.traceFast < 0 || o.traceFast >= det.fpixels) {
    return {
      ok: false,
      message: `-trace_pixel ${o.traceSlow} ${o.traceFast} is outside the ${det.spixels}x${det.fpixels} detector`,
    };
  }
  if (table.count > 0 && (o.Na <= 2 || o.Nb <= 2 || o.Nc <= 2)) {
    return {
      ok: false,
      message:
        'with -hkl and a crystal 2 cells or fewer wide, nanoBragg switches on tricubic structure-factor ' +
        'interpolation, which this model does not implement; use -N 3 or more',
    };
  }

  const crystal = buildCrystal(o.cell, rtd, q);
  const N: [number, number, number] = [Math.max(o.Na, 1), Math.max(o.Nb, 1), Math.max(o.Nc, 1)];
  let oversample = o.oversample;
  if (oversample <= 0) {
    const size = Math.max(q(crystal.aLengthM * N[0]), q(crystal.bLengthM * N[1]), q(crystal.cLengthM * N[2]));
    const reciprocalPixel = q(q(lambda0 * det.distanceM) / det.pixelM);
    oversample = Math.ceil(q(q(3 * size) / reciprocalPixel));
    if (oversample <= 0) oversample = 1;
  }
  const steps = phisteps * oversample * oversample; // one source, one mosaic domain
  const subpixel = q(det.pixelM / oversample);

  // the single source: a point up-beam, through nanoBragg's (zero) divergence rotations
  const vertical = unit(cross(det.beam, det.polarAxis, q), q).unit;
  let sourcePoint = vec3(
    q(-SOURCE_DISTANCE * det.beam.x),
    q(-SOURCE_DISTANCE * det.beam.y),
    q(-SOURCE_DISTANCE * det.beam.z),
  );
  sourcePoint = rotateAbout(sourcePoint, det.polarAxis, 0, q);
  sourcePoint = rotateAbout(sourcePoint, vertical, 0, q);
  const sourceDirection = unit(sourcePoint, q).unit;

  let orientation: Orientation = { a: crystal.a, b: crystal.b, c: crystal.c };
  if (!(o.traceSlow === 0 && o.traceFast === 0)) {
    // the pixel rendered just before this one leaves its last phi orientation behind
    orientation = sweepOrientation(orientation, crystal, det.spindle, phiAt, phisteps, q);
  }

  let I = 0;
  let polar = 0;
  let omegaPixel = 0;
  const captureFraction = 1; // a sensor of zero thickness absorbs everything
  let incident: Vec3 = vec3(0, 0, 0);
  let diffracted: Vec3 = vec3(0, 0, 0);

  for (let subS = 0; subS < oversample; subS++) {
    for (let subF = 0; subF < oversample; subF++) {
      // Injected bug: position of the pixel's corner instead of its centre.
      const halfSubpixel = o.inject === 'pixel-center' ? 0 : q(subpixel / 2);
      const fastM = q(q(subpixel * (o.traceFast * oversample + subF)) + halfSubpixel);
      const slowM = q(q(subpixel * (o.traceSlow * oversample + subS)) + halfSubpixel);
      const pixelPos = pixelPosition(det, fastM, slowM, q);
      const ray = unit(pixelPos, q);
      const airpath = ray.length;
      diffracted = ray.unit;
      if (omegaPixel === 0) omegaPixel = pixelSolidAngle(det, airpath, q);

      incident = negate(sourceDirection);
      const lambda = lambda0; // no spectral dispersion
      // Injected bug: the wavelength in angstrom where the metre value belongs.
      const lambdaForS = o.inject === 'angstrom-meter' ? q(lambda * 1e10) : lambda;
      const scattering = vec3(
        q(q(diffracted.x - incident.x) / lambdaForS),
        q(q(diffracted.y - incident.y) / lambdaForS),
        q(q(diffracted.z - incident.z) / lambdaForS),
      );

      trace.push(
        chain('pix0_vector_meters', det.pix0.x, det.pix0.y, det.pix0.z),
        chain('fdet_vec', det.fdet.x, det.fdet.y, det.fdet.z),
        chain('sdet_vec', det.sdet.x, det.sdet.y, det.sdet.z),
        chain('pixel_pos_meters', pixelPos.x, pixelPos.y, pixelPos.z),
        chain('R_distance_meters', airpath),
        chain('omega_pixel_sr', omegaPixel),
        chain('close_distance_meters', det.closeDistanceM),
        chain('obliquity_factor', q(det.closeDistanceM / airpath)),
        chain('diffracted_vec', diffracted.x, diffracted.y, diffracted.z),
        chain('incident_vec', incident.x, incident.y, incident.z),
        chain('lambda_meters', lambda),
        chain('lambda_angstroms', q(lambda * 1e10)),
        chain('scattering_vec_A_inv', scattering.x, scattering.y, scattering.z),
      );

      if (polar === 0) {
        const p = polarizationFactor(o.kahn, incident, diffracted, det.polarAxis, q);
        polar = p.factor;
        incident = p.incident;
        diffracted = p.diffracted;
      }

      let firstStepFactors: LatticeFactors | undefined;
      for (let tic = 0; tic < phisteps; tic++) {
        const phi = phiAt(tic);
        if (phi !== 0) orientation = rotateCrystal(crystal, det.spindle, phi, q);
        const hkl = millerIndices(orientation, scattering, q);
        const rounded = hkl.map((x) => toCInt(Math.ceil(q(x - 0.5)))) as [number, number, number];

        if (tic === 0) {
          const angstrom = (v: Vec3): number[] => [q(v.x * 1e10), q(v.y * 1e10), q(v.z * 1e10)];
          trace.push(
            chain('rot_a_angstroms', ...angstrom(orientation.a)),
            chain('rot_b_angstroms', ...angstrom(orientation.b)),
            chain('rot_c_angstroms', ...angstrom(orientation.c)),
            // nanoBragg prints the unrotated reciprocal vectors here
            chain('rot_a_star_A_inv', crystal.aStar.x, crystal.aStar.y, crystal.aStar.z),
            chain('rot_b_star_A_inv', crystal.bStar.x, crystal.bStar.y, crystal.bStar.z),
            chain('rot_c_star_A_inv', crystal.cStar.x, crystal.cStar.y, crystal.cStar.z),
            chain('hkl_frac', ...hkl),
            chainInteger('hkl_rounded', ...rounded),
          );
        }

        let F = latticeFactors(hkl, N, q);
        // Injected bug: a lattice-factor cache that is never invalidated after phi step 0.
        if (o.inject === 'phi-carryover') {
          if (firstStepFactors === undefined) firstStepFactors = F;
          else F = firstStepFactors;
        }
        if (tic === 0) {
          trace.push(
            chain('F_latt_a', F.a),
            chain('F_latt_b', F.b),
            chain('F_latt_c', F.c),
            chain('F_latt', F.total),
          );
        }
        trace.push({ kind: 'phi', phiTic: tic, phiDeg: q(phi * rtd), kFrac: hkl[1], FLattB: F.b, FLatt: F.total });
        if (F.total === 0) continue;

        const Fcell = q(lookupF(table, rounded[0], rounded[1], rounded[2]));
        if (tic === 0) trace.push(chain('F_cell', Fcell));
        I = q(I + q(q(q(Fcell * Fcell) * F.total) * F.total));
      }
    }
  }

  const reSqr = q(ELECTRON_RADIUS_SQR);
  const fluence = q(o.fluence);
  let photons = q(q(q(reSqr * fluence) * I) / steps);
  photons = q(photons * captureFraction);
  photons = q(photons * polar);
  photons = q(photons * omegaPixel);
  // the image is single precision: this is what nanoBragg writes for the pixel
  const floatimage = Math.fround(0 + photons);

  trace.push(
    chain('I_before_scaling', I),
    chain('r_e_meters', q(Math.sqrt(reSqr))),
    chain('r_e_sqr', reSqr),
    chain('fluence_photons_per_m2', fluence),
    chainInteger('steps', steps),
    chainInteger('oversample_thick', 0),
    chainInteger('oversample_polar', 0),
    chainInteger('oversample_omega', 0),
    chain('capture_fraction', captureFraction),
    chain('polar', polar),
    chain('omega_pixel', omegaPixel),
    chain('cos_2theta', dot(incident, diffracted, q)),
    chain('I_pixel_final', photons),
    chain('floatimage_accumulated', floatimage),
  );
  return { ok: true, records: trace };
}
