// The interface between the scheduler and whatever runs a stage: a command in a process group
// (command-executor), a stage module in this process (in-process-executor), and later a job on a
// cluster. The scheduler decides when a stage runs and checks what it produced; an executor only
// runs it and says how it ended.
import type { Stage } from '../pipeline/model.js';
import type { FailureReason, JobInfo, PipelineView } from '../stage-api/index.js';

export interface Execution {
  stage: Stage;
  /** Absolute project root. */
  root: string;
  /** Absolute working directory (exists). */
  cwd: string;
  /** Absolute files for the stage's streams, when the executor captures them. */
  stdoutFile: string;
  stderrFile: string;
  params: Record<string, unknown>;
  pipeline: PipelineView;
  /** Absolute path of the stage's primary output, when it has one. */
  primaryOut?: string;
  /** Aborted on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  /** Between SIGTERM and SIGKILL when a process group must end. */
  graceMs: number;
  log(level: 'info' | 'warn', message: string): void;
  /** Set when the run was asked for live output: receives what the stage writes, as it arrives. */
  output?(stream: 'stdout' | 'stderr', text: string): void;
}

export type ExecutionResult =
  | { ok: true }
  | { ok: false; reason: FailureReason; message: string; exitCode: number | null; signal: string | null; job?: JobInfo };

export interface Executor {
  /** Whether the stage's streams end up in stdoutFile/stderrFile (for failure tails and forensics). */
  readonly captures: boolean;
  execute(x: Execution): Promise<ExecutionResult>;
  /** A stage may come soon: get ready ahead of need (start a worker). Optional. */
  prepare?(): void;
  /** The run is over: release what is held for stages that did not come. Optional. */
  close?(): Promise<void>;
}

/** Which executor runs which kind of stage. */
export interface Executors {
  cmd: Executor;
  uses: Executor;
  /**
   * Executors a stage names with `executor:` (slurm), handed in by the CLI so that the core never
   * imports a cluster's code. A stage naming one that is not here fails with a clear reason.
   */
  named: ReadonlyMap<string, Executor>;
}

export function failed(reason: FailureReason, message: string, exitCode: number | null = null, signal: string | null = null, job?: JobInfo): ExecutionResult {
  return { ok: false, reason, message, exitCode, signal, ...(job ? { job } : {}) };
}
