// evidence.lock: the committed record of what each stage last produced and from what. YAML so that
// reviews can read it; rewritten whole, atomically, after every successful stage.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { writeFileAtomicSync } from './atomic-write.js';

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
  definitionHash: string;
}

export interface LockFile {
  version: 1;
  stages: Record<string, LockEntry>;
}

export function readLock(file: string): LockFile {
  try {
    const data = parse(readFileSync(file, 'utf8')) as LockFile | null;
    if (data && data.version === 1 && data.stages && typeof data.stages === 'object') return data;
  } catch {
    // A missing or unreadable lock means nothing is known to be up to date.
  }
  return { version: 1, stages: {} };
}

export function writeLock(file: string, lock: LockFile): void {
  const sorted: LockFile = { version: 1, stages: {} };
  for (const name of Object.keys(lock.stages).sort()) sorted.stages[name] = lock.stages[name]!;
  writeFileAtomicSync(file, `# Written by evidence; commit it with the code it describes.\n${stringify(sorted, { lineWidth: 0 })}`);
}
