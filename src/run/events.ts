// Typed run events. The scheduler emits them; reporters (terminal, JSON lines, JUnit, CI summary)
// subscribe and render. Nothing else talks to the user.
import type { FailureReason } from '../stage-api/index.js';

export type StageStatus = 'up-to-date' | 'restored' | 'done' | 'failed' | 'not-run';

export type RunEvent =
  | { type: 'run-started'; runId: string; time: number; stages: string[]; jobs: number; dryRun: boolean }
  | { type: 'stage-up-to-date'; time: number; stage: string; reason: string }
  /** from: 'remote' when the outs came from the shared remote cache rather than this machine's. */
  | { type: 'stage-restored'; time: number; stage: string; outs: string[]; from?: 'remote' }
  | { type: 'stage-would-run'; time: number; stage: string; reasons: string[]; restore: boolean }
  /** logs: project-relative files that keep the stage's stdout and stderr (absent when not captured). */
  | { type: 'stage-started'; time: number; stage: string; command: string; reasons: string[]; logs?: string[] }
  | { type: 'stage-log'; time: number; stage: string; level: 'info' | 'warn'; message: string }
  /**
   * A chunk of what a running stage wrote, as it arrives (not split into lines: a reporter buffers
   * partial lines until the newline, or the stage's end). Emitted only when the run was asked for
   * output (RunOptions.output), so a run nobody watches pays nothing for it.
   */
  | { type: 'stage-output'; time: number; stage: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'stage-done'; time: number; stage: string; durationMs: number; outs: string[] }
  | {
      type: 'stage-failed';
      time: number;
      stage: string;
      reason: FailureReason;
      message: string;
      exitCode: number | null;
      signal: string | null;
      durationMs: number;
      stderrTail: string;
      /** Project-relative files holding the stage's full stdout and stderr, when captured. */
      logs?: string[];
    }
  | { type: 'stage-not-run'; time: number; stage: string; because: string }
  | { type: 'cache-corrupt'; time: number; stage: string; path: string; hash: string }
  | { type: 'warning'; time: number; stage?: string; message: string }
  | { type: 'blocker-done'; time: number; stage: string; artifacts: string[] }
  | { type: 'blocker-failed'; time: number; stage: string; message: string }
  /** What a settled stage found (ran, up to date or restored alike): its verdict and headline. */
  | { type: 'findings'; time: number; stage: string; verdict?: string; severity: 'ok' | 'notice' | 'problem'; headline: string }
  /** A stage's gate (its rule, e.g. `fail_on: divergent`) is met by its findings: the run ends as 'gate'. */
  | { type: 'gate-met'; time: number; stage: string; rule: string; verdict: string; detail: string }
  /** pipeline.yaml's `cache:` bound, applied as the run ended (as `evidence gc` would). */
  | {
      type: 'cache-collected';
      time: number;
      freed: { objects: number; records: number; bytes: number };
      kept: { objects: number; records: number; bytes: number };
      /** max_size could not be met: what evidence.lock names alone is larger. */
      overBudget: boolean;
      maxSize?: number;
    }
  /**
   * A shard run (`--shard I/N`): the items (connected groups of matrix instances) it runs, of how
   * many, and the stages left to a full run because they need every instance.
   */
  | { type: 'shard-selected'; time: number; shard: number; of: number; items: string[]; allItems: number; instances: number; left: Array<{ stage: string; why: string }> }
  /** A run with `remote.push` uploaded what it produced: `stages` run records, `objects` new objects. */
  | { type: 'remote-pushed'; time: number; url: string; stages: number; objects: number }
  /** CI artifacts (JUnit, manifest, step summary) written after the run. */
  | { type: 'reports-written'; time: number; paths: string[] }
  | {
      type: 'run-finished';
      time: number;
      runId: string;
      status: 'success' | 'failed' | 'interrupted' | 'gate';
      durationMs: number;
      counts: Record<StageStatus, number>;
      /** A dry run: `done` counts stages that would run, `restored` those that would be restored. */
      dryRun?: boolean;
      /** The most severe verdict among the stages' findings, when any stage has one. */
      verdict?: { stage: string; verdict: string; severity: 'ok' | 'notice' | 'problem' };
    };

export type EventSink = (event: RunEvent) => void;
