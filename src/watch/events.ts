// Typed events of the watch loop, beside the run events of each cycle. The loop emits them;
// src/report/watch.ts renders them. Nothing in src/watch prints.
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { StageStatus } from '../run/events.js';

export type WatchEvent =
  | { type: 'watch-ready'; time: number; stages: string[]; inputs: string[]; pipelineFile: string }
  /** changes: project-relative paths that triggered the cycle; empty for the initial run. */
  | { type: 'cycle-started'; time: number; cycle: number; changes: string[] }
  | {
      type: 'cycle-finished';
      time: number;
      cycle: number;
      durationMs: number;
      status: 'success' | 'failed' | 'interrupted';
      /** Every stage of the targeted subgraph, in topological order, with its status this cycle. */
      results: Array<{ stage: string; status: StageStatus }>;
      /** Stages skipped because they failed before with the same inputs. */
      waiting: string[];
      /** What each stage that ran or was restored this cycle found (a comparison's first divergence, say). */
      findings: CycleFinding[];
    }
  /** pipeline.yaml was saved in a state that does not load; the last valid pipeline stays in use. */
  | { type: 'pipeline-invalid'; time: number; text: string; diagnostics: Diagnostic[] }
  | { type: 'pipeline-reloaded'; time: number; inputs: string[] }
  | { type: 'watch-error'; time: number; message: string }
  | { type: 'watch-stopped'; time: number; cycles: number };

export interface CycleFinding {
  stage: string;
  verdict?: string;
  severity: 'ok' | 'notice' | 'problem';
  headline: string;
}

export type WatchSink = (event: WatchEvent) => void;
