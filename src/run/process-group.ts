// Process groups of running stages: whether one still has a live member, how to end it (SIGTERM,
// then SIGKILL after a grace period) and a registry of the groups this process started, so that a
// forced exit can still kill them. Knows nothing about stages or the scheduler.
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const live = new Set<number>();
/** Where the groups of the current run are recorded, so that a run killed with -9 can be cleaned up after. */
let recordDir: string | undefined;
/** Whether recordDir was made: once per run, not once per stage (each spawn is on a cold run's critical path). */
let recordDirMade = false;

/** Records every group registered from now on as a file in `dir` (the project's .evidence/groups). */
export function recordGroupsIn(dir: string): void {
  recordDir = dir;
  recordDirMade = false;
}

/** The kernel's start time of a process (clock ticks since boot): with the pid, it names one process for good. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function registerGroup(pgid: number): void {
  live.add(pgid);
  if (!recordDir) return;
  const record = JSON.stringify({ pgid, start: startTimeOf(pgid) ?? null });
  const file = join(recordDir, String(pgid));
  try {
    if (!recordDirMade) {
      mkdirSync(recordDir, { recursive: true });
      recordDirMade = true;
    }
    writeFileSync(file, record);
  } catch {
    // The folder went away under the run (made again once), or recording is impossible: it is for
    // the cleanup after a crash only, and the run goes on without it.
    try {
      mkdirSync(recordDir, { recursive: true });
      writeFileSync(file, record);
    } catch {
      recordDirMade = false;
    }
  }
}

export function unregisterGroup(pgid: number): void {
  live.delete(pgid);
  if (!recordDir) return;
  try {
    unlinkSync(join(recordDir, String(pgid)));
  } catch {
    // Never recorded (the folder could not be written), or already gone.
  }
}

/**
 * Ends the groups that a run which died without cleaning up (kill -9) left running, as recorded in
 * `dir`. A recorded leader whose pid now belongs to another process (its start time differs) is
 * left alone. Returns the groups that were ended.
 */
export function endGroupsLeftBy(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const ended: number[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const { pgid, start } = JSON.parse(readFileSync(file, 'utf8')) as { pgid: number; start: string | null };
      const now = startTimeOf(pgid);
      // Without a recorded start time, only a leader that is gone is certain: its group is ours.
      if ((start !== null && now === start) || (now === undefined && groupAlive(pgid))) {
        signalGroup(pgid, 'SIGKILL');
        ended.push(pgid);
      }
    } catch {
      // An unreadable record: nothing safe to do but forget it.
    }
    rmSync(file, { force: true });
  }
  return ended;
}

/** SIGKILLs every group still registered, synchronously: the last thing a forced exit does. */
export function killRegisteredGroupsNow(): void {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  live.clear();
}

export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * True while the group has a member that is not a zombie. kill(-pgid, 0) alone also counts
 * zombies, and in containers whose PID 1 does not reap orphans those linger for ever; on Linux
 * /proc tells the two apart.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

const POLL_MS = 50;

/**
 * Ends a group: SIGTERM now, SIGKILL once `graceMs` passed with a member still alive. Resolves
 * when the group is empty (or right after the SIGKILL, which cannot be refused).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<'empty' | 'terminated' | 'killed'> {
  if (!groupAlive(pgid)) return 'empty';
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    if (!groupAlive(pgid)) return 'terminated';
  }
  signalGroup(pgid, 'SIGKILL');
  return 'killed';
}
