// What `evidence run` does once the scheduler has settled: judge each compare stage's `fail_on`
// from the comparison it left on disk (ran, up to date or restored alike), and in CI mode write
// the reports (JUnit, manifest, step summary, annotations) before the exit code is decided.
import type { Pipeline } from '../pipeline/model.js';
import type { EventSink, StageStatus } from '../run/events.js';
import type { RunOutcome } from '../run/scheduler.js';
import { failOnOf, firstDivergenceLine, readStageComparisons } from '../report/comparisons.js';
import type { StageRecorder } from '../report/ci-record.js';
import type { RunStatus } from '../report/ci.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';

export interface AfterRun {
  pipeline: Pipeline;
  outcome: RunOutcome;
  runId: string;
  startedAt: number;
  emit: EventSink;
  /** Set in CI mode: the per-stage records for the reports. */
  recorder?: StageRecorder;
  annotations: NodeJS.WritableStream;
}

/** The run's final status: interrupted or failed as the scheduler says, else 'gate' when a fail_on is met. */
export async function judgeAndReport(a: AfterRun): Promise<RunStatus> {
  const statuses = new Map<string, StageStatus>(a.outcome.selected.map((s) => [s, a.outcome.results.get(s)?.status ?? 'not-run']));
  // Outside CI only gated comparisons matter: a no-op run should not read every comparison.
  const needed = a.recorder
    ? statuses
    : new Map([...statuses].filter(([name]) => {
        const stage = a.pipeline.stages.get(name);
        return stage !== undefined && failOnOf(stage) !== 'never';
      }));
  const comparisons = readStageComparisons(a.pipeline, needed);
  for (const c of comparisons) {
    if (c.error) a.emit({ type: 'warning', time: Date.now(), stage: c.stage, message: `cannot read the comparison ${c.file}: ${c.error}` });
    if (c.gate && c.comparison) a.emit({ type: 'gate-met', time: Date.now(), stage: c.stage, failOn: c.failOn, verdict: c.comparison.verdict, detail: firstDivergenceLine(c.comparison) });
  }
  const status: RunStatus = a.outcome.status === 'success' && comparisons.some((c) => c.gate) ? 'gate' : a.outcome.status;
  if (a.recorder) {
    const byStage = new Map(a.recorder.records().map((r) => [r.stage, r]));
    const records = a.outcome.selected.map((s) => byStage.get(s) ?? { stage: s, outcome: 'not-run' as const, time: a.startedAt, cache: 'none' as const, reason: 'not reached' });
    const { writeCiReports } = await import('../report/ci.js');
    const written = await writeCiReports({
      pipeline: a.pipeline,
      runId: a.runId,
      status,
      startedAt: a.startedAt,
      durationMs: Date.now() - a.startedAt,
      statuses,
      records,
      failures: a.outcome.failures,
      comparisons,
      env: process.env,
      annotations: a.annotations,
    });
    a.emit({ type: 'reports-written', time: Date.now(), paths: written });
  }
  return status;
}

/** On GitHub Actions, each configuration error also becomes an annotation on its pipeline.yaml line. */
export async function annotateDiagnostics(diagnostics: Diagnostic[], out: NodeJS.WritableStream): Promise<void> {
  if (process.env.GITHUB_ACTIONS !== 'true') return;
  const { diagnosticAnnotations, formatAnnotation, workspaceOf } = await import('../report/ci-annotations.js');
  const cwd = process.cwd();
  const workspace = workspaceOf(cwd);
  for (const a of diagnosticAnnotations(diagnostics, cwd)) out.write(formatAnnotation(a, workspace) + '\n');
}
