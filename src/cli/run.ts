// `evidence run`: load, validate, schedule, report; exit code from the outcome.
import { availableParallelism } from 'node:os';
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride, UsageError } from './project.js';
import { Workspace, ensureStateDir } from '../cache/workspace.js';
import { join } from 'node:path';
import { describeHolder, type RunLock } from '../run/run-lock.js';
import { abortOnInterrupt, parseGraceMs } from './interrupts.js';
import { beginRun, newRunId } from '../run/run-session.js';
import { appendRunRecord } from '../run/run-record.js';
import { lockedParams } from '../cache/lock-entry.js';
import { runPipeline, type RunOutcome } from '../run/scheduler.js';
import { executorsFor } from './executors.js';
import type { EventSink, RunEvent, StageStatus } from '../run/events.js';
import { terminalReporter } from '../report/terminal.js';
import { jsonLinesReporter } from '../report/json-lines.js';
import { canRedraw, styleFor } from '../report/style.js';
import { annotateDiagnostics, judgeAndReport } from './run-reports.js';
import type { RemoteCache } from '../cache/remote-cache.js';

export function parseJobs(raw: unknown): number {
  if (raw === undefined) return Math.max(1, availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs expects a whole number ≥ 1, got '${raw}'`);
  return n;
}

export function isCi(values: Record<string, unknown>): boolean {
  return Boolean(values.ci) || process.env.CI === 'true' || process.env.CI === '1';
}

export async function runVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const v = inv.values;
  const ci = isCi(v);
  const verbose = Boolean(v.verbose);
  const quiet = Boolean(v.quiet);
  if (verbose && quiet) throw new UsageError('-q (--quiet) and -v (--verbose) ask for opposite things; give one of them');
  const terminal = v.json
    ? undefined
    : terminalReporter({
        out: process.stdout,
        style: styleFor(process.stdout, process.env, ci),
        ci,
        verbose,
        quiet,
        live: !quiet && canRedraw(process.stdout, process.env, ci) ? { columns: () => process.stdout.columns || 80 } : undefined,
      });
  const emit = terminal ?? jsonLinesReporter(process.stdout);
  try {
    return await runWith(inv, catalog, { emit, ci, output: verbose });
  } finally {
    terminal?.close();
  }
}

async function runWith(inv: Invocation, catalog: StageCatalog, r: { emit: EventSink; ci: boolean; output: boolean }): Promise<number> {
  const v = inv.values;
  const { emit, ci } = r;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const file = v.file as string;
  const jobs = parseJobs(v.jobs);
  const graceMs = parseGraceMs(v.grace);

  const opened = await openProject(file, overrides, catalog);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    await annotateDiagnostics(opened.diagnostics, v.json ? process.stderr : process.stdout);
    return EXIT.usage;
  }
  const { pipeline, graph } = opened.project;
  const { selectStages } = await import('../pipeline/select.js');
  const targets = selectStages(pipeline, inv.positionals);
  if (!targets.ok) throw new UsageError(targets.message);
  const forceWords = (v.force as string[] | undefined) ?? [];
  const forced = selectStages(pipeline, forceWords.filter((f) => f !== '*'));
  if (!forced.ok) throw new UsageError(`--force: ${forced.message}`);
  const force = forceWords.includes('*') ? true : forced.stages.length ? forced.stages : false;
  let runTargets = targets.stages;
  let shard: Extract<RunEvent, { type: 'shard-selected' }> | undefined;
  if (v.shard !== undefined) {
    const { parseShard, shardOf } = await import('../graph/shard.js');
    const spec = parseShard(String(v.shard));
    if (typeof spec === 'string') throw new UsageError(spec);
    const share = shardOf(pipeline, graph, spec, inv.positionals.length ? targets.stages : undefined);
    if (!share.allItems) throw new UsageError(`--shard ${v.shard}: the pipeline has no matrix instances to share out; run it without --shard`);
    shard = { type: 'shard-selected', time: 0, shard: spec.index, of: spec.count, items: share.items, allItems: share.allItems, instances: share.targets.length, left: share.left };
    runTargets = share.targets;
  }

  // Checked before the project is held: a bad EVIDENCE_REMOTE_URL is a usage error. Dry runs stay local.
  const wantsRemote = !v['dry-run'] && (pipeline.remote !== undefined || Boolean(process.env.EVIDENCE_REMOTE_URL));
  const remoteSettings = wantsRemote ? (await import('./remote.js')).remoteOf(pipeline) : undefined;
  // The stages inherit this process's environment: a stage that dumps it (env > out.txt) must not
  // put the cache's token into an out, and from there onto the remote. The settings hold it now.
  if (remoteSettings) delete process.env[remoteSettings.tokenEnv];

  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);

  // One run at a time per project (a dry run writes nothing and needs no lock).
  let runLock: RunLock | undefined;
  let afterDeadRun = false;
  if (!v['dry-run']) {
    const stateDir = join(pipeline.root, '.evidence');
    ensureStateDir(stateDir);
    const got = await beginRun(stateDir, {
      warn: (message) => emit({ type: 'warning', time: Date.now(), message }),
      argv: ['evidence', ...process.argv.slice(2)],
      wait: Boolean(v.wait),
      signal: controller.signal,
      onWait: (h) => emit({ type: 'warning', time: Date.now(), message: `waiting for ${describeHolder(h)} to finish` }),
    });
    if (!got.ok) {
      stopListening();
      if (controller.signal.aborted) return EXIT.interrupted;
      process.stderr.write(`evidence run: the project is busy: ${describeHolder(got.holder)} holds ${join(stateDir, 'run.lock')}.
  Wait for it with evidence run --wait, or stop it; a lock left by a dead process is taken over automatically.
`);
      return EXIT.failed;
    }
    runLock = got.lock;
    afterDeadRun = got.tookOverFrom !== undefined;
  }

  const ws = new Workspace(pipeline.root);
  const runId = newRunId();
  const counts: Record<StageStatus, number> = { 'up-to-date': 0, restored: 0, done: 0, failed: 0, 'not-run': 0 };
  const started = Date.now();
  const recorder = ci && !v['dry-run'] ? (await import('../report/ci-record.js')).stageRecorder() : undefined;
  const sink = (e: RunEvent) => {
    emit(e);
    recorder?.sink(e);
  };
  let remote: RemoteCache | undefined;
  if (remoteSettings) {
    const { RemoteCache } = await import('../cache/remote-cache.js');
    remote = new RemoteCache(remoteSettings, ws.store, (message, stage) => sink({ type: 'warning', time: Date.now(), ...(stage ? { stage } : {}), message }));
    ws.remote = remote;
  }
  for (const problem of ws.lockProblems) sink({ type: 'warning', time: Date.now(), message: `evidence.lock: ${problem}; that part is ignored and rebuilt as stages run` });
  sink({ type: 'run-started', runId, time: started, stages: graph.order, jobs, dryRun: Boolean(v['dry-run']) });
  if (shard) sink({ ...shard, time: Date.now() });
  // A shard that was dealt no item runs nothing (an empty target list would mean every stage).
  const outcome: RunOutcome = shard && !runTargets.length ? { status: 'success', results: new Map(), failures: [], selected: [] } : await runPipeline(pipeline, graph, ws, {
    targets: runTargets,
    jobs,
    keepGoing: Boolean(v['keep-going']),
    dryRun: Boolean(v['dry-run']),
    force,
    graceMs,
    signal: controller.signal,
    emit: sink,
    runId,
    catalog,
    output: r.output,
    executors: v['dry-run'] ? undefined : await executorsFor(pipeline),
    afterDeadRun,
  });
  for (const r of outcome.results.values()) counts[r.status]++;
  if (remote) {
    if (remote.settings.push && outcome.status !== 'interrupted') await (await import('./remote.js')).pushProduced(remote, outcome, sink);
    remote.close();
  }
  // Forensics of the first failure; never changes the outcome, even when the blocker itself fails.
  const blocker = v['dry-run'] || !outcome.failures.length ? 'none' : await (await import('../run/blocker-run.js')).runBlocker(pipeline, outcome, { emit: sink, signal: controller.signal, catalog });
  // Gates are judged from the findings on disk; CI reports are written before the exit code.
  const judged = v['dry-run'] ? { status: outcome.status } : await judgeAndReport({ pipeline, catalog, ws, outcome, runId, startedAt: started, emit: sink, recorder, annotations: v.json ? process.stderr : process.stdout });
  const status = judged.status;
  // Only after a run that stored or fetched something: a no-op run does not pay for a scan of the
  // store (about 70 µs of CPU per file: 1.7 s for 25,000, bench/gc.mjs).
  if (pipeline.cache && runLock && outcome.status !== 'interrupted' && counts.done + counts.restored > 0) {
    // The bound applies while this run still holds the project: no other run can be reading the store.
    const { collectGarbage } = await import('../cache/gc.js');
    const { readRunRecords } = await import('../run/run-record.js');
    const runs = readRunRecords(ws.stateDir).map((r) => ({ runId: r.runId, startedAt: r.startedAt }));
    const plan = collectGarbage(ws, runs, { keepLast: pipeline.cache.keepLast, maxSize: pipeline.cache.maxSize, dryRun: false });
    sink({ type: 'cache-collected', time: Date.now(), freed: plan.freed, kept: plan.kept, overBudget: plan.overBudget, maxSize: pipeline.cache.maxSize });
  }
  sink({ type: 'run-finished', time: Date.now(), runId, status, durationMs: Date.now() - started, counts, dryRun: Boolean(v['dry-run']) || undefined, verdict: judged.verdict });
  if (runLock) {
    appendRunRecord(ws.stateDir, {
      runId,
      pid: process.pid,
      argv: runLock.holder.argv,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      status,
      failed: outcome.failures.map((f) => ({ stage: f.stage, reason: f.reason })),
      ...(blocker === 'none' ? {} : { blocker }),
      params: lockedParams(pipeline.params),
    });
    runLock.release();
  }
  stopListening();
  if (outcome.status === 'interrupted') return EXIT.interrupted;
  if (outcome.status === 'failed') return EXIT.failed;
  if (status === 'gate') return EXIT.gate;
  return EXIT.ok;
}
