// Typed events of the watch loop, beside the run events of each cycle. The loop emits them;
// src/report/watch.ts renders them. Nothing in src/watch prints.
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
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
      /** The pipeline the cycle ran (for reporters that read its artifacts); not serialised. */
      pipeline: Pipeline;
    }
  /** pipeline.yaml was saved in a state that does not load; the last valid pipeline stays in use. */
  | { type: 'pipeline-invalid'; time: number; text: string; diagnostics: Diagnostic[] }
  | { type: 'pipeline-reloaded'; time: number; inputs: string[] }
  | { type: 'watch-error'; time: number; message: string }
  | { type: 'watch-stopped'; time: number; cycles: number };

export type WatchSink = (event: WatchEvent) => void;
