// .evidence/runs.jsonl: one line per finished run (id, times, status, command line, params), so that an
// interrupted or failed run stays on record after its terminal output is gone. Append-only; a
// torn last line after a crash is skipped by readers.
import { appendFileSync, readFileSync } from 'node:fs';
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
  /** The params the run used (overrides applied), secret values as digests as in evidence.lock. */
  params?: Record<string, unknown>;
}

export function appendRunRecord(stateDir: string, rec: RunRecordLine): void {
  try {
    appendFileSync(join(stateDir, 'runs.jsonl'), JSON.stringify(rec) + '\n');
  } catch {
    // The record is a convenience; a full disk must not turn a run's outcome into a crash.
  }
}

/** Every recorded run, oldest first; a torn or foreign line is skipped. */
export function readRunRecords(stateDir: string): RunRecordLine[] {
  let text: string;
  try {
    text = readFileSync(join(stateDir, 'runs.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: RunRecordLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const rec = JSON.parse(line) as RunRecordLine;
      if (rec && typeof rec.runId === 'string') out.push(rec);
    } catch {
      // A line cut short by a crash.
    }
  }
  return out;
}
