// Collects run events into one record per stage (outcome, duration, cache status, failure), the
// common input of the CI reporters (JUnit, step summary, annotations). Renders nothing.
import type { EventSink, RunEvent } from '../run/events.js';

export type StageOutcome = 'ran' | 'up-to-date' | 'restored' | 'failed' | 'not-run';

export interface StageRecord {
  stage: string;
  outcome: StageOutcome;
  /** Epoch ms when the stage was settled or started. */
  time: number;
  durationMs?: number;
  /** 'hit': up to date; 'restored': outs from the object store; 'remote': from the remote cache; 'miss': the stage ran. */
  cache: 'hit' | 'restored' | 'remote' | 'miss' | 'none';
  /** failed: the failure reason (exit-code, timeout, ...); not-run: why. */
  reason?: string;
  message?: string;
  stderrTail?: string;
}

export interface StageRecorder {
  sink: EventSink;
  /** Records in the order stages settled. */
  records(): StageRecord[];
}

export function stageRecorder(): StageRecorder {
  const records = new Map<string, StageRecord>();
  const set = (r: StageRecord) => {
    records.delete(r.stage);
    records.set(r.stage, r);
  };
  const sink = (e: RunEvent) => {
    switch (e.type) {
      case 'stage-up-to-date':
        set({ stage: e.stage, outcome: 'up-to-date', time: e.time, cache: 'hit' });
        break;
      case 'stage-restored':
        set({ stage: e.stage, outcome: 'restored', time: e.time, cache: e.from === 'remote' ? 'remote' : 'restored' });
        break;
      case 'stage-done':
        set({ stage: e.stage, outcome: 'ran', time: e.time - e.durationMs, durationMs: e.durationMs, cache: 'miss' });
        break;
      case 'stage-failed':
        set({ stage: e.stage, outcome: 'failed', time: e.time - e.durationMs, durationMs: e.durationMs, cache: 'miss', reason: e.reason, message: e.message, stderrTail: e.stderrTail });
        break;
      case 'stage-not-run':
        set({ stage: e.stage, outcome: 'not-run', time: e.time, cache: 'none', reason: e.because });
        break;
      default:
        break;
    }
  };
  return { sink, records: () => [...records.values()] };
}
