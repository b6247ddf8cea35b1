// Command line of the port: the nanoBragg-compatible flags the C reference
// accepts, plus --inject NAME. Parsing only; it returns the options or a usage
// message and never prints or exits.

import { INJECT_NAMES, isInjectName, type InjectName } from './inject.js';

export interface Options {
  /** a b c in angstrom, alpha beta gamma in degrees */
  cell: readonly [number, number, number, number, number, number];
  defaultF: number;
  hklPath: string | undefined;
  lambdaA: number;
  distanceMm: number;
  pixelMm: number;
  /** 0 when not given */
  detpixels: number;
  Na: number;
  Nb: number;
  Nc: number;
  /** <= 0: chosen automatically, as nanoBragg does */
  oversample: number;
  phiDeg: number;
  /** < 0 when not given */
  oscDeg: number;
  /** < 0 when not given */
  phisteps: number;
  XbeamMm: number | undefined;
  YbeamMm: number | undefined;
  kahn: number;
  fluence: number;
  traceSlow: number;
  traceFast: number;
  inject: InjectName | undefined;
}

export type ParseResult = { ok: true; options: Options } | { ok: false; message: string };

/** nanoBragg's default integrated fluence in photons/m^2. */
export const DEFAULT_FLUENCE = 125932015286227086360700780544.0;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

class UsageError extends Error {}

function numberArg(flag: string, text: string): number {
  const value = Number(text);
  if (!NUMBER.test(text) || !Number.isFinite(value)) throw new UsageError(`${flag} expects a number, got '${text}'`);
  return value;
}

function integerArg(flag: string, text: string): number {
  const value = Number(text);
  if (!INTEGER.test(text) || Math.abs(value) > 1e9) throw new UsageError(`${flag} expects an integer, got '${text}'`);
  return value;
}

/** Flags take one leading dash, as nanoBragg's do; a second dash is tolerated. */
function flagName(arg: string): string | undefined {
  if (!arg.startsWith('-')) return undefined;
  return arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
}

const ARITY: Record<string, number> = {
  cell: 6,
  default_F: 1,
  hkl: 1,
  lambda: 1,
  distance: 1,
  pixel: 1,
  detpixels: 1,
  N: 1,
  Na: 1,
  Nb: 1,
  Nc: 1,
  oversample: 1,
  phi: 1,
  osc: 1,
  phisteps: 1,
  Xbeam: 1,
  Ybeam: 1,
  polar: 1,
  fluence: 1,
  trace_pixel: 2,
  inject: 1,
};

export function parseArgs(argv: readonly string[]): ParseResult {
  try {
    return { ok: true, options: parseOrThrow(argv) };
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, message: error.message };
    throw error;
  }
}

function parseOrThrow(argv: readonly string[]): Options {
  let cell: Options['cell'] | undefined;
  let trace: [number, number] | undefined;
  const o: Omit<Options, 'cell' | 'traceSlow' | 'traceFast'> = {
    defaultF: 0,
    hklPath: undefined,
    lambdaA: 1,
    distanceMm: 100,
    pixelMm: 0.1,
    detpixels: 0,
    Na: 1,
    Nb: 1,
    Nc: 1,
    oversample: -1,
    phiDeg: 0,
    oscDeg: -1,
    phisteps: -1,
    XbeamMm: undefined,
    YbeamMm: undefined,
    kahn: 0,
    fluence: DEFAULT_FLUENCE,
    inject: undefined,
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = flagName(arg);
    if (name === undefined) throw new UsageError(`unexpected argument '${arg}'`);
    const need = Object.hasOwn(ARITY, name) ? ARITY[name] : undefined;
    if (need === undefined) throw new UsageError(`unknown flag ${arg}`);
    if (i + need >= argv.length) throw new UsageError(`${arg} expects ${need} value${need === 1 ? '' : 's'}`);
    const values = argv.slice(i + 1, i + 1 + need);
    const first = values[0]!;
    switch (name) {
      case 'cell': {
        const v = values.map((text) => numberArg(arg, text));
        cell = [v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!];
        break;
      }
      case 'default_F': o.defaultF = numberArg(arg, first); break;
      case 'hkl': o.hklPath = first; break;
      case 'lambda': o.lambdaA = numberArg(arg, first); break;
      case 'distance': o.distanceMm = numberArg(arg, first); break;
      case 'pixel': o.pixelMm = numberArg(arg, first); break;
      case 'detpixels': o.detpixels = integerArg(arg, first); break;
      case 'N': o.Na = o.Nb = o.Nc = integerArg(arg, first); break;
      case 'Na': o.Na = integerArg(arg, first); break;
      case 'Nb': o.Nb = integerArg(arg, first); break;
      case 'Nc': o.Nc = integerArg(arg, first); break;
      case 'oversample': o.oversample = integerArg(arg, first); break;
      case 'phi': o.phiDeg = numberArg(arg, first); break;
      case 'osc': o.oscDeg = numberArg(arg, first); break;
      case 'phisteps': o.phisteps = integerArg(arg, first); break;
      case 'Xbeam': o.XbeamMm = numberArg(arg, first); break;
      case 'Ybeam': o.YbeamMm = numberArg(arg, first); break;
      case 'polar': o.kahn = numberArg(arg, first); break;
      case 'fluence': o.fluence = numberArg(arg, first); break;
      case 'trace_pixel': trace = [integerArg(arg, first), integerArg(arg, values[1]!)]; break;
      case 'inject':
        if (!isInjectName(first)) {
          throw new UsageError(`unknown --inject name '${first}' (known: ${INJECT_NAMES.join(', ')})`);
        }
        o.inject = first;
        break;
    }
    i += need;
  }

  if (cell === undefined) throw new UsageError('-cell a b c alpha beta gamma is required');
  if (trace === undefined) throw new UsageError('-trace_pixel SLOW FAST is required');
  if (o.hklPath === undefined && o.defaultF === 0) {
    throw new UsageError('give structure factors with -hkl FILE or -default_F F');
  }
  if (!(o.lambdaA > 0)) throw new UsageError('-lambda must be positive');
  if (!(o.distanceMm > 0)) throw new UsageError('-distance must be positive');
  if (!(o.pixelMm > 0)) throw new UsageError('-pixel must be positive');
  if (o.detpixels < 0) throw new UsageError('-detpixels must not be negative');
  return { ...o, cell, traceSlow: trace[0], traceFast: trace[1] };
}
