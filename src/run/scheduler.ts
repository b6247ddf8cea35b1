// The scheduler: walks the DAG, evaluates each stage once its upstream has settled (so deps are
// hashed after they were produced and a run after an edit settles in one pass), then skips,
// restores or runs it, up to `jobs` at a time. Emits events; never prints.
import { join, relative } from 'node:path';
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import type { Pipeline, Stage } from '../pipeline/model.js';
import type { Graph } from '../graph/dag.js';
import { directUpstream, selectUpstream } from '../graph/dag.js';
import { Workspace, outHashMap, type Evaluation } from '../cache/workspace.js';
import type { PathHash } from '../cache/hash.js';
import { ObjectStore } from '../cache/store.js';
import type { EventSink, StageStatus } from './events.js';
import type { FailureInfo, FailureReason, JobInfo, StageCatalog } from '../stage-api/index.js';
import type { WriteGuard } from './write-guard.js';
import type { Executor, Executors } from './executor.js';
import { primaryOutOf, reportDirOf } from '../pipeline/primary-out.js';
import { pipelineView } from '../pipeline/view.js';
import { isScriptReference } from '../pipeline/paths.js';
import { PARTIAL_SUFFIX } from '../fs/atomic-write.js';
import { describeEscape, escapingOut } from './confinement.js';

// What only executing a stage needs loads on the first execution: a no-op run never pays for it.
let executionModules: Promise<{
  process: typeof import('./process.js');
  command: typeof import('./command-executor.js');
  inProcess: typeof import('./in-process-executor.js');
  outChecks: typeof import('./out-checks.js');
  guard: typeof import('./write-guard.js');
  archive: typeof import('../cache/protected-archive.js');
}> | undefined;
function loadExecution() {
  executionModules ??= Promise.all([
    import('./process.js'),
    import('./command-executor.js'),
    import('./in-process-executor.js'),
    import('./out-checks.js'),
    import('./write-guard.js'),
    import('../cache/protected-archive.js'),
  ]).then(([process, command, inProcess, outChecks, guard, archive]) => ({ process, command, inProcess, outChecks, guard, archive }));
  return executionModules;
}

/**
 * Stream captures in progress (`*.evidence-partial`) that a run killed with -9 left behind. The
 * run holds the project, so none of them is being written: they go at the start of a run, not only
 * when their stage runs again. One unlink per declared stream out (an rm per stage and stream
 * measured ~13 ms on a 200-stage no-op run), and a listing of the runner's log folder after a run
 * that died.
 */
function removeLeftCaptures(pipeline: Pipeline, logsDir: string, afterDeadRun: boolean): void {
  const files: string[] = [];
  // Only a run that died (its lock taken over) leaves captures in the log folder, which holds two
  // files per stage: listing it at every start cost a no-op run of 5,000 stages ~16 ms.
  if (afterDeadRun) {
    try {
      for (const f of readdirSync(logsDir)) if (f.endsWith(PARTIAL_SUFFIX)) files.push(join(logsDir, f));
    } catch {
      // No log folder yet.
    }
  }
  for (const stage of pipeline.stages.values()) {
    for (const o of stage.outs) if (o.stream) files.push(join(pipeline.root, o.path) + PARTIAL_SUFFIX);
  }
  for (const f of files) {
    try {
      unlinkSync(f);
    } catch {
      // Absent (the usual case), or unremovable: never taken for content anyway.
    }
  }
}

/** Evaluations at once: as many as libuv's thread pool hashes files in parallel. */
const EVALUATIONS = 4;

/** At most `size` holders at a time, served in arrival order; a holder that gives its place up hands it to the next. */
class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async take(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

function isScriptStage(stage: Stage): boolean {
  return stage.kind === 'uses' && stage.uses !== undefined && isScriptReference(stage.uses);
}

export interface RunOptions {
  targets: string[];
  jobs: number;
  keepGoing: boolean;
  dryRun: boolean;
  /** true: every stage; a list: those stages. */
  force: boolean | string[];
  graceMs: number;
  signal: AbortSignal;
  emit: EventSink;
  runId: string;
  /** The stage kinds `uses:` names. */
  catalog: StageCatalog;
  /** Emit stage-output events: what each captured stage writes, while it runs (costs a file tail per stage). */
  output?: boolean;
  /** Overrides of the default executors (a cluster, or a controllable fake in tests). */
  executors?: Partial<Executors>;
  /**
   * Watch mode: stage → fingerprint of its last failed attempt. A stage whose inputs still have
   * that fingerprint is not retried (not-run) until one of them changes.
   */
  skipFailed?: ReadonlyMap<string, string>;
  /**
   * Whether this run took the project over from a run that died (kill -9): only then can there be
   * half-written captures of its stages to remove. Unknown (undefined) counts as yes.
   */
  afterDeadRun?: boolean;
}

export interface StageResult {
  status: StageStatus;
  evaluation?: Evaluation;
  failure?: FailureInfo;
}

export interface RunOutcome {
  status: 'success' | 'failed' | 'interrupted';
  results: Map<string, StageResult>;
  failures: FailureInfo[];
  /** Stages in the order they were considered. */
  selected: string[];
}

export async function runPipeline(pipeline: Pipeline, graph: Graph, ws: Workspace, opts: RunOptions): Promise<RunOutcome> {
  const selected = selectUpstream(graph, opts.targets.length ? opts.targets : graph.order);
  const isSelected = new Set(selected);
  ws.beginRun();
  if (!opts.dryRun) {
    // What a killed run left in the lock's journal goes into evidence.lock before this run appends.
    ws.compactLock();
    removeLeftCaptures(pipeline, join(ws.stateDir, 'logs'), opts.afterDeadRun ?? true);
  }
  // Watches protected paths and undeclared writes; made (and loaded) when a stage first executes.
  let guard: WriteGuard | undefined;
  let usesExecutor: Executor | undefined;
  // Script stages of this run that have not been considered yet: while there are, the uses
  // executor keeps a worker started ahead of need (see script-worker.ts).
  let scriptsToCome = selected.filter((n) => isScriptStage(pipeline.stages.get(n)!)).length;
  const results = new Map<string, StageResult>();
  const outHashes = new Map<string, Record<string, string>>();
  const failures: FailureInfo[] = [];
  const view = pipelineView(pipeline);
  let stopStarting = false;
  const wouldRun = new Set<string>();
  const dryOverlay = new Map<string, string>();
  const forced = (name: string) => opts.force === true || (Array.isArray(opts.force) && opts.force.includes(name));
  const now = () => Date.now();

  const executions = new Slots(opts.jobs);
  // Evaluations (hashing a stage's deps, its fingerprint) a few at a time, in the order stages
  // become ready: thousands started at once all missed the run's memo of a dep they share (5,000
  // stats of one input file in a 5,000-stage fan-in) and held their inputs in memory together.
  const evaluations = new Slots(EVALUATIONS);

  const settled = new Map<string, Promise<StageResult>>();
  const settle = (name: string): Promise<StageResult> => {
    let p = settled.get(name);
    if (!p) {
      p = processStage(name).then((r) => {
        results.set(name, r);
        return r;
      });
      settled.set(name, p);
    }
    return p;
  };

  async function processStage(name: string): Promise<StageResult> {
    const stage = pipeline.stages.get(name)!;
    const ups = directUpstream(graph, name).filter((u) => isSelected.has(u));
    const upResults = await Promise.all(ups.map((u) => settle(u).then((r) => [u, r] as const)));
    if (isScriptStage(stage)) scriptsToCome--;
    const blocked = upResults.find(([, r]) => r.status === 'failed' || r.status === 'not-run');
    if (blocked) {
      const because = blocked[1].status === 'failed' ? `upstream '${blocked[0]}' failed` : `upstream '${blocked[0]}' did not run`;
      opts.emit({ type: 'stage-not-run', time: now(), stage: name, because });
      return { status: 'not-run' };
    }
    if (opts.signal.aborted || stopStarting) {
      opts.emit({ type: 'stage-not-run', time: now(), stage: name, because: opts.signal.aborted ? 'interrupted' : 'an earlier stage failed' });
      return { status: 'not-run' };
    }
    // In a dry run, a stage below one that would run cannot be judged: its inputs do not exist yet.
    const dataUps = new Set((graph.upstream.get(name) ?? []).filter((e) => e.via !== 'needs').map((e) => e.from));
    const pendingUp = ups.find((u) => wouldRun.has(u) && dataUps.has(u));
    if (pendingUp) {
      wouldRun.add(name);
      opts.emit({ type: 'stage-would-run', time: now(), stage: name, reasons: [`upstream '${pendingUp}' would run`], restore: false });
      return { status: 'done' };
    }
    const upstreamOuts: Record<string, Record<string, string>> = {};
    // Only file edges make data: a `needs` edge orders stages without making the upstream's outs
    // an input (a snapshot that changes with every commit must not re-run what merely follows it).
    for (const u of ups) if (dataUps.has(u)) upstreamOuts[u] = outHashes.get(u) ?? {};

    await evaluations.take();
    let ev: Evaluation;
    try {
      ev = await ws.evaluate(pipeline, stage, upstreamOuts, forced(name), dryOverlay);
    } finally {
      evaluations.give();
    }
    const refused = ws.store.takeRefusedRun(ev.fingerprint);
    if (refused) {
      const problem = { 'no checksum': 'has no checksum (written by an older evidence, or edited)', unreadable: 'is unreadable (corrupt)', 'checksum mismatch': 'fails its checksum (corrupt, or edited)' }[refused.problem];
      const file = relative(pipeline.root, refused.file);
      opts.emit({ type: 'warning', time: now(), stage: name, message: `run-cache record ${file} ${problem}; not restored from, the stage re-runs` });
      if (!opts.dryRun) ws.store.quarantineRun(ev.fingerprint);
    }
    if (ev.verdict === 'run' && opts.skipFailed?.get(name) === ev.fingerprint) {
      opts.emit({ type: 'stage-not-run', time: now(), stage: name, because: 'failed before; waiting for an input to change' });
      return { status: 'not-run', evaluation: ev };
    }
    if (ev.verdict === 'up-to-date') {
      outHashes.set(name, ws.outHashesOf(name));
      opts.emit({ type: 'stage-up-to-date', time: now(), stage: name, reason: 'inputs unchanged' });
      return { status: 'up-to-date', evaluation: ev };
    }
    if (opts.dryRun) {
      opts.emit({ type: 'stage-would-run', time: now(), stage: name, reasons: ev.reasons, restore: ev.verdict === 'restore' });
      if (ev.verdict === 'restore') {
        outHashes.set(name, outHashMap(ev.record!.outs));
        // Downstream stages are judged as if the restore had happened.
        for (const f of ObjectStore.filesOf(ev.record!.outs)) dryOverlay.set(f.path, f.hash);
      } else wouldRun.add(name);
      return { status: ev.verdict === 'restore' ? 'restored' : 'done', evaluation: ev };
    }
    // A symlink planted since the pipeline loaded must not carry a restore outside the project;
    // the stage then runs, and fails on the same check.
    const escaped = ev.verdict === 'restore' && escapingOut(pipeline.root, stage.outs.map((o) => o.path), false);
    if (ev.verdict === 'restore' && !escaped) {
      const restored = await ws.restore(stage, ev.record!, opts.runId);
      if (restored.ok) {
        ws.commitRun(pipeline, stage, ev, ev.record!.outs, opts.runId, 'restored');
        outHashes.set(name, outHashMap(ev.record!.outs));
        opts.emit({ type: 'stage-restored', time: now(), stage: name, outs: stage.outs.map((o) => o.path), ...(ev.from ? { from: ev.from } : {}) });
        return { status: 'restored', evaluation: ev };
      }
      opts.emit({ type: 'cache-corrupt', time: now(), stage: name, path: restored.corrupt.path, hash: restored.corrupt.hash });
      ws.store.forgetRun(ev.fingerprint);
    }

    await executions.take();
    try {
      if (opts.signal.aborted || stopStarting) {
        opts.emit({ type: 'stage-not-run', time: now(), stage: name, because: opts.signal.aborted ? 'interrupted' : 'an earlier stage failed' });
        return { status: 'not-run' };
      }
      const result = await execute(stage, ev);
      // A stage that failed before its writes were checked: still close its window, and name any
      // protected file it changed (the run fails anyway; the blocker's patch holds the diff).
      const late = await guard?.stageEnded(name);
      if (late?.protectedChanged.length) {
        opts.emit({ type: 'warning', time: now(), stage: name, message: `modified protected files: ${late.protectedChanged.join(', ')}` });
      }
      if (result.status === 'failed') {
        failures.push(result.failure!);
        if (!opts.keepGoing) stopStarting = true;
      }
      return result;
    } finally {
      executions.give();
    }
  }

  async function execute(stage: Stage, ev: Evaluation): Promise<StageResult> {
    const name = stage.name;
    const { process: proc, command, inProcess, outChecks, guard: guardModule, archive } = await loadExecution();
    const cwd = join(pipeline.root, stage.cwd);
    const logsDir = join(ws.stateDir, 'logs');
    const stdoutOut = stage.outs.find((o) => o.stream === 'stdout');
    const stderrOut = stage.outs.find((o) => o.stream === 'stderr');
    const stdoutFile = stdoutOut ? join(pipeline.root, stdoutOut.path) : join(logsDir, `${name}.stdout.log`);
    const stderrFile = stderrOut ? join(pipeline.root, stderrOut.path) : join(logsDir, `${name}.stderr.log`);
    const usesExecutorOf = () => opts.executors?.uses ?? (usesExecutor ??= inProcess.inProcessExecutor(opts.catalog));
    const named = stage.executor ? opts.executors?.named?.get(stage.executor) : undefined;
    const executor = named ?? (stage.kind === 'cmd' ? (opts.executors?.cmd ?? command.commandExecutor) : usesExecutorOf());
    const kind = stage.uses ? opts.catalog.kinds.get(stage.uses) : undefined;
    const primary = primaryOutOf(stage, kind);
    // Judged before anything is read or written through an out's path (the archive of what it
    // holds, the folders made for it): a symlink planted since the pipeline loaded.
    const escape = escapingOut(pipeline.root, stage.outs.map((o) => o.path), false);
    if (!escape) {
      await ws.archiveBeforeOverwrite(stage, opts.runId);
      mkdirSync(cwd, { recursive: true });
      for (const o of stage.outs) mkdirSync(join(pipeline.root, o.path, '..'), { recursive: true });
      if (!guard) {
        const kept = new archive.ProtectedArchive(ws, opts.runId);
        guard = new guardModule.WriteGuard(pipeline, ws.hasher, opts.emit, [relative(pipeline.root, ws.lockFile)], (files, stage) => kept.keep(files, stage), { stateDir: ws.stateDir });
      }
      await guard.stageStarted(name);
    }
    const started = now();
    const captured = executor.captures && !escape;
    const logs = captured ? [...new Set([stdoutFile, stderrFile])].map((f) => relative(pipeline.root, f)) : undefined;
    opts.emit({ type: 'stage-started', time: started, stage: name, command: stage.display, reasons: ev.reasons, logs });
    const failure = (reason: FailureReason, message: string, exitCode: number | null = null, signal: string | null = null, job?: JobInfo): StageResult => {
      const info: FailureInfo = {
        stage: name,
        reason,
        message,
        command: stage.display,
        cwd,
        env: stage.env,
        exitCode,
        signal,
        durationMs: now() - started,
        stdoutFile: stdoutOut?.path,
        stderrFile: stderrOut?.path,
        stdout: captured ? proc.tailOf(stdoutFile, 1 << 20) : '',
        stderr: captured ? proc.tailOf(stderrFile, 1 << 20) : message,
        stdoutLog: captured ? stdoutFile : undefined,
        stderrLog: captured ? stderrFile : undefined,
        reportDir: reportDirOf(stage, kind),
        ...(job ? { job } : {}),
      };
      opts.emit({ type: 'stage-failed', time: now(), stage: name, reason, message, exitCode, signal, durationMs: info.durationMs, stderrTail: proc.lastLines(info.stderr, 10), logs });
      return { status: 'failed', evaluation: ev, failure: info };
    };
    if (escape) return failure('missing-out', `${describeEscape(escape)}; the stage did not run, so that nothing is written there`);
    if (stage.executor && !named) return failure('cluster', `executor '${stage.executor}' is not available in this command; the stage did not run`);

    const running = executor.execute({
      stage,
      root: pipeline.root,
      cwd,
      stdoutFile,
      stderrFile,
      params: pipeline.params,
      pipeline: view,
      primaryOut: primary === undefined ? undefined : join(pipeline.root, primary),
      signal: opts.signal,
      graceMs: opts.graceMs,
      log: (level, message) => opts.emit({ type: 'stage-log', time: now(), stage: name, level, message }),
      output: opts.output ? (stream, text) => opts.emit({ type: 'stage-output', time: now(), stage: name, stream, text }) : undefined,
    });
    // With script stages still to come, a worker boots while this stage runs (after a script
    // stage took the one started for it).
    if (scriptsToCome > 0) usesExecutorOf().prepare?.();
    const result = await running;
    if (!result.ok) return failure(result.reason, result.message, result.exitCode, result.signal, result.job);

    const writes = await guard?.stageEnded(name);
    if (writes?.protectedChanged.length) {
      const n = writes.alongside.length;
      const also = n ? ` (while ${writes.alongside.join(', ')} ${n > 1 ? 'were' : 'was'} running too; ${n > 1 ? 'any' : 'either'} of them may have made it)` : '';
      return failure('protected-path', `modified protected files: ${writes.protectedChanged.join(', ')}${also}`);
    }
    ws.forget(stage.outs.map((o) => o.path));
    // The stage succeeded by its own account; now its outs must exist, be fresh, stay inside the
    // project and validate.
    const problem = outChecks.checkOuts(pipeline.root, stage, started);
    if (problem) return failure(problem.reason, problem.message);
    const outs: PathHash[] = await ws.hashOuts(stage);
    ws.commitRun(pipeline, stage, ev, outs, opts.runId, 'produced');
    outHashes.set(name, outHashMap(outs));
    opts.emit({ type: 'stage-done', time: now(), stage: name, durationMs: now() - started, outs: stage.outs.map((o) => o.path) });
    return { status: 'done', evaluation: ev };
  }

  try {
    await Promise.all(selected.map(settle));
  } finally {
    await usesExecutor?.close?.();
    await guard?.finish();
  }
  // Each stage appended one journal line; the lock is written once, here (also when interrupted:
  // an abort settles every stage and ends up here). A run that dies first leaves the journal.
  if (!opts.dryRun) ws.compactLock();
  ws.saveStatCache();
  const status = opts.signal.aborted ? 'interrupted' : failures.length ? 'failed' : 'success';
  return { status, results, failures, selected };
}
