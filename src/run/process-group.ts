// Process groups of running stages: whether one still has a live member, how to end it (SIGTERM,
// then SIGKILL after a grace period) and a registry of the groups this process started, so that a
// forced exit can still kill them. Knows nothing about stages or the scheduler.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppendLog } from '../fs/append-log.js';

const live = new Set<number>();
/**
 * Where the groups of the current run are recorded, so that a run killed with -9 can be cleaned
 * up after: one line per group started (`+pgid start`) and one per group ended (`-pgid`), in one
 * file held open (a cold run's critical path passes here at every stage start and end).
 */
let record: { dir: string; log: AppendLog; made: boolean } | undefined;
const LOG_NAME = 'groups.log';

/**
 * Records every group registered from now on in `dir` (the project's .evidence/groups). What an
 * earlier run recorded there is dropped: the caller holds the run lock, and ended what a run that
 * died had left (endGroupsLeftBy) before calling this.
 */
export function recordGroupsIn(dir: string): void {
  record?.log.close();
  rmSync(join(dir, LOG_NAME), { force: true });
  record = { dir, log: new AppendLog(join(dir, LOG_NAME)), made: false };
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

/** Makes the record folder, once per run (a cold run's critical path passes here at every stage). */
function recordFolderMade(): boolean {
  if (!record) return false;
  if (!record.made) {
    try {
      mkdirSync(record.dir, { recursive: true });
      record.made = true;
    } catch {
      return false;
    }
  }
  return true;
}

function writeRecord(line: string): void {
  if (!record || !recordFolderMade()) return;
  try {
    record.log.append(line);
  } catch {
    // The folder went away under the run (made again once), or recording is impossible: it is for
    // the cleanup after a crash only, and the run goes on without it.
    record.log.close();
    record.made = false;
    try {
      if (recordFolderMade()) record.log.append(line);
    } catch {
      record.made = false;
    }
  }
}

/**
 * The file a process starter may append `+pgid start` lines to itself (evidence-spawner does, right
 * after it answers), or undefined when this run records nothing. Its folder exists.
 */
export function groupRecordFile(): string | undefined {
  return record && recordFolderMade() ? record.log.file : undefined;
}

/** A group started by this run; `recorded`: its start line was already appended (groupRecordFile). */
export function registerGroup(pgid: number, recorded = false): void {
  live.add(pgid);
  if (record && !recorded) writeRecord(`+${pgid} ${startTimeOf(pgid) ?? '-'}\n`);
}

export function unregisterGroup(pgid: number): void {
  if (!live.delete(pgid)) return;
  writeRecord(`-${pgid}\n`);
}

/** The groups a record folder lists as started and not ended, with their leaders' start times. */
function groupsRecordedIn(dir: string): Array<{ pgid: number; start: string | null }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const open = new Map<number, string | null>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (name === LOG_NAME) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const m = /^([+-])([0-9]+)(?: (\S+))?$/.exec(line);
          if (!m) continue; // a line cut short by the kill
          if (m[1] === '+') open.set(Number(m[2]), m[3] === '-' || m[3] === undefined ? null : m[3]);
          else open.delete(Number(m[2]));
        }
      } else if (/^[0-9]+$/.test(name)) {
        // One file per group: how earlier versions recorded them.
        const { pgid, start } = JSON.parse(readFileSync(file, 'utf8')) as { pgid: number; start: string | null };
        open.set(pgid, start);
      }
    } catch {
      // An unreadable record: nothing safe to do but forget it.
    }
    rmSync(file, { force: true });
  }
  return [...open].map(([pgid, start]) => ({ pgid, start }));
}

/**
 * Ends the groups that a run which died without cleaning up (kill -9) left running, as recorded in
 * `dir`. A recorded leader whose pid now belongs to another process (its start time differs) is
 * left alone. Returns the groups that were ended.
 */
export function endGroupsLeftBy(dir: string): number[] {
  const ended: number[] = [];
  for (const { pgid, start } of groupsRecordedIn(dir)) {
    const now = startTimeOf(pgid);
    // Without a recorded start time, only a leader that is gone is certain: its group is ours.
    if ((start !== null && now === start) || (now === undefined && groupAlive(pgid))) {
      signalGroup(pgid, 'SIGKILL');
      ended.push(pgid);
    }
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
