// What the lock records of a stage's successful run, and how a stage's inputs now differ from
// that record, in words for `evidence status` and the run's "why it runs" line.
import type { Stage } from '../pipeline/model.js';
import type { PathHash } from './hash.js';
import type { LockEntry, PipelineDigest } from './lock.js';
import { canonicalJson, sha256, type FingerprintInputs } from './fingerprint.js';
import { isSecretEnvName, isSecretOptionName, REDACTED, redactCommand, redactText } from '../stage-api/index.js';

// evidence.lock is committed: it keeps a digest of a secret, never the value, so that `status`
// can still say that it changed (and print no value). A secret is what the provenance rules say:
// an env var or a param with a secret-looking name, or any string with credentials in it.
const SECRET_DIGEST = /^sha256:[0-9a-f]{16} \(secret\)$/;

function digestOfSecret(value: unknown): string {
  return `sha256:${sha256(canonicalJson(value)).slice(0, 16)} (secret)`;
}

function isCredentialText(value: unknown): boolean {
  return typeof value === 'string' && redactText(value) !== value;
}

/** What the lock records of an env: secret values as digests. */
export function lockedEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = isSecretEnvName(k) || isCredentialText(v) ? digestOfSecret(v) : v;
  return out;
}

function lockedValue(name: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'object') return isSecretOptionName(name) || isCredentialText(value) ? digestOfSecret(value) : value;
  return JSON.stringify(value) === redactText(JSON.stringify(value)) ? value : digestOfSecret(value);
}

/** What the lock records of params: secret values as digests. */
export function lockedParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, lockedValue(k, v)]));
}

const isSecretDigest = (v: unknown) => typeof v === 'string' && SECRET_DIGEST.test(v);

/**
 * A command as the lock records it: credentials redacted, and the values of secret env vars and
 * params taken out wherever they were spliced in (a token passed as a plain argument).
 */
export function lockedCommand(display: string, env: Record<string, string>, params: Record<string, unknown>): string {
  const secrets = new Set<string>();
  for (const [k, v] of Object.entries(env)) if (isSecretEnvName(k) && v.length >= 4) secrets.add(v);
  for (const [k, v] of Object.entries(params)) if (isSecretOptionName(k) && typeof v === 'string' && v.length >= 4) secrets.add(v);
  let text = redactCommand(display);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) text = text.split(secret).join(REDACTED);
  return text;
}

/** What lockEntryOf needs of an evaluation (the cache's decision for one stage). */
export interface EvaluatedInputs {
  fingerprint: string;
  inputs: FingerprintInputs;
}

export function lockEntryOf(ev: EvaluatedInputs, stage: Stage, outs: PathHash[], definition: Record<string, unknown>): LockEntry {
  const o: LockEntry['outs'] = {};
  for (const h of outs) if (h.type !== 'missing') o[h.path] = { hash: h.hash, size: h.size };
  return {
    fingerprint: ev.fingerprint,
    command: lockedCommand(stage.display, ev.inputs.env, ev.inputs.params),
    env: lockedEnv(ev.inputs.env),
    cwd: ev.inputs.cwd,
    params: lockedParams(ev.inputs.params),
    deps: ev.inputs.deps,
    upstream: ev.inputs.upstream,
    outs: o,
    tool: ev.inputs.tool,
    uses: usesLabel(definition),
    definitionHash: sha256(canonicalJson({ definition, outs: ev.inputs.outs })),
    pipeline: ev.inputs.pipeline,
  };
}

function partsOf(digest: string): Map<string, string> {
  return new Map(digest.split(' ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** One line on how the pipeline changed since a describing stage last described it. */
function describedChange(recorded: string | PipelineDigest | undefined, versions: PipelineVersions): string[] {
  // A lock written before the stage described the pipeline: its version change already says why.
  if (recorded === undefined) return [];
  const was = typeof recorded === 'string' ? versions.recorded(recorded) : recorded;
  if (!was) return ['the pipeline changed (another stage or its env; what changed was not kept)'];
  const lines = pipelineChange(was, versions.now, versions.self);
  // A lock from before the hash was kept once per pipeline: the same pipeline, another fingerprint.
  return lines.length || typeof recorded === 'string' ? lines : ['the fingerprint of a pipeline description changed with this evidence version'];
}

/** One line on how the rest of the pipeline changed between two part digests, or none. */
function pipelineChange(was: PipelineDigest, now: PipelineDigest, self: string): string[] {
  const changes: string[] = [];
  if (was.env !== now.env) changes.push('its env');
  for (const [name, parts] of Object.entries(now.stages)) {
    if (name === self) continue;
    const old = was.stages[name];
    if (old === undefined) changes.push(`stage ${name} was added`);
    else if (old !== parts) {
      const a = partsOf(old);
      const b = partsOf(parts);
      const differ = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
      changes.push(`stage ${name}'s ${differ.join(', ')}`);
    }
  }
  for (const name of Object.keys(was.stages)) if (name !== self && !(name in now.stages)) changes.push(`stage ${name} was removed`);
  if (!changes.length) return [];
  const shown = changes.length > 3 ? [...changes.slice(0, 3), `${changes.length - 3} more`] : changes;
  return [`the pipeline changed: ${shown.join('; ')}`];
}

function usesLabel(definition: Record<string, unknown>): string | undefined {
  return definition.kind === 'uses' ? `${definition.uses}@${definition.version}` : undefined;
}

function show(v: unknown): string {
  // A tolerance reads as 1e-6, not as JavaScript prints it (0.000001).
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `uses KIND with {JSON}` (as recorded, secrets already redacted) → the with value. */
function withOf(command: string): { uses: string; with: Record<string, unknown> } | undefined {
  const m = /^uses (\S+) with (\{[\s\S]*\})$/.exec(command);
  if (!m) return undefined;
  try {
    const value = JSON.parse(m[2]!) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? { uses: m[1]!, with: value as Record<string, unknown> } : undefined;
  } catch {
    return undefined;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Each leaf of `with:` that differs, as `with.a.b changed (x → y)` (added, removed). */
function withChanges(was: Record<string, unknown>, now: Record<string, unknown>, path: string, out: string[]): void {
  for (const k of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
    const a = was[k];
    const b = now[k];
    const at = `${path}.${k}`;
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (isPlainObject(a) && isPlainObject(b)) withChanges(a, b, at, out);
    else if (a === undefined) out.push(`${at} added (${clip(show(b), 40)})`);
    else if (b === undefined) out.push(`${at} removed (was ${clip(show(a), 40)})`);
    else out.push(`${at} changed (${clip(show(a), 40)} → ${clip(show(b), 40)})`);
  }
}

/**
 * What differs between two recorded command lines: the `with:` fields of a uses-stage, or the
 * words of a command that changed, with a word of context (`cmd changed (… -tol 1e-6 → … -tol 1e-9)`).
 */
function commandChanges(was: string, now: string): string[] {
  const a = withOf(was);
  const b = withOf(now);
  if (a && b) {
    const out: string[] = [];
    withChanges(a.with, b.with, 'with', out);
    if (a.uses !== b.uses) out.unshift(`uses changed (${a.uses} → ${b.uses})`);
    return out.length > 4 ? [...out.slice(0, 4), `${out.length - 4} more with: fields changed`] : out;
  }
  const x = was.split(' ');
  const y = now.split(' ');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const from = Math.max(0, head - 1);
  const part = (words: string[]) => clip(`${from > 0 ? '… ' : ''}${words.slice(from, words.length - tail).join(' ')}${tail ? ' …' : ''}`);
  return [`cmd changed (${part(x)} → ${part(y)})`];
}

/** Declared outs that were added or removed (the lock records every declared out of the last run). */
function outsChanges(entry: LockEntry, now: FingerprintInputs): string[] {
  const was = new Set(Object.keys(entry.outs ?? {}));
  const declared = now.outs.map((o) => o.path);
  const added = declared.filter((p) => !was.has(p));
  const removed = [...was].filter((p) => !declared.includes(p));
  const out: string[] = [];
  if (added.length) out.push(`out ${added.map((p) => `'${p}'`).join(', ')} added`);
  if (removed.length) out.push(`out ${removed.map((p) => `'${p}'`).join(', ')} removed`);
  return out;
}

/** A describing stage's view of the pipeline now, and the part digests of the version it last saw. */
export interface PipelineVersions {
  /** The describing stage itself: its own changes are named as such, not as the pipeline's. */
  self: string;
  now: PipelineDigest;
  /** The digests of the version the lock names, when they were kept. */
  recorded(hash: string): PipelineDigest | undefined;
}

/** Says which part of a stage's inputs differs from what the lock recorded. */
export function explainChange(entry: LockEntry, now: FingerprintInputs, definition: Record<string, unknown>, display: string, pipelines?: () => PipelineVersions): string[] {
  const command = lockedCommand(display, now.env, now.params);
  const reasons: string[] = [];
  if (entry.tool !== now.tool) reasons.push(`evidence version changed (${entry.tool} → ${now.tool})`);
  if (entry.definitionHash !== sha256(canonicalJson({ definition, outs: now.outs }))) {
    const nowUses = usesLabel(definition);
    const kindChanged = Boolean(entry.uses && nowUses && entry.uses !== nowUses);
    if (kindChanged) reasons.push(`stage kind changed (${entry.uses} → ${nowUses})`);
    const named = [...(entry.command !== command ? commandChanges(entry.command, command) : []), ...outsChanges(entry, now)];
    reasons.push(...named);
    // What the recorded command and outs cannot show: the timeout, an out's options, and a
    // value that redaction hides on both sides (named as such, never shown).
    if (!named.length && !kindChanged) reasons.push(`stage definition changed (${command.includes(REDACTED) ? 'a redacted value, ' : ''}its timeout or its outs' options)`);
  }
  const env = lockedEnv(now.env);
  for (const k of new Set([...Object.keys(entry.env ?? {}), ...Object.keys(env)])) {
    const was = entry.env?.[k];
    if (was === env[k]) continue;
    // A secret is named, never shown: not its value, not its digest.
    if (isSecretDigest(was) || isSecretDigest(env[k])) reasons.push(`env ${k} changed`);
    else reasons.push(`env ${k} changed (${was ?? 'unset'} → ${env[k] ?? 'unset'})`);
  }
  if (entry.cwd !== now.cwd) reasons.push(`cwd changed (${entry.cwd} → ${now.cwd})`);
  const params = lockedParams(now.params);
  for (const k of new Set([...Object.keys(entry.params ?? {}), ...Object.keys(params)])) {
    const was = entry.params?.[k];
    if (canonicalJson(was) === canonicalJson(params[k])) continue;
    if (isSecretDigest(was) || isSecretDigest(params[k])) reasons.push(`param ${k} changed`);
    else reasons.push(`param ${k} changed (${show(was)} → ${show(params[k])})`);
  }
  const oldDeps = entry.deps ?? {};
  for (const [p, h] of Object.entries(now.deps)) {
    if (!(p in oldDeps)) reasons.push(`dep '${p}' is new`);
    else if (oldDeps[p] !== h) reasons.push(h === 'missing' ? `dep '${p}' is missing` : `dep '${p}' changed`);
  }
  for (const p of Object.keys(oldDeps)) if (!(p in now.deps)) reasons.push(`dep '${p}' was removed`);
  for (const [up, outs] of Object.entries(now.upstream)) {
    for (const [p, h] of Object.entries(outs)) {
      // A changed out that is also a dep was already named as such.
      if (entry.upstream?.[up]?.[p] !== h && oldDeps[p] === now.deps[p]) reasons.push(`upstream '${up}' out '${p}' changed`);
    }
  }
  for (const up of Object.keys(entry.upstream ?? {})) {
    if (!(up in now.upstream)) reasons.push(`the outs of '${up}' are no longer an input`);
  }
  for (const up of Object.keys(now.upstream)) {
    if (!(up in (entry.upstream ?? {}))) reasons.push(`the outs of '${up}' are a new input`);
  }
  if (now.pipeline !== undefined && entry.pipeline !== now.pipeline && pipelines) reasons.push(...describedChange(entry.pipeline, pipelines()));
  if (!reasons.length) reasons.push('inputs changed');
  return reasons;
}
