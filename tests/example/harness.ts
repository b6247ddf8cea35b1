// Test harness for the embedded example: compiles the C reference and builds
// the TypeScript port into temp folders, runs them as real processes on the
// fixture configurations, and parses and compares their TRACE lines. The
// parsing here is deliberately local and simple: the project's parse stage is
// tested elsewhere.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'nanobragg');
export const C_SOURCE = join(REPO_ROOT, 'example', 'c', 'pixel_trace.c');
export const BUILD_SCRIPT = join(REPO_ROOT, 'example', 'port', 'build.mjs');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], cwd = FIXTURES): RunResult {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Compiles the C reference exactly as documented, plus -Wall -Wextra; returns the binary and the compiler's output. */
export function compileReference(): { binary: string; diagnostics: string } {
  const binary = join(mkdtempSync(join(tmpdir(), 'example-c-')), 'pixel_trace');
  const r = run(
    'cc',
    ['-O2', '-fno-fast-math', '-ffp-contract=off', '-Wall', '-Wextra', '-o', binary, C_SOURCE, '-lm'],
    REPO_ROOT,
  );
  if (r.code !== 0) throw new Error(`cc failed:\n${r.stderr}`);
  return { binary, diagnostics: r.stderr };
}

/** Builds the port into a fresh folder with build.mjs; returns that folder. */
export function buildPort(outdir = mkdtempSync(join(tmpdir(), 'example-port-'))): string {
  const r = run(process.execPath, [BUILD_SCRIPT, '--outdir', outdir], REPO_ROOT);
  if (r.code !== 0) throw new Error(`build.mjs failed:\n${r.stderr}`);
  return outdir;
}

export function runReference(binary: string, args: readonly string[]): RunResult {
  return run(binary, args);
}

export function runPort(outdir: string, args: readonly string[]): RunResult {
  return run(process.execPath, [join(outdir, 'main.js'), ...args]);
}

export interface FixtureConfig {
  name: string;
  /** the flags of command.txt without the program name */
  args: string[];
  log: string;
}

export function fixtureConfigs(): FixtureConfig[] {
  return readdirSync(FIXTURES)
    .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
    .sort()
    .map((name) => {
      const words = readFileSync(join(FIXTURES, name, 'command.txt'), 'utf8').trim().split(/\s+/);
      return { name, args: words.slice(1), log: readFileSync(join(FIXTURES, name, 'trace_c.log'), 'utf8') };
    });
}

/** The mono-phi fixture's crystal and detector, swept over ten phi steps of 0.01 degree. */
export const MONO_PHI_BASE = [
  '-cell', '60', '70', '80', '90', '105', '90', '-hkl', 'small.hkl', '-lambda', '1.0', '-distance', '120',
  '-pixel', '0.1', '-detpixels', '200', '-N', '10', '-oversample', '1',
];

export const MULTI_PHI_CONFIGS: Record<string, string[]> = {
  'ten phi steps from 10 degrees near a Bragg peak': [
    ...MONO_PHI_BASE, '-phi', '10', '-osc', '0.1', '-phisteps', '10', '-trace_pixel', '50', '40',
  ],
  'ten phi steps from 0 degrees': [...MONO_PHI_BASE, '-phi', '0', '-osc', '0.1', '-phisteps', '10', '-trace_pixel', '120', '80'],
};

export interface ChainEntry {
  key: string;
  values: number[];
}

export type PhiEntry = Record<string, number>;

export interface ParsedTrace {
  setup: Array<{ key: string; value: string }>;
  chain: ChainEntry[];
  phi: PhiEntry[];
}

/** Splits a log into set-up lines `P:key=value`, chain lines `P: key v...` and phi records `P_PHI k=v ...`. */
export function parseTrace(text: string, prefix: string): ParsedTrace {
  const trace: ParsedTrace = { setup: [], chain: [], phi: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith(`${prefix}: `)) {
      const [key, ...values] = line.slice(prefix.length + 2).trim().split(/\s+/);
      trace.chain.push({ key: key!, values: values.map(Number) });
    } else if (line.startsWith(`${prefix}:`)) {
      const body = line.slice(prefix.length + 1);
      const eq = body.indexOf('=');
      trace.setup.push({ key: body.slice(0, eq), value: body.slice(eq + 1) });
    } else if (line.startsWith(`${prefix}_PHI `)) {
      const record: PhiEntry = {};
      for (const field of line.slice(prefix.length + 5).trim().split(/\s+/)) {
        const [k, v] = field.split('=');
        record[k!] = Number(v);
      }
      trace.phi.push(record);
    }
  }
  return trace;
}

/** Largest difference between two value lists, relative to the largest magnitude among the reference values (absolute if that is 0). */
export function relativeError(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) return Infinity;
  const scale = Math.max(0, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(e - a) / (scale > 0 ? scale : 1));
  }
  return worst;
}

export interface Divergence {
  index: number;
  key: string;
  expected: number[];
  actual: number[];
  error: number;
}

/** Chain entries, in order, whose values differ by more than `tolerance` (the key lists must already agree). */
export function chainDivergences(expected: ChainEntry[], actual: ChainEntry[], tolerance = 1e-12): Divergence[] {
  const out: Divergence[] = [];
  expected.forEach((e, index) => {
    const a = actual[index];
    const error = a === undefined || a.key !== e.key ? Infinity : relativeError(e.values, a.values);
    if (error > tolerance) out.push({ index, key: e.key, expected: e.values, actual: a?.values ?? [], error });
  });
  return out;
}

const PHI_FIELDS = ['phi_deg', 'k_frac', 'F_latt_b', 'F_latt'];

/**
 * Phi records, by position, whose fields differ by more than `tolerance`. Each field is one
 * quantity followed across the phi steps, so it is judged against that field's largest
 * magnitude over all the reference's records (absolute if that is 0).
 */
export function phiDivergences(
  expected: PhiEntry[],
  actual: PhiEntry[],
  tolerance = 1e-12,
): Array<{ tic: number; error: number }> {
  const magnitudes = (f: string) => expected.map((e) => Math.abs(e[f]!)).filter((m) => !Number.isNaN(m));
  const scale = new Map(PHI_FIELDS.map((f) => [f, Math.max(0, ...magnitudes(f))]));
  const out: Array<{ tic: number; error: number }> = [];
  expected.forEach((e, index) => {
    const a = actual[index];
    let error = 0;
    for (const field of PHI_FIELDS) {
      if (a === undefined || a.phi_tic !== e.phi_tic) {
        error = Infinity;
        break;
      }
      const [x, y, s] = [e[field]!, a[field]!, scale.get(field)!];
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (!(Number.isNaN(x) && Number.isNaN(y))) error = Infinity;
        continue;
      }
      error = Math.max(error, Math.abs(x - y) / (s > 0 ? s : 1));
    }
    if (!(error <= tolerance)) out.push({ tic: e.phi_tic!, error });
  });
  return out;
}

export function keys(chain: ChainEntry[]): string[] {
  return chain.map((entry) => entry.key);
}
