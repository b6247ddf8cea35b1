// A stage's fingerprint: sha256 of canonical JSON (sorted keys) of everything that determines its
// outs. Two runs with equal fingerprints are interchangeable, which is what lets the run cache
// restore outs instead of running.
import { createHash } from 'node:crypto';

// Built with one string and no intermediate arrays: a no-op run of a 5,000-stage fan-in spends a
// tenth of its time here (the gathering stage's deps and upstream outs are one object each).
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i ? ',' : '') + canonicalJson(value[i]);
    return text + ']';
  }
  const record = value as Record<string, unknown>;
  let text = '{';
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    text += (text.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + canonicalJson(v);
  }
  return text + '}';
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
