// `evidence run`: load, validate, schedule, report; exit code from the outcome.
import { availableParallelism } from 'node:os';
import type { Invocation } from './main.js';
import { EXIT } from './main.js';
import { openProject, parseParamOverride, UsageError } from './project.js';
import { Workspace } from '../cache/workspace.js';
import { runPipeline } from '../run/scheduler.js';
import type { RunEvent, StageStatus } from '../run/events.js';
import { terminalReporter } from '../report/terminal.js';
import { jsonLinesReporter } from '../report/json-lines.js';
import { styleFor } from '../report/style.js';

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

export function parseJobs(raw: unknown): number {
  if (raw === undefined) return Math.max(1, availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs expects a whole number ≥ 1, got '${raw}'`);
  return n;
}

export function isCi(values: Record<string, unknown>): boolean {
  return Boolean(values.ci) || process.env.CI === 'true' || process.env.CI === '1';
}

export async function runVerb(inv: Invocation): Promise<number> {
  const v = inv.values;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const jobs = parseJobs(v.jobs);
  const graceSeconds = v.grace === undefined ? 5 : Number(v.grace);
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) throw new UsageError(`--grace expects seconds, got '${v.grace}'`);
  const file = v.file as string;
  const ci = isCi(v);
  const emit = v.json ? jsonLinesReporter(process.stdout) : terminalReporter({ out: process.stdout, style: styleFor(process.stdout, process.env, ci), ci, verbose: Boolean(v.verbose) });

  const opened = await openProject(file, overrides);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    return EXIT.usage;
  }
  const { pipeline, graph } = opened.project;
  for (const t of inv.positionals) {
    if (!pipeline.stages.has(t)) throw new UsageError(`no stage named '${t}' (stages: ${[...pipeline.stages.keys()].join(', ')})`);
  }
  const forceList = (v.force as string[] | undefined) ?? [];
  for (const f of forceList) {
    if (f !== '*' && !pipeline.stages.has(f)) throw new UsageError(`--force ${f}: no stage named '${f}'`);
  }
  const force = forceList.includes('*') ? true : forceList.length ? forceList : false;

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    controller.abort(new Error('interrupted'));
    if (interrupts > 2) process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ws = new Workspace(pipeline.root);
  const runId = newRunId();
  const counts: Record<StageStatus, number> = { 'up-to-date': 0, restored: 0, done: 0, failed: 0, 'not-run': 0 };
  const started = Date.now();
  const sink = (e: RunEvent) => {
    emit(e);
  };
  sink({ type: 'run-started', runId, time: started, stages: graph.order, jobs, dryRun: Boolean(v['dry-run']) });
  const outcome = await runPipeline(pipeline, graph, ws, {
    targets: inv.positionals,
    jobs,
    keepGoing: Boolean(v['keep-going']),
    dryRun: Boolean(v['dry-run']),
    force,
    graceMs: graceSeconds * 1000,
    signal: controller.signal,
    emit: sink,
    runId,
  });
  for (const r of outcome.results.values()) counts[r.status]++;
  sink({ type: 'run-finished', time: Date.now(), runId, status: outcome.status, durationMs: Date.now() - started, counts });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (outcome.status === 'interrupted') return EXIT.interrupted;
  if (outcome.status === 'failed') return EXIT.failed;
  return EXIT.ok;
}
