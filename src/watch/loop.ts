// The watch loop: run the targets once, then on each burst of relevant saves re-run them through
// the ordinary scheduler, so caching alone decides what is out of date (a reverted edit restores
// from the cache). Policies, chosen and tested:
// - A burst (an editor saving several files, a tool rewriting one in pieces) is one run: a cycle
//   starts once no relevant event arrived for `debounceMs`.
// - Changes during a run are queued, not cancelling it: when the run ends, exactly one follow-up
//   run covers all of them. Cancelling would throw away finished work and, with a stage slower
//   than the edit rhythm, never finish anything; the follow-up re-hashes every dep, so nothing
//   stale survives it.
// - A stage that failed is not retried while its fingerprint (its inputs) is unchanged.
// - pipeline.yaml is re-read when saved; an invalid one is reported and the last valid one kept.
// - Each cycle holds the project's run lock, so an `evidence run` started meanwhile waits for the
//   cycle (or the cycle for it) as two runs would; between cycles the project is free.
// chokidar is loaded here only, so no other verb pays for it. Emits events; never prints.
import type { FSWatcher } from 'chokidar';
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Graph } from '../graph/dag.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
import { Workspace } from '../cache/workspace.js';
import { runPipeline, type RunOutcome } from '../run/scheduler.js';
import { describeHolder } from '../run/run-lock.js';
import { beginRun, newRunId } from '../run/run-session.js';
import { readFindings } from '../run/findings.js';
import { appendRunRecord } from '../run/run-record.js';
import { lockedParams } from '../cache/lock-entry.js';
import type { EventSink } from '../run/events.js';
import type { Executors } from '../run/executor.js';
import { buildWatchSet, displayPath, type WatchSet } from './watch-set.js';
import type { WatchSink } from './events.js';
import type { StageCatalog } from '../stage-api/index.js';
import { importModule } from '../import-module.js';

export interface LoadedProject {
  pipeline: Pipeline;
  graph: Graph;
  catalog: StageCatalog;
}

export type ProjectLoader = () => Promise<{ ok: true; project: LoadedProject } | { ok: false; diagnostics: Diagnostic[]; text: string }>;

export interface WatchOptions {
  /** Re-reads pipeline.yaml (with the same param overrides) when it is saved. */
  load: ProjectLoader;
  targets: string[];
  jobs: number;
  keepGoing: boolean;
  debounceMs: number;
  graceMs: number;
  /** Project-relative paths that must never trigger a run besides outs (e.g. report files). */
  neverTrigger?: (pipeline: Pipeline) => string[];
  /** Aborted on Ctrl-C: stops watching and ends running stages. */
  signal: AbortSignal;
  emit: WatchSink;
  runEmit: EventSink;
  /** Emit each running stage's output as stage-output events (`-v`). */
  output?: boolean;
  /** The executors a pipeline names (`executor: slurm`), asked again when pipeline.yaml changes. */
  executorsFor?: (pipeline: Pipeline) => Promise<Partial<Executors> | undefined>;
}

/** Watches until `opts.signal` is aborted. */
export async function watchProject(initial: LoadedProject, opts: WatchOptions): Promise<void> {
  const { watch } = await importModule<typeof import('chokidar')>('chokidar');
  let project = initial;
  const ws = new Workspace(project.pipeline.root);
  /** Stage → fingerprint of its last failed attempt. */
  const failedAt = new Map<string, string>();
  const pending = new Set<string>();
  /** Path → stat signature at its last counted event. */
  const seen = new Map<string, string>();
  let pipelineSaved = false;
  let lastEventAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let cycle = 0;
  let set: WatchSet = watchSetOf(project);
  let watcher: FSWatcher = await startWatcher(set);

  function watchSetOf(p: LoadedProject): WatchSet {
    return buildWatchSet(p.pipeline, p.graph, opts.targets, opts.neverTrigger?.(p.pipeline) ?? []);
  }

  async function startWatcher(s: WatchSet): Promise<FSWatcher> {
    const w = watch(s.root, { ignored: (p: string, stats?: import('node:fs').Stats) => s.ignores(p, stats), ignoreInitial: true, persistent: true });
    w.on('all', (_event: string, path: string) => onChange(s, path));
    // chokidar reports at most one 'change' per file per 50 ms and drops the rest, with no
    // trailing event: the last save of a burst could go unseen, and a burst would look like
    // several. The raw fs.watch events it relays are not throttled; they time the debounce.
    w.on('raw', (_event: string, name: string | null, details: unknown) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched) return;
      // A file's own watcher names the file; a folder's watcher names the entry inside it.
      onChange(s, !name || basename(watched) === name ? watched : join(watched, name), true);
    });
    w.on('error', (err: unknown) => opts.emit({ type: 'watch-error', time: Date.now(), message: `file watcher: ${(err as Error)?.message ?? String(err)}` }));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    return w;
  }

  function onChange(s: WatchSet, abs: string, raw = false): void {
    if (s !== set || opts.signal.aborted) return;
    const kind = s.classify(abs);
    if (!kind) return;
    // A raw event may be about metadata only (an atime update when a stage reads its dep): count
    // it only when the file's content identity (mtime, ctime, size, inode, existence) moved.
    const sig = statSignature(abs);
    if (raw && seen.get(abs) === sig) return;
    seen.set(abs, sig);
    pending.add(displayPath(s, abs));
    if (kind === 'pipeline') pipelineSaved = true;
    lastEventAt = Date.now();
    schedule(opts.debounceMs);
  }

  function schedule(delay: number): void {
    // While a run is in flight, changes only accumulate: the run's end schedules the follow-up.
    if (running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, delay));
  }

  function fire(): void {
    timer = undefined;
    if (running || opts.signal.aborted || pending.size === 0) return;
    const changes = [...pending].sort();
    pending.clear();
    const reload = pipelineSaved;
    pipelineSaved = false;
    running = react(changes, reload)
      .catch((err: unknown) => opts.emit({ type: 'watch-error', time: Date.now(), message: (err as Error)?.stack ?? String(err) }))
      .finally(() => {
        running = undefined;
        if (pending.size && !opts.signal.aborted) schedule(lastEventAt + opts.debounceMs - Date.now());
      });
  }

  async function react(changes: string[], reload: boolean): Promise<void> {
    if (reload) {
      const loaded = await opts.load();
      const missing = loaded.ok ? opts.targets.filter((t) => !loaded.project.pipeline.stages.has(t)) : [];
      if (!loaded.ok || missing.length) {
        const diagnostics: Diagnostic[] = loaded.ok
          ? missing.map((t) => ({ file: set.pipelineFile, line: 0, column: 0, message: `stage '${t}', named on the command line, is no longer in the pipeline` }))
          : loaded.diagnostics;
        const text = loaded.ok ? diagnostics.map((d) => `${d.file}: error: ${d.message}`).join('\n') : loaded.text;
        opts.emit({ type: 'pipeline-invalid', time: Date.now(), text, diagnostics });
        // Other files saved in the same burst still count, against the last valid pipeline.
        if (changes.every((c) => c === set.pipelineFile)) return;
      } else {
        project = loaded.project;
        const next = watchSetOf(project);
        if (next.signature !== set.signature) {
          const old = watcher;
          set = next;
          watcher = await startWatcher(next);
          await old.close();
        } else set = next;
        opts.emit({ type: 'pipeline-reloaded', time: Date.now(), inputs: set.inputs });
      }
    }
    await runCycle(changes);
  }

  async function runCycle(changes: string[]): Promise<void> {
    const lock = await beginRun(ws.stateDir, {
      warn: (message) => opts.runEmit({ type: 'warning', time: Date.now(), message }),
      argv: ['evidence', ...process.argv.slice(2)],
      wait: true,
      signal: opts.signal,
      onWait: (h) => opts.runEmit({ type: 'warning', time: Date.now(), message: `waiting for ${describeHolder(h)} to finish` }),
    });
    if (!lock.ok) return; // interrupted while waiting
    try {
      await lockedCycle(changes, lock.tookOverFrom !== undefined);
    } finally {
      lock.lock.release();
    }
  }

  async function lockedCycle(changes: string[], afterDeadRun: boolean): Promise<void> {
    cycle++;
    const started = Date.now();
    opts.emit({ type: 'cycle-started', time: started, cycle, changes });
    ws.reloadLock();
    const { pipeline, graph } = project;
    const runId = newRunId(started, `watch-${cycle}`);
    const outcome: RunOutcome = await runPipeline(pipeline, graph, ws, {
      targets: opts.targets,
      jobs: opts.jobs,
      keepGoing: opts.keepGoing,
      dryRun: false,
      force: false,
      graceMs: opts.graceMs,
      signal: opts.signal,
      emit: opts.runEmit,
      output: opts.output,
      runId,
      skipFailed: failedAt,
      afterDeadRun,
      catalog: project.catalog,
      executors: await opts.executorsFor?.(pipeline),
    });
    const waiting: string[] = [];
    for (const [name, r] of outcome.results) {
      const fp = r.evaluation?.fingerprint;
      if (r.status === 'failed') {
        // An interrupted stage did not fail on its inputs; it may run again.
        if (r.failure?.reason !== 'interrupted' && fp) failedAt.set(name, fp);
      } else if (r.status === 'not-run') {
        if (fp && failedAt.get(name) === fp) waiting.push(name);
      } else failedAt.delete(name);
    }
    appendRunRecord(ws.stateDir, {
      runId,
      pid: process.pid,
      argv: ['evidence', ...process.argv.slice(2)],
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      status: outcome.status,
      failed: outcome.failures.map((f) => ({ stage: f.stage, reason: f.reason })),
      params: lockedParams(pipeline.params),
    });
    const results = outcome.selected.map((stage) => ({ stage, status: outcome.results.get(stage)?.status ?? 'not-run' }));
    // Only what this cycle produced or restored: an up-to-date stage's findings were shown before.
    const fresh = new Map(results.filter((r) => r.status === 'done' || r.status === 'restored').map((r) => [r.stage, r.status]));
    const findings = (await readFindings(pipeline, project.catalog, fresh, { ws })).map(({ stage, findings: f }) => ({ stage, verdict: f.verdict, severity: f.severity, headline: f.headline }));
    opts.emit({ type: 'cycle-finished', time: Date.now(), cycle, durationMs: Date.now() - started, status: outcome.status, results, waiting, findings });
  }

  opts.emit({ type: 'watch-ready', time: Date.now(), stages: set.stages, inputs: set.inputs, pipelineFile: set.pipelineFile });
  running = runCycle([])
    .catch((err: unknown) => opts.emit({ type: 'watch-error', time: Date.now(), message: (err as Error)?.stack ?? String(err) }))
    .finally(() => {
      running = undefined;
      if (pending.size && !opts.signal.aborted) schedule(lastEventAt + opts.debounceMs - Date.now());
    });

  await new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    else opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (timer) clearTimeout(timer);
  await running;
  await watcher.close();
  opts.emit({ type: 'watch-stopped', time: Date.now(), cycles: cycle });
}

function statSignature(abs: string): string {
  try {
    const st = statSync(abs);
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}
