// One run at a time per project: .evidence/run.lock names the run that holds the project (pid,
// start time, command line, host). It appears atomically with its full content (written to a temp
// file, then hard-linked into place, which fails when the name exists, like O_EXCL), so a reader
// never sees a half-written holder. A lock whose holder is dead (checked by pid, on this host) is
// taken over without a manual step. Knows nothing about pipelines or stages.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface RunLockHolder {
  pid: number;
  startedAt: string;
  argv: string[];
  host: string;
}

export interface RunLock {
  holder: RunLockHolder;
  /** Removes the lock if it is still ours. Idempotent; also runs on process exit. */
  release(): void;
}

export type AcquireResult =
  | { ok: true; lock: RunLock; tookOverFrom?: RunLockHolder }
  | { ok: false; holder: RunLockHolder | undefined };

export interface AcquireOptions {
  argv: string[];
  /** Wait for the holder to finish instead of giving up at once. */
  wait: boolean;
  /** Called once when a wait begins, with the holder being waited for. */
  onWait?: (holder: RunLockHolder | undefined) => void;
  signal?: AbortSignal;
  pollMs?: number;
}

/** A lock file younger than this with unreadable content may be a holder's rename in flight. */
const UNREADABLE_GRACE_MS = 2000;

export function runLockPath(stateDir: string): string {
  return join(stateDir, 'run.lock');
}

function readHolder(file: string): RunLockHolder | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as RunLockHolder;
    if (typeof data.pid === 'number' && typeof data.startedAt === 'string') return data;
  } catch {
    // Missing or unreadable.
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the holder of a lock is known to be gone. A holder on another host is never presumed dead. */
function isStale(file: string, holder: RunLockHolder | undefined): boolean {
  if (!holder) {
    try {
      return Date.now() - statSync(file).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false; // vanished: the next attempt will simply succeed
    }
  }
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  return !pidAlive(holder.pid);
}

function tryCreate(file: string, holder: RunLockHolder): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(holder) + '\n');
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes a stale lock, but only the one that was judged: it is first renamed to a private name
 * (atomic, so only one contender wins), then checked to still be the dead holder's. Had a live
 * run replaced it in between, it is put back.
 */
function removeStale(file: string, judged: RunLockHolder | undefined): boolean {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return false; // someone else took it first
  }
  const moved = readHolder(aside);
  const same = judged ? moved?.pid === judged.pid && moved?.startedAt === judged.startedAt : moved === undefined;
  if (same) {
    rmSync(aside, { force: true });
    return true;
  }
  // Not the lock we judged: restore it unless yet another run already holds the name.
  try {
    linkSync(aside, file);
  } catch {
    // The name is taken again; the run holding it won the race fairly.
  }
  rmSync(aside, { force: true });
  return false;
}

export async function acquireRunLock(stateDir: string, opts: AcquireOptions): Promise<AcquireResult> {
  const file = runLockPath(stateDir);
  const holder: RunLockHolder = { pid: process.pid, startedAt: new Date().toISOString(), argv: opts.argv, host: hostname() };
  let waiting = false;
  let tookOverFrom: RunLockHolder | undefined;
  for (;;) {
    if (tryCreate(file, holder)) return { ok: true, lock: makeLock(file, holder), tookOverFrom };
    const current = readHolder(file);
    if (isStale(file, current)) {
      if (removeStale(file, current) && current) tookOverFrom = current;
      continue;
    }
    if (!opts.wait) return { ok: false, holder: current };
    if (opts.signal?.aborted) return { ok: false, holder: current };
    if (!waiting) {
      waiting = true;
      opts.onWait?.(current);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}

function makeLock(file: string, holder: RunLockHolder): RunLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readHolder(file);
    if (current?.pid === holder.pid && current.startedAt === holder.startedAt) rmSync(file, { force: true });
  };
  // process.exit() (a third Ctrl-C) skips finally blocks, not 'exit' listeners.
  process.on('exit', release);
  return { holder, release };
}

export function describeHolder(h: RunLockHolder | undefined): string {
  if (!h) return 'another evidence run (its lock file is being written)';
  const cmd = h.argv.length ? ` (${h.argv.join(' ')})` : '';
  return `evidence run pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}, started ${h.startedAt}${cmd}`;
}
