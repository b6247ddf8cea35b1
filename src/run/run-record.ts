// .evidence/runs.jsonl: one line per finished run (id, times, status, command line), so that an
// interrupted or failed run stays on record after its terminal output is gone. Append-only; a
// torn last line after a crash is skipped by readers.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunRecordLine {
  runId: string;
  pid: number;
  argv: string[];
  startedAt: string;
  finishedAt: string;
  status: 'success' | 'failed' | 'interrupted' | 'gate';
  /** Stages that failed, with their reasons. */
  failed: Array<{ stage: string; reason: string }>;
  blocker?: 'done' | 'failed';
}

export function appendRunRecord(stateDir: string, rec: RunRecordLine): void {
  try {
    appendFileSync(join(stateDir, 'runs.jsonl'), JSON.stringify(rec) + '\n');
  } catch {
    // The record is a convenience; a full disk must not turn a run's outcome into a crash.
  }
}
