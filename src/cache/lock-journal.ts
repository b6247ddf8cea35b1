// .evidence/lock.journal: what finished since evidence.lock was last written, one JSON line per
// stage, so that recording a stage costs one appended line instead of rewriting and re-reading the
// whole lock (which made a stage's bookkeeping grow with the pipeline: 17 % of a 200-stage run).
//
// Each line names the lock it extends (the sha256 of that lock's text) and ends with a checksum of
// itself. A line torn by kill -9 fails its checksum and is left out; a journal whose lock has been
// rewritten since (folded in, or replaced by a checkout) adds nothing. A run folds the journal into
// evidence.lock when it ends, when it is interrupted, and when it starts after a killed run.
//
// Readers that hold no run lock (status, a dry run) read the journal first and the lock second:
// if a run folded the journal in between, the lock they then read is newer than every line they
// hold, the lines' base no longer matches, and the lock alone is the state. Either way they see a
// state that existed, never an old lock without the lines that were folded into the new one.
import { readFileSync, rmSync } from 'node:fs';
import { AppendLog } from '../fs/append-log.js';
import { fileSignature } from '../fs/atomic-write.js';
import { basename } from 'node:path';
import { sha256 } from './fingerprint.js';
import { entryProblem, NO_LOCK, readLockChecked, writeLock, type LockEntry, type LockFile, type ReadLock } from './lock.js';

const FORMAT = 1;
/** The checksum closes every line: a sha256 of the line's text before it. */
const SUM = /,"sum":"([0-9a-f]{64})"\}$/;

export interface JournalRecord {
  /** sha256 of the evidence.lock text this line extends (NO_LOCK: there was none). */
  base: string;
  stage: string;
  entry: LockEntry;
}

export interface JournalRead {
  /** The file exists (whatever it holds, a run folds it in and removes it). */
  found: boolean;
  records: JournalRecord[];
  /** Complete lines that fail their checksum or do not hold a lock entry: corruption, for a warning. */
  problems: string[];
}

/** One journal line, newline included. */
export function journalLine(base: string, stage: string, entry: LockEntry): string {
  const head = JSON.stringify({ v: FORMAT, base, stage, entry }).slice(0, -1);
  return `${head},"sum":"${sha256(head)}"}\n`;
}

function recordOf(line: string): JournalRecord | string {
  const sum = SUM.exec(line);
  if (!sum || sha256(line.slice(0, sum.index)) !== sum[1]) return 'fails its checksum';
  let data: { v?: unknown; base?: unknown; stage?: unknown; entry?: unknown };
  try {
    data = JSON.parse(line) as typeof data;
  } catch {
    return 'is not JSON';
  }
  if (!data || typeof data !== 'object' || data.v !== FORMAT || typeof data.base !== 'string' || typeof data.stage !== 'string' || data.stage === '__proto__') return 'is not a journal record of this version';
  const problem = entryProblem(data.entry);
  if (problem) return `stage '${data.stage}': ${problem}`;
  return { base: data.base, stage: data.stage, entry: data.entry as LockEntry };
}

export function readJournal(file: string): JournalRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { found: false, records: [], problems: [] };
  }
  const lines = text.split('\n');
  // After the last newline: nothing, or the line a killed run (or a run still appending, for a
  // reader) was writing. Never a whole record, since a line and its newline go in one write.
  lines.pop();
  const records: JournalRecord[] = [];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (!line) return;
    const r = recordOf(line);
    if (typeof r === 'string') problems.push(`${basename(file)} line ${i + 1} ${r}`);
    else records.push(r);
  });
  return { found: true, records, problems };
}

/** The lock as read with the journal's lines that extend it applied, in order; and how many applied. */
export function applyJournal(read: ReadLock, journal: JournalRead): ReadLock & { applied: number } {
  const lock: LockFile = { version: 1, stages: { ...read.lock.stages } };
  let applied = 0;
  for (const r of journal.records) {
    if (r.base !== read.sha) continue;
    lock.stages[r.stage] = r.entry;
    applied++;
  }
  return { lock, problems: [...read.problems, ...journal.problems], sha: read.sha, applied };
}

/**
 * evidence.lock and its journal as one state, kept in memory: a recorded stage is one appended
 * line, and nothing just written is read back.
 */
export class JournaledLock {
  lock: LockFile = { version: 1, stages: {} };
  problems: string[] = [];
  /** sha256 of the lock file as last read or written: the base of the lines appended now. */
  private base = NO_LOCK;
  /** A journal file exists (this run's lines, or a killed run's): folding in removes it. */
  private journalOnDisk = false;
  /** Entries in memory that evidence.lock does not hold yet. */
  private unwritten = 0;
  /** The lock file's identity as this process last wrote it (fileSignature): reading it back is skipped. */
  private written: string | undefined;
  private readonly journal: AppendLog;

  constructor(
    readonly lockFile: string,
    private readonly mirror: string,
    readonly journalFile: string,
  ) {
    this.journal = new AppendLog(journalFile);
  }

  /** Reads lock + journal (journal first: see the header), unless they are what this process wrote. */
  load(): void {
    const journal = readJournal(this.journalFile);
    // A watch cycle after the one that wrote the lock: memory already holds it. A rename by any
    // other writer gives the file another inode, so the signature cannot match by accident.
    if (!journal.found && this.written !== undefined && this.written === fileSignature(this.lockFile)) return;
    const state = applyJournal(readLockChecked(this.lockFile, this.mirror), journal);
    this.lock = state.lock;
    this.problems = state.problems;
    this.base = state.sha;
    this.journalOnDisk = journal.found;
    this.unwritten = state.applied;
  }

  /** Records a stage's entry: in memory, and as one line appended to the journal. */
  record(stage: string, entry: LockEntry): void {
    this.lock.stages[stage] = entry;
    this.unwritten++;
    this.journalOnDisk = true;
    this.journal.append(journalLine(this.base, stage, entry));
  }

  /**
   * Writes evidence.lock from memory when it lacks entries, then removes the journal. The lock is
   * in place before the journal goes: a kill in between leaves lines whose base no longer matches.
   */
  compact(): void {
    if (this.unwritten) {
      const written = writeLock(this.lockFile, this.lock, this.mirror);
      this.base = written.sha;
      this.unwritten = 0;
      // What was wrong with the file read is gone from the file written.
      this.problems = [];
      this.written = written.signature;
    }
    this.journal.close();
    if (this.journalOnDisk) {
      rmSync(this.journalFile, { force: true });
      this.journalOnDisk = false;
    }
  }
}
