// The shared remote cache, seen from one command: fetches a run record and the objects it names
// into the local store (so the workspace restores from there as from any local hit), and uploads
// the local store's records with their objects. Nothing from the server is trusted unverified: a
// record must pass its checksum and name its own fingerprint, every object must hash to its name,
// and a record is written locally only once all its objects are. Uploads put every object first
// and the record last, so a record is never visible before its content.
//
// The first failure of the server (down, slow, refusing the token, erroring) is reported once and
// turns the remote off for the rest of the command: the work goes on locally, each later stage
// does not wait for another timeout. A server that answers every lookup just inside the timeout
// would still delay each stage by almost that much: SLOW_STRIKES lookups slower than half the
// timeout (at most SLOW_LOOKUP_MS) turn it off too. Object downloads do not count: their time
// follows their size.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from '../fs/atomic-write.js';
import { HttpCacheClient } from './remote-http.js';
import type { RemoteSettings } from './remote-settings.js';
import { checksumOf, ObjectStore, type RunRecord } from './store.js';

/** What the workspace asks before a stage would run: bring this fingerprint's record into the local store. */
export interface RemoteRunSource {
  /** outs: the stage's declared out paths; a record must restore exactly those. */
  fetchRun(fingerprint: string, stage: string, outs: string[]): Promise<boolean>;
}

export type PushOutcome = { pushed: true; uploaded: number } | { pushed: false; why: 'no local record' | 'local object corrupt' | 'remote failed' };

/** Run records are small JSON; anything far larger is not one. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Objects of one record in flight at once. */
const PARALLEL = 4;
/** A run-record lookup slower than this (or half the timeout, if less) is a strike. */
const SLOW_LOOKUP_MS = 5000;
const SLOW_STRIKES = 3;

export function shortHash(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** A project-relative path that stays inside its base: no absolute path, no `..`, no empty or `.` part. */
function isPlainRelative(path: unknown): path is string {
  return typeof path === 'string' && path !== '' && !path.startsWith('/') && path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * A downloaded record, or why it is not trusted. Whoever can write to the server can also compute
 * a checksum, so the record's shape is checked too: it must restore exactly the stage's outs, files
 * of a folder out inside that folder, with an ordinary mode, from objects named by a sha256.
 */
export function checkRemoteRecord(text: string, fingerprint: string, outs?: string[]): { ok: true; record: RunRecord } | { ok: false; problem: string } {
  let stored: RunRecord & { checksum?: unknown };
  try {
    stored = JSON.parse(text) as RunRecord & { checksum?: unknown };
  } catch {
    return { ok: false, problem: 'is not JSON' };
  }
  if (!stored || typeof stored !== 'object' || !Array.isArray(stored.outs) || typeof stored.stage !== 'string' || typeof stored.createdAt !== 'string') return { ok: false, problem: 'is not a run record' };
  const { checksum, ...rest } = stored;
  const record: RunRecord = { stage: rest.stage, fingerprint: rest.fingerprint, outs: rest.outs, createdAt: rest.createdAt };
  if (record.fingerprint !== fingerprint) return { ok: false, problem: 'names another fingerprint' };
  if (typeof checksum !== 'string' || checksum !== checksumOf(record)) return { ok: false, problem: 'fails its checksum' };
  if (record.outs.some((o) => o.type === 'missing')) return { ok: false, problem: 'records a missing out' };
  if (outs && (record.outs.length !== outs.length || record.outs.some((o, i) => o.path !== outs[i]))) return { ok: false, problem: "does not restore this stage's outs" };
  for (const o of record.outs) {
    if (!isPlainRelative(o.path)) return { ok: false, problem: 'names a path outside the project' };
    if (o.type === 'dir' && (!Array.isArray(o.files) || o.files.some((f) => !isPlainRelative(f.path) || !f.path.startsWith(o.path + '/')))) return { ok: false, problem: 'names a file outside its folder out' };
    if (o.type !== 'dir' && o.type !== 'file') return { ok: false, problem: 'is not a run record' };
  }
  for (const f of ObjectStore.filesOf(record.outs)) {
    if (typeof f.hash !== 'string' || !/^[0-9a-f]{64}$/.test(f.hash)) return { ok: false, problem: 'names an object that is not a sha256' };
    if (f.mode !== 0o644 && f.mode !== 0o755) return { ok: false, problem: 'gives a file a mode other than 644 or 755' };
  }
  return { ok: true, record };
}

async function inPool<T>(items: T[], n: number, work: (item: T) => Promise<boolean>): Promise<boolean> {
  let next = 0;
  let ok = true;
  const worker = async () => {
    while (ok && next < items.length) if (!(await work(items[next++]!))) ok = false;
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return ok;
}

export class RemoteCache implements RemoteRunSource {
  private readonly http: HttpCacheClient;
  private failed = false;
  private slowLookups = 0;
  /** Objects the server served corrupt in this command: a push re-uploads them rather than trusting HEAD. */
  private readonly rejected = new Set<string>();
  readonly counts = { recordsFetched: 0, objectsDownloaded: 0, objectsUploaded: 0 };

  constructor(
    readonly settings: RemoteSettings,
    private readonly store: ObjectStore,
    /** Told each problem once; the caller renders it (the token is never in it). */
    private readonly warn: (message: string, stage?: string) => void,
  ) {
    this.http = new HttpCacheClient(settings);
  }

  /** False once the server has failed: nothing more is asked of it. */
  get usable(): boolean {
    return !this.failed;
  }

  close(): void {
    this.http.close();
  }

  private fail(problem: string): void {
    if (this.failed) return;
    this.failed = true;
    this.warn(`remote cache ${this.settings.url}: ${problem}; continuing with the local cache only`);
  }

  async fetchRun(fingerprint: string, stage: string, outs?: string[]): Promise<boolean> {
    if (this.failed) return false;
    const started = performance.now();
    const got = await this.http.getText(`ac/${fingerprint}`, MAX_RECORD_BYTES);
    if (!got.ok) {
      this.fail(got.problem);
      return false;
    }
    const slow = Math.min(SLOW_LOOKUP_MS, this.settings.timeoutMs / 2);
    if (performance.now() - started > slow && ++this.slowLookups >= SLOW_STRIKES) {
      this.fail(`${SLOW_STRIKES} lookups took over ${slow >= 1000 ? `${slow / 1000} s` : `${slow} ms`} each (too slow to wait for at every stage)`);
      return false;
    }
    if (got.value === undefined) return false;
    const checked = checkRemoteRecord(got.value, fingerprint, outs);
    if (!checked.ok) {
      this.warn(`the remote cache's run record ${shortHash(fingerprint)} ${checked.problem}; not trusted, the stage runs here`, stage);
      return false;
    }
    const { record } = checked;
    const needed = [...new Map(ObjectStore.filesOf(record.outs).map((f) => [f.hash, f])).values()].filter((f) => !this.store.has(f.hash));
    let refusal: string | undefined;
    const complete = await inPool(needed, PARALLEL, async (f) => {
      const r = await this.downloadObject(f.hash);
      if (r === 'ok') return true;
      if (r === 'absent') refusal ??= `names ${f.path} (object ${shortHash(f.hash)}), which the server does not have`;
      if (r === 'corrupt') refusal ??= `names ${f.path}, but the server's object ${shortHash(f.hash)} does not match its sha256 (corrupt); rejected`;
      return false;
    });
    if (!complete) {
      if (refusal) this.warn(`the remote cache's run record ${shortHash(fingerprint)} ${refusal}; not trusted, the stage runs here`, stage);
      return false;
    }
    this.store.writeRun(record);
    this.counts.recordsFetched++;
    return true;
  }

  /** Streams one object into the store: hashed on the way in, renamed into place only when it matches. */
  private async downloadObject(hash: string): Promise<'ok' | 'absent' | 'corrupt' | 'failed'> {
    const dest = this.store.objectPath(hash);
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = tempPathFor(dest);
    const hasher = createHash('sha256');
    try {
      const got = await this.http.getToFile(`cas/${hash}`, tmp, (chunk) => hasher.update(chunk));
      if (!got.ok) {
        this.fail(got.problem);
        return 'failed';
      }
      if (!got.value) return 'absent';
      if (hasher.digest('hex') !== hash) {
        this.rejected.add(hash);
        return 'corrupt';
      }
      chmodSync(tmp, 0o444);
      renameSync(tmp, dest);
      this.counts.objectsDownloaded++;
      return 'ok';
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * Uploads a local run record: every object it names that the server lacks, then the record. Two
   * runners pushing the same fingerprint write the same objects and each a complete record; the
   * last record written wins, and either one is whole.
   */
  async pushRun(fingerprint: string): Promise<PushOutcome> {
    if (this.failed) return { pushed: false, why: 'remote failed' };
    const record = this.store.readRun(fingerprint);
    if (!record) {
      this.store.takeRefusedRun(fingerprint);
      return { pushed: false, why: 'no local record' };
    }
    const files = [...new Map(ObjectStore.filesOf(record.outs).map((f) => [f.hash, f])).values()];
    let corrupt = false;
    let uploaded = 0;
    const ok = await inPool(files, PARALLEL, async (f) => {
      // Never spread a corrupt local object: the readers would reject it, but it would stay there.
      if (!(await this.store.verify(f.hash))) {
        corrupt = true;
        return false;
      }
      if (!this.rejected.has(f.hash)) {
        const there = await this.http.head(`cas/${f.hash}`);
        if (!there.ok) {
          this.fail(there.problem);
          return false;
        }
        if (there.value) return true;
      }
      const put = await this.http.put(`cas/${f.hash}`, { file: this.store.objectPath(f.hash) });
      if (!put.ok) {
        this.fail(put.problem);
        return false;
      }
      this.rejected.delete(f.hash);
      uploaded++;
      return true;
    });
    this.counts.objectsUploaded += uploaded;
    if (corrupt) return { pushed: false, why: 'local object corrupt' };
    if (!ok) return { pushed: false, why: 'remote failed' };
    // Last: the record makes the upload visible, and only now is all it names there.
    const put = await this.http.put(`ac/${fingerprint}`, { bytes: readFileSync(this.store.runPath(fingerprint)) });
    if (!put.ok) {
      this.fail(put.problem);
      return { pushed: false, why: 'remote failed' };
    }
    return { pushed: true, uploaded };
  }
}
