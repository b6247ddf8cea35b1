// A stage's fingerprint: sha256 of canonical JSON (sorted keys) of everything that determines its
// outs. Two runs with equal fingerprints are interchangeable, which is what lets the run cache
// restore outs instead of running.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The parts of a fingerprint, kept separately so `status` can say which one changed. */
export interface FingerprintInputs {
  tool: string;
  /** cmd stages: the resolved command; uses stages: kind, stage version, script hash and with. */
  definition: Record<string, unknown>;
  env: Record<string, string>;
  cwd: string;
  params: Record<string, unknown>;
  /** dep file path → content hash (folders and globs expanded, sorted). */
  deps: Record<string, string>;
  /** upstream stage → (out path → content hash). */
  upstream: Record<string, Record<string, string>>;
  outs: Array<{ path: string; schema?: string; cache: boolean; stream?: string }>;
  /**
   * Only for a stage that describes the pipeline (its `params` then holds every param): the hash of
   * every stage's definition and the pipeline's env (pipeline-digest.ts).
   */
  pipeline?: string;
}

/** The pipeline as a describing stage's fingerprint sees it: its env and every stage's definition. */
export interface PipelineDefinition {
  env: Record<string, string>;
  stages: Record<string, StageDefinition>;
}

export interface StageDefinition {
  definition: Record<string, unknown>;
  env: Record<string, string>;
  cwd: string;
  deps: string[];
  outs: FingerprintInputs['outs'];
}

export function fingerprintOf(inputs: FingerprintInputs): string {
  return sha256(canonicalJson(inputs));
}
