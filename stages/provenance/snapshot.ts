// The config snapshot (schemas/config-snapshot.schema.json) as data: its shape, the part of it that
// describes the pipeline (params, env, every stage's command line: redacted), reading one back, and
// checking that one read by a later stage describes the pipeline that stage runs in. Building the
// whole snapshot (tools, git, input hashes) is the snapshot-config stage's job.
import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { readValidatedJson, StageFailure, toolSchemasDir, type PipelineView, type StageContext } from '../../src/stage-api/index.js';
import { pathIsCovered } from './coverage.js';
import type { GitState } from './git.js';
import { redactCommand, redactEnv, redactValue } from './redact.js';

export const SNAPSHOT_FORMAT = 'evidence-config-snapshot/2';

export interface ToolVersion {
  command: string;
  /** First line of the command's output (stdout, else stderr); null when it failed. */
  version: string | null;
  error: string | null;
}

export interface InputHash {
  /** Project-relative, forward slashes. */
  path: string;
  sha256: string | null;
  bytes: number | null;
  /** Set when a literal (non-glob) input does not exist. */
  missing?: true;
}

export interface StageRecord {
  name: string;
  command: string;
  deps: string[];
  outs: string[];
  env: Record<string, string>;
}

/** What a snapshot says about the pipeline: exactly what its fingerprint covers, redacted. */
export interface PipelineRecord {
  params: Record<string, unknown>;
  env: Record<string, string>;
  stages: StageRecord[];
}

export interface ConfigSnapshot extends PipelineRecord {
  format: typeof SNAPSHOT_FORMAT;
  /** The version of evidence that made it (part of every fingerprint). */
  evidence: string;
  /** pipeline.yaml, project-relative. */
  pipeline: string;
  tools: Record<string, ToolVersion>;
  git: GitState;
  inputs: InputHash[];
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** The version of the installed evidence (its package.json sits next to schemas/). */
export function evidenceVersion(): string {
  return (JSON.parse(readFileSync(join(toolSchemasDir(), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export function recordPipeline(view: PipelineView, params: Record<string, unknown>): PipelineRecord {
  return {
    params: redactValue(params) as Record<string, unknown>,
    env: redactEnv(view.env),
    stages: view.stages.map((s) => ({ name: s.name, command: redactCommand(s.command), deps: [...s.deps], outs: [...s.outs], env: redactEnv(s.env) })),
  };
}

/** Reads and validates a snapshot; a malformed one or one from an older evidence fails with the reason. */
export function readSnapshot(file: string): ConfigSnapshot {
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format;
  } catch {
    // readValidatedJson names the problem below.
  }
  if (typeof format === 'string' && format !== SNAPSHOT_FORMAT) {
    throw new StageFailure('schema', `${file}: a ${format} snapshot, this evidence reads ${SNAPSHOT_FORMAT}: re-run the stage that makes it`);
  }
  try {
    return readValidatedJson<ConfigSnapshot>(file, join(toolSchemasDir(), 'config-snapshot.schema.json'));
  } catch (err) {
    throw new StageFailure('schema', (err as Error).message);
  }
}

/** JSON with sorted keys: a snapshot read back and the pipeline now are compared as values. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));

/** How the snapshot's record differs from the pipeline now (at most `max` differences named). */
export function differences(was: PipelineRecord, now: PipelineRecord, max = 3): string[] {
  const found: string[] = [];
  for (const k of [...new Set([...Object.keys(now.params), ...Object.keys(was.params)])].sort()) {
    if (canonicalJson(was.params[k]) !== canonicalJson(now.params[k])) found.push(`param ${k} is ${show(now.params[k])}, the snapshot has ${show(was.params[k])}`);
  }
  if (canonicalJson(was.env) !== canonicalJson(now.env)) found.push('the pipeline env differs');
  const before = new Map(was.stages.map((s) => [s.name, s]));
  for (const s of now.stages) {
    const old = before.get(s.name);
    if (!old) found.push(`stage ${s.name} is not in the snapshot`);
    else {
      const parts = (['command', 'deps', 'outs', 'env'] as const).filter((p) => canonicalJson(old[p]) !== canonicalJson(s[p]));
      if (parts.length) found.push(`stage ${s.name}'s ${parts.join(', ')} differ`);
    }
    before.delete(s.name);
  }
  for (const name of before.keys()) found.push(`the snapshot has a stage ${name} that the pipeline has not`);
  return found.length > max ? [...found.slice(0, max), `${found.length - max} more`] : found;
}

/**
 * The snapshot at `withPath` (relative to cwd), checked to describe the run of `ctx`: it must be a
 * dep (else a change to it would not re-run this stage) and record this pipeline's params and
 * stages (else it is left from another run, and what this stage writes would mix two runs).
 */
export function readCurrentSnapshot(ctx: StageContext, withPath: string): { snapshot: ConfigSnapshot; path: string; bytes: Buffer } {
  const abs = resolve(ctx.cwd, withPath);
  const path = toPosix(relative(ctx.root, abs));
  if (!pathIsCovered(path, ctx.deps)) {
    throw new StageFailure('require', `snapshot '${path}' is not among the deps of stage '${ctx.stage}': list it in deps, so that a new snapshot re-runs this stage`);
  }
  const snapshot = readSnapshot(abs);
  const diff = differences(snapshot, recordPipeline(ctx.pipeline, ctx.params));
  if (diff.length) {
    throw new StageFailure(
      'require',
      `snapshot '${path}' describes another run than this one (${diff.join('; ')}): make it with a snapshot-config stage of this pipeline, upstream of '${ctx.stage}'`,
    );
  }
  return { snapshot, path, bytes: readFileSync(abs) };
}
