// evidence.lock: the committed record of what each stage last produced and from what. YAML so that
// reviews can read it; rewritten whole, atomically, after every successful stage. A JSON mirror
// keyed by the text's sha256 lets a no-op run skip loading the YAML library (~25 ms of start-up).
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
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
  /** A stage that describes the pipeline: digests of the parts of every other stage (see lock-entry). */
  pipeline?: PipelineDigest;
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

export function readLock(file: string, mirror?: string): LockFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return empty();
  }
  const sha = digest(text);
  if (mirror) {
    try {
      const cached = JSON.parse(readFileSync(mirror, 'utf8')) as { sha: string; lock: LockFile };
      if (cached.sha === sha) return cached.lock;
    } catch {
      // No usable mirror: parse the YAML.
    }
  }
  try {
    const { parse } = require('yaml') as typeof import('yaml');
    const data = parse(text) as LockFile | null;
    if (data && data.version === 1 && data.stages && typeof data.stages === 'object') {
      if (mirror) writeFileAtomicSync(mirror, JSON.stringify({ sha, lock: data }));
      return data;
    }
  } catch {
    // An unreadable lock means nothing is known to be up to date.
  }
  return empty();
}

export function writeLock(file: string, lock: LockFile, mirror?: string): void {
  const sorted: LockFile = { version: 1, stages: {} };
  for (const name of Object.keys(lock.stages).sort()) sorted.stages[name] = lock.stages[name]!;
  const text = `# Written by evidence; commit it with the code it describes.\n${toYaml(sorted as unknown as Record<string, unknown>)}`;
  writeFileAtomicSync(file, text);
  if (mirror) writeFileAtomicSync(mirror, JSON.stringify({ sha: digest(text), lock: sorted }));
}
