// The content-addressed object store (.evidence/cache/objects) and the run cache
// (.evidence/cache/runs: fingerprint → outs). Objects are written with temp-and-rename and
// re-hashed before every restore, so a corrupted object is reported and never restored. A run
// record carries a checksum of its content and its own fingerprint: one edited by hand (its outs
// pointed at other, valid objects) or copied under another fingerprint is not restored from, and
// is reported. The checksum guards against corruption and casual tampering, not against someone
// who can rewrite .evidence/ and recompute it: that one could as well rewrite the outs.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inFolderOf, tempPathFor, writeFileAtomicSync } from '../fs/atomic-write.js';
import { hashFileContent, type FileEntry, type PathHash } from './hash.js';
import { canonicalJson, sha256 } from './fingerprint.js';

export interface RunRecord {
  stage: string;
  fingerprint: string;
  /** Outs as hashed after the successful run (files and folder trees). */
  outs: PathHash[];
  createdAt: string;
}

/** Why a run record was not trusted. */
export interface CorruptRun {
  /** Absolute path of the record file. */
  file: string;
  problem: 'no checksum' | 'checksum mismatch' | 'unreadable';
}

const RECORD_FORMAT = 'evidence-run-record/1';

export function checksumOf(r: RunRecord): string {
  return sha256(canonicalJson({ format: RECORD_FORMAT, stage: r.stage, fingerprint: r.fingerprint, outs: r.outs, createdAt: r.createdAt }));
}

export class ObjectStore {
  readonly objectsDir: string;
  readonly runsDir: string;
  /** Records that readRun refused, by fingerprint, until the caller takes the report. */
  private readonly refused = new Map<string, CorruptRun>();

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
    const tmp = tempPathFor(dest);
    inFolderOf(dest, () => copyFileSync(absFile, tmp));
    // Objects are immutable: a later chmod/edit of a restored file must not reach the store.
    chmodSync(tmp, 0o444);
    renameSync(tmp, dest);
  }

  /** Stores bytes already read (and hashed by the caller from these very bytes), unless present. */
  putBytes(bytes: Uint8Array, hash: string): void {
    const dest = this.objectPath(hash);
    if (existsSync(dest)) return;
    writeFileAtomicSync(dest, bytes);
    chmodSync(dest, 0o444);
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

  /** The record of a fingerprint; undefined when there is none or it cannot be trusted (see takeRefusedRun). */
  readRun(fingerprint: string): RunRecord | undefined {
    const file = this.runPath(fingerprint);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    let stored: RunRecord & { checksum?: unknown };
    try {
      stored = JSON.parse(text) as RunRecord & { checksum?: unknown };
      if (!stored || typeof stored !== 'object' || !Array.isArray(stored.outs)) throw new Error('not a run record');
    } catch {
      this.refused.set(fingerprint, { file, problem: 'unreadable' });
      return undefined;
    }
    const { checksum, ...record } = stored;
    if (typeof checksum !== 'string') {
      this.refused.set(fingerprint, { file, problem: 'no checksum' });
      return undefined;
    }
    if (record.fingerprint !== fingerprint || checksum !== checksumOf(record)) {
      this.refused.set(fingerprint, { file, problem: 'checksum mismatch' });
      return undefined;
    }
    return record;
  }

  /** Why readRun refused this fingerprint's record, once; undefined when it did not. */
  takeRefusedRun(fingerprint: string): CorruptRun | undefined {
    const found = this.refused.get(fingerprint);
    this.refused.delete(fingerprint);
    return found;
  }

  writeRun(record: RunRecord): void {
    const { stage, fingerprint, outs, createdAt } = record;
    const clean: RunRecord = { stage, fingerprint, outs, createdAt };
    writeFileAtomicSync(this.runPath(fingerprint), JSON.stringify({ ...clean, checksum: checksumOf(clean) }));
  }

  /** Moves a refused record aside (into cache/corrupt/, for inspection), so that a good one can take its place. */
  quarantineRun(fingerprint: string): void {
    const src = this.runPath(fingerprint);
    const dest = join(this.cacheDir, 'corrupt', `run-${fingerprint}.${Date.now()}.json`);
    try {
      mkdirSync(dirname(dest), { recursive: true });
      renameSync(src, dest);
    } catch {
      rmSync(src, { force: true });
    }
  }

  /** Marks a record as just used (a restore), so that gc's least-recently-used order sees it. */
  touchRun(fingerprint: string): void {
    const now = new Date();
    try {
      utimesSync(this.runPath(fingerprint), now, now);
    } catch {
      // A read-only store still restores; gc then judges the record by when it was written.
    }
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
