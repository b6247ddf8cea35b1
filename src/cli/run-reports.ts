// What `evidence run` does once the scheduler has settled: read every settled stage's findings
// from what it left on disk (ran, up to date or restored alike, so every run ends with the current
// verdict), judge the gates, and in CI mode write the reports (JUnit, manifest, step summary,
// annotations) before the exit code is decided.
import type { Pipeline } from '../pipeline/model.js';
import type { EventSink, StageStatus } from '../run/events.js';
import type { RunOutcome } from '../run/scheduler.js';
import { leadingFindings, readFindings } from '../run/findings.js';
import type { Workspace } from '../cache/workspace.js';
import type { StageCatalog } from '../stage-api/index.js';
import type { StageRecorder } from '../report/ci-record.js';
import type { RunStatus } from '../report/ci.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';

export interface AfterRun {
  pipeline: Pipeline;
  catalog: StageCatalog;
  ws: Workspace;
  outcome: RunOutcome;
  runId: string;
  startedAt: number;
  emit: EventSink;
  /** Set in CI mode: the per-stage records for the reports. */
  recorder?: StageRecorder;
  annotations: NodeJS.WritableStream;
}

export interface Judgement {
  /** Interrupted or failed as the scheduler says, else 'gate' when a stage's gate is met. */
  status: RunStatus;
  /** The most severe verdict among the findings, for the closing line. */
  verdict?: { stage: string; verdict: string; severity: 'ok' | 'notice' | 'problem' };
}

export async function judgeAndReport(a: AfterRun): Promise<Judgement> {
  const statuses = new Map<string, StageStatus>(a.outcome.selected.map((s) => [s, a.outcome.results.get(s)?.status ?? 'not-run']));
  const findings = await readFindings(a.pipeline, a.catalog, statuses, { ws: a.ws });
  for (const { stage, findings: f } of findings) {
    for (const message of f.warnings ?? []) a.emit({ type: 'warning', time: Date.now(), stage, message });
    if (!f.warnings?.length) a.emit({ type: 'findings', time: Date.now(), stage, verdict: f.verdict, severity: f.severity, headline: f.headline });
    if (f.gate) a.emit({ type: 'gate-met', time: Date.now(), stage, rule: f.gate.rule, verdict: f.verdict ?? '', detail: f.gate.detail });
  }
  const status: RunStatus = a.outcome.status === 'success' && findings.some((f) => f.findings.gate) ? 'gate' : a.outcome.status;
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
      findings,
      env: process.env,
      annotations: a.annotations,
    });
    a.emit({ type: 'reports-written', time: Date.now(), paths: written });
  }
  const lead = leadingFindings(findings);
  return { status, verdict: lead && { stage: lead.stage, verdict: lead.findings.verdict!, severity: lead.findings.severity } };
}

/** On GitHub Actions, each configuration error also becomes an annotation on its pipeline.yaml line. */
export async function annotateDiagnostics(diagnostics: Diagnostic[], out: NodeJS.WritableStream): Promise<void> {
  if (process.env.GITHUB_ACTIONS !== 'true') return;
  const { diagnosticAnnotations, formatAnnotation, workspaceOf } = await import('../report/ci-annotations.js');
  const cwd = process.cwd();
  const workspace = workspaceOf(cwd);
  for (const a of diagnosticAnnotations(diagnostics, cwd)) out.write(formatAnnotation(a, workspace) + '\n');
}
