// The contract between the runner and a `uses:` stage (built-in from stages/, or a user's script).
// A stage receives a StageContext and either returns normally (success) or throws. The runner,
// not the stage, checks that declared outs exist and validate against their schemas.
// This module must not know about any particular stage (traces, comparisons, ...).
import { resolve } from 'node:path';

export interface StageLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Everything a pipeline knows about itself, for stages that describe the run (snapshot-config, blocker). */
export interface PipelineView {
  /** Absolute path of pipeline.yaml. */
  file: string;
  params: Record<string, unknown>;
  /** The env the pipeline itself declares (top level), not the process env. */
  env: Record<string, string>;
  stages: Array<{
    name: string;
    /** The stage kind for a uses-stage (a catalog name or a script path). */
    uses?: string;
    /** Project-relative working directory. */
    cwd: string;
    /** The resolved shell command line, or `uses NAME with {...}` for a uses-stage. */
    command: string;
    deps: string[];
    outs: string[];
    env: Record<string, string>;
  }>;
}

export interface StageContext {
  /** The stage's name in pipeline.yaml. */
  stage: string;
  /** Absolute project root (the folder holding pipeline.yaml). */
  root: string;
  /** Absolute working directory of the stage. */
  cwd: string;
  /** The stage's `with:` block with ${params.x} resolved. Paths in it are relative to cwd. */
  with: Record<string, unknown>;
  /** Declared outs, project-relative, in declaration order. */
  outs: string[];
  /**
   * Absolute path of the stage's primary output: the first output field of its kind that `with:`
   * sets (e.g. `output`, relative to cwd), else its first declared out. Use outputOf(ctx).
   */
  primaryOut?: string;
  /** Declared deps, project-relative, as written (globs unexpanded). */
  deps: string[];
  params: Record<string, unknown>;
  /** The env the stage runs with: pipeline env overlaid with stage env (not the whole process env). */
  env: Record<string, string>;
  log: StageLogger;
  /** Aborted on Ctrl-C, SIGTERM or timeout; a stage should stop promptly. */
  signal: AbortSignal;
  /** zx's `$`, preset with cwd, env and signal, for shell work. */
  $: unknown;
  pipeline: PipelineView;
  /** Set only for the blocker stage: what failed. */
  failure?: FailureInfo;
}

export interface FailureInfo {
  stage: string;
  reason: FailureReason;
  message: string;
  command: string;
  cwd: string;
  env: Record<string, string>;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Project-relative paths of captured streams, when the stage captured them. */
  stdoutFile?: string;
  stderrFile?: string;
  /** Captured text (tail-limited by the runner). */
  stdout: string;
  stderr: string;
  /** Absolute paths of the complete captured streams, when the stage had a process. */
  stdoutLog?: string;
  stderrLog?: string;
  /** Project-relative folder where the failed stage writes its reports (first out's folder). */
  reportDir: string;
  /** When the stage ran as a cluster job: which job, and how its scheduler says it ended. */
  job?: JobInfo;
}

export interface JobInfo {
  scheduler: 'slurm';
  id: string;
  /** The scheduler's final state, as it names it: OUT_OF_MEMORY, TIMEOUT, NODE_FAIL, FAILED, ... */
  state: string;
  /** The scheduler's reason or exit code, when it gives one. */
  detail?: string;
  node?: string;
}

/**
 * Why a stage failed. `out-of-memory` and `cluster` come from a cluster executor: the scheduler
 * ended the job over its memory, or the job was lost to the cluster itself (a node failure, a
 * preemption, a cancel from outside, a controller that does not answer); FailureInfo.job says which.
 */
export const FAILURE_REASONS = ['exit-code', 'signal', 'timeout', 'missing-out', 'schema', 'require', 'exception', 'protected-path', 'interrupted', 'out-of-memory', 'cluster'] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Thrown by a stage to fail with a specific reason (e.g. a parse stage's `require` not met). */
export class StageFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'StageFailure';
  }
}

/**
 * The failure an error stands for: a StageFailure, or any error that looks like one (a `reason`
 * naming a FailureReason). User scripts cannot always import this module's class (another copy of
 * evidence, or none at all), so `Object.assign(new Error(m), { reason: 'require' })` counts too.
 */
export function asStageFailure(err: unknown): { reason: FailureReason; message: string } | undefined {
  if (err instanceof StageFailure) return { reason: err.reason, message: err.message };
  if (!err || typeof err !== 'object') return undefined;
  const reason = (err as { reason?: unknown }).reason;
  if (typeof reason !== 'string' || !(FAILURE_REASONS as readonly string[]).includes(reason)) return undefined;
  const message = (err as { message?: unknown }).message;
  return { reason: reason as FailureReason, message: typeof message === 'string' ? message : String(err) };
}

/**
 * The absolute path a stage writes its main artifact to: the runner's primaryOut, else (a context
 * made by hand, an older runner) `with[field]` relative to cwd, else the first out. Fails clearly
 * when the stage has nowhere to write.
 */
export function outputOf(ctx: StageContext, field = 'output'): string {
  if (ctx.primaryOut) return ctx.primaryOut;
  const value = ctx.with[field];
  if (typeof value === 'string' && value) return resolve(ctx.cwd, value);
  if (ctx.outs.length) return resolve(ctx.root, ctx.outs[0]!);
  throw new Error(`stage '${ctx.stage}' needs somewhere to write: set with.${field} or declare an out`);
}

export interface StageModule {
  /** Kind name as used in `uses:`. */
  name: string;
  /** Bumped whenever the stage's output for the same input changes; part of every fingerprint. */
  version: string;
  /** JSON Schema of the `with:` block. Optional for user scripts. */
  inputSchema?: object;
  /** Resolves on success; may name the files it wrote (the blocker does, for the run's report). */
  run(ctx: StageContext): Promise<void | { artifacts?: string[] }>;
}
