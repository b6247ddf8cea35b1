// evidence.lock: the committed record of what each stage last produced and from what. YAML so that
// reviews can read it; rewritten whole, atomically, when a run folds its journal in (see
// lock-journal.ts: a finished stage costs one appended line, not a rewrite). A JSON mirror keyed by
// the text's sha256 lets a no-op run skip loading the YAML library (~25 ms of start-up).
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileSignature, writeFileAtomicSync, writeFileAtomicSyncSigned } from '../fs/atomic-write.js';
import { toYaml } from './lock-yaml.js';

const require = createRequire(import.meta.url);

export interface LockEntry {
  fingerprint: string;
  command: string;
  env: Record<string, string>;
  cwd: string;
  params: Record<string, unknown>;
  deps: Record<string, string>;
  upstream: Record<string, Record<string, string>>;
  outs: Record<string, { hash: string; size: number }>;
  tool: string;
  /** uses-stages: the kind and its version (`parse-trace@1`), or `script` for a user's script. */
  uses?: string;
  definitionHash: string;
  /**
   * A stage that describes the pipeline: the hash of the pipeline it described (pipeline-digest.ts).
   * Locks written before 0.1.1 hold the part digests themselves.
   */
  pipeline?: string | PipelineDigest;
}

/** Short digests, only to say what changed (the fingerprint covers the full definitions). */
export interface PipelineDigest {
  env: string;
  /** Stage name → `part=digest` pairs separated by spaces, e.g. `with=1a2b3c4d env=…`. */
  stages: Record<string, string>;
}

export interface LockFile {
  version: 1;
  stages: Record<string, LockEntry>;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function empty(): LockFile {
  return { version: 1, stages: {} };
}

/** What a missing evidence.lock counts as, where the sha256 of its text is asked for. */
export const NO_LOCK = 'none';

export interface ReadLock {
  lock: LockFile;
  /** What was wrong with the file (it is then rebuilt as stages run): for a warning. */
  problems: string[];
  /** sha256 of the text read, or NO_LOCK: which lock a journal line extends. */
  sha: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringMap = (v: unknown) => isRecord(v) && Object.values(v).every((x) => typeof x === 'string');

/** Why an entry cannot be used, or undefined: a lock edited by hand or by another tool must not crash a run. */
export function entryProblem(e: unknown): string | undefined {
  if (!isRecord(e)) return 'not a mapping';
  for (const k of ['fingerprint', 'command', 'cwd', 'tool', 'definitionHash'] as const) if (typeof e[k] !== 'string') return `'${k}' is not a string`;
  if (!isStringMap(e.env)) return "'env' is not a mapping of strings";
  if (!isRecord(e.params)) return "'params' is not a mapping";
  if (!isStringMap(e.deps)) return "'deps' is not a mapping of hashes";
  if (!isRecord(e.upstream) || !Object.values(e.upstream).every(isStringMap)) return "'upstream' is not a mapping of out hashes";
  if (!isRecord(e.outs) || !Object.values(e.outs).every((o) => isRecord(o) && typeof o.hash === 'string' && typeof o.size === 'number')) return "'outs' is not a mapping of {hash, size}";
  if (e.uses !== undefined && typeof e.uses !== 'string') return "'uses' is not a string";
  return undefined;
}

/** The lock with every unusable entry left out, and what was left out. */
function checked(data: unknown, sha: string): ReadLock {
  if (!isRecord(data) || data.version !== 1 || !isRecord(data.stages)) return { lock: empty(), problems: ['it is not an evidence lock (version 1 with stages)'], sha };
  const lock = empty();
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(data.stages)) {
    const problem = entryProblem(entry);
    if (problem) problems.push(`stage '${name}': ${problem}`);
    else lock.stages[name] = entry as unknown as LockEntry;
  }
  return { lock, problems, sha };
}

export function readLock(file: string, mirror?: string): LockFile {
  return readLockChecked(file, mirror).lock;
}

/**
 * A file written in the same clock tick as it was verified could change without its mtime moving
 * (the stat cache's "racy" problem, src/cache/hash.ts): the mirror is trusted by signature only
 * once the lock's mtime lies this far before the moment its content was verified.
 */
const RACY_WINDOW_MS = 1000;

interface Mirror {
  sha: string;
  lock: LockFile;
  /** The lock file's identity (fileSignature) when its content was last verified or written. */
  signature?: string;
  /** When that was (ms since the epoch). */
  at?: number;
}

function mtimeMsOf(signature: string): number {
  return Number(BigInt(signature.slice(signature.lastIndexOf(':') + 1)) / 1_000_000n);
}

export function readLockChecked(file: string, mirror?: string): ReadLock {
  // Both taken before the text is read: an edit in between leaves a signature that matches nothing.
  const signature = fileSignature(file);
  const verifiedAt = Date.now();
  let cached: Mirror | undefined;
  if (mirror && signature !== undefined) {
    try {
      cached = JSON.parse(readFileSync(mirror, 'utf8')) as Mirror;
    } catch {
      // No usable mirror: parse the YAML.
    }
    // The lock as verified before, untouched since: neither read nor hashed again (a 5,000-stage
    // lock is 3.4 MB, ~35 ms of a no-op run's ~1 s).
    if (cached?.signature === signature && cached.at !== undefined && cached.at - mtimeMsOf(signature) >= RACY_WINDOW_MS) {
      return { lock: cached.lock, problems: [], sha: cached.sha };
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { lock: empty(), problems: [], sha: NO_LOCK };
  }
  const sha = digest(text);
  const settled = signature !== undefined && verifiedAt - mtimeMsOf(signature) >= RACY_WINDOW_MS;
  if (cached?.sha === sha) {
    // Verified by content now, and old enough to be trusted by its signature from now on.
    if (settled) writeMirror(mirror!, { sha, lock: cached.lock, signature, at: verifiedAt });
    return { lock: cached.lock, problems: [], sha };
  }
  let data: unknown;
  try {
    const { parse } = require('yaml') as typeof import('yaml');
    data = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    return { lock: empty(), problems: [`it is not valid YAML (${(err as Error).message.split('\n')[0]})`], sha };
  }
  const result = checked(data, sha);
  if (mirror && !result.problems.length) writeMirror(mirror, { sha, lock: result.lock, signature, at: verifiedAt });
  return result;
}

function writeMirror(mirror: string, content: Mirror): void {
  try {
    writeFileAtomicSync(mirror, JSON.stringify(content));
  } catch {
    // The mirror is an accelerator only (a read-only checkout has none).
  }
}

/**
 * Writes the lock (stages sorted by name); returns the sha256 of the text written and the file's
 * identity as written (fileSignature), which names this content until the file is written again.
 */
export function writeLock(file: string, lock: LockFile, mirror?: string): { sha: string; signature: string } {
  const sorted: LockFile = { version: 1, stages: {} };
  for (const name of Object.keys(lock.stages).sort()) sorted.stages[name] = lock.stages[name]!;
  const text = `# Written by evidence; commit it with the code it describes.\n${toYaml(sorted as unknown as Record<string, unknown>)}`;
  const sha = digest(text);
  const signature = writeFileAtomicSyncSigned(file, text);
  // Written in this clock tick: trusted by signature only after a later read verified it.
  if (mirror) writeMirror(mirror, { sha, lock: sorted, signature, at: Date.now() });
  return { sha, signature };
}
