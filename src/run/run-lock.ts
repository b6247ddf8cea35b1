// One run at a time per project: .evidence/run.lock names the run that holds the project (pid,
// start time, command line, host). It appears atomically with its full content (written to a temp
// file, then hard-linked into place, which fails when the name exists, like O_EXCL), so a reader
// never sees a half-written holder. A lock whose holder is dead (checked by pid, on this host) is
// taken over without a manual step. A pid alone does not prove the holder alive: after a crash or
// a reboot the kernel hands the same pid to an unrelated process, so the lock also records when the
// holder process started (Linux: /proc/PID/stat), and a live pid that started at another time is
// not the holder. Knows nothing about pipelines or stages.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface RunLockHolder {
  pid: number;
  startedAt: string;
  argv: string[];
  host: string;
  /**
   * When the holder process started, as the kernel counts it (clock ticks since boot, field 22 of
   * /proc/PID/stat). Absent where there is no /proc, and in locks of older versions.
   */
  processStart?: string;
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
    if (typeof data.pid === 'number' && typeof data.startedAt === 'string') {
      return typeof data.processStart === 'string' ? data : { ...data, processStart: undefined };
    }
  } catch {
    // Missing or unreadable.
  }
  return undefined;
}

/** A process's start time from /proc (clock ticks since boot), or undefined when it cannot be read. */
export function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[22 - 3];
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
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
  if (holder.pid === process.pid && (holder.processStart === undefined || holder.processStart === ownProcessStart())) return false;
  if (!pidAlive(holder.pid)) return true;
  // Alive, but is it the holder? Only a recorded start time can tell; without one, presume it is.
  if (holder.processStart === undefined) return false;
  const now = processStartOf(holder.pid);
  return now !== undefined && now !== holder.processStart;
}

let ownStart: string | undefined | null = null;
/** This process's start time, read once. */
function ownProcessStart(): string | undefined {
  if (ownStart === null) ownStart = processStartOf(process.pid);
  return ownStart;
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
  const holder: RunLockHolder = { pid: process.pid, startedAt: new Date().toISOString(), argv: opts.argv, host: hostname(), processStart: ownProcessStart() };
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
