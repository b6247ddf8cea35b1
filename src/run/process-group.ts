// Process groups of running stages: whether one still has a live member, how to end it (SIGTERM,
// then SIGKILL after a grace period) and a registry of the groups this process started, so that a
// forced exit can still kill them. Knows nothing about stages or the scheduler.
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<number>();

export function registerGroup(pgid: number): void {
  live.add(pgid);
}

export function unregisterGroup(pgid: number): void {
  live.delete(pgid);
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
