// The content-addressed object store (.evidence/cache/objects) and the run cache
// (.evidence/cache/runs: fingerprint → outs). Objects are written with temp-and-rename and
// re-hashed before every restore, so a corrupted object is reported and never restored.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempPathFor, writeFileAtomicSync } from '../fs/atomic-write.js';
import { hashFileContent, type FileEntry, type PathHash } from './hash.js';

export interface RunRecord {
  stage: string;
  fingerprint: string;
  /** Outs as hashed after the successful run (files and folder trees). */
  outs: PathHash[];
  createdAt: string;
}

export class ObjectStore {
  readonly objectsDir: string;
  readonly runsDir: string;

  constructor(readonly cacheDir: string) {
    this.objectsDir = join(cacheDir, 'objects');
    this.runsDir = join(cacheDir, 'runs');
  }

  objectPath(hash: string): string {
    return join(this.objectsDir, hash.slice(0, 2), hash.slice(2));
  }

  has(hash: string): boolean {
    return existsSync(this.objectPath(hash));
  }

  /** Copies a file into the store under its (already computed) hash, unless present. */
  put(absFile: string, hash: string): void {
    const dest = this.objectPath(hash);
    if (existsSync(dest)) return;
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = tempPathFor(dest);
    copyFileSync(absFile, tmp);
    // Objects are immutable: a later chmod/edit of a restored file must not reach the store.
    chmodSync(tmp, 0o444);
    renameSync(tmp, dest);
  }

  /** True when the object's bytes still hash to its name. */
  async verify(hash: string): Promise<boolean> {
    try {
      return (await hashFileContent(this.objectPath(hash))) === hash;
    } catch {
      return false;
    }
  }

  /** Writes an object to `absDest` (temp-and-rename), with the recorded executable bit. */
  restoreFile(entry: FileEntry, absDest: string): void {
    mkdirSync(dirname(absDest), { recursive: true });
    // The runner's temp naming, so a restore cut short by kill -9 leaves nothing that passes for content.
    const tmp = tempPathFor(absDest);
    copyFileSync(this.objectPath(entry.hash), tmp);
    chmodSync(tmp, entry.mode);
    renameSync(tmp, absDest);
  }

  /**
   * Moves a corrupt object out of the way (into cache/corrupt/, kept for inspection), so that the
   * next put of the same content stores a good copy instead of trusting the bad one.
   */
  quarantine(hash: string): void {
    const src = this.objectPath(hash);
    if (!existsSync(src)) return;
    const dest = join(this.cacheDir, 'corrupt', `${hash}.${Date.now()}`);
    mkdirSync(dirname(dest), { recursive: true });
    try {
      renameSync(src, dest);
    } catch {
      rmSync(src, { force: true });
    }
  }

  runPath(fingerprint: string): string {
    return join(this.runsDir, fingerprint.slice(0, 2), `${fingerprint}.json`);
  }

  readRun(fingerprint: string): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.runPath(fingerprint), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }

  writeRun(record: RunRecord): void {
    writeFileAtomicSync(this.runPath(record.fingerprint), JSON.stringify(record));
  }

  forgetRun(fingerprint: string): void {
    rmSync(this.runPath(fingerprint), { force: true });
  }

  /** Every file entry of a set of outs. */
  static filesOf(outs: PathHash[]): FileEntry[] {
    const files: FileEntry[] = [];
    for (const o of outs) {
      if (o.type === 'file') files.push(o);
      else if (o.type === 'dir') files.push(...o.files);
    }
    return files;
  }
}

export function sha256File(abs: string): string {
  return createHash('sha256').update(readFileSync(abs)).digest('hex');
}

export function sizeOf(abs: string): number {
  return statSync(abs).size;
}
