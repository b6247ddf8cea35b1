// CI artifacts of a run (`evidence run --ci`): JUnit XML, the bundle manifest, the GitHub step
// summary and GitHub annotations, written once the run has settled and before it exits, so that a
// run that fails or meets a gate still leaves every artifact behind. Paths come from pipeline.yaml
// `reports: { dir, junit, manifest }` (default reports/junit.xml and reports/manifest.json).
import { appendFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import type { StageStatus } from '../run/events.js';
import type { FailureInfo } from '../stage-api/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { interpolateText } from '../pipeline/interpolate.js';
import type { StageRecord } from './ci-record.js';
import type { StageFindings } from '../run/findings.js';
import { junitXml } from './ci-junit.js';
import { buildManifest, writeManifest } from './ci-manifest.js';
import { stepSummaryMarkdown } from './ci-summary.js';
import { failedStageAnnotations, findingsAnnotations, formatAnnotation, workspaceOf } from './ci-annotations.js';

export type RunStatus = 'success' | 'failed' | 'interrupted' | 'gate';

export interface ReportPaths {
  junit: string;
  manifest: string;
}

/** Project-relative paths of the report files (`${params.x}` resolved, as everywhere in pipeline.yaml). */
export function reportPathsOf(pipeline: Pipeline): ReportPaths {
  const r = pipeline.reports as { dir?: unknown; junit?: unknown; manifest?: unknown };
  const dir = typeof r.dir === 'string' ? r.dir : 'reports';
  const norm = (p: string) => posix.normalize(interpolateText(p, { params: pipeline.params }).replace(/\\/g, '/')).replace(/^\.\//, '');
  return {
    junit: norm(typeof r.junit === 'string' ? r.junit : posix.join(dir, 'junit.xml')),
    manifest: norm(typeof r.manifest === 'string' ? r.manifest : posix.join(dir, 'manifest.json')),
  };
}

export interface CiReportInput {
  pipeline: Pipeline;
  runId: string;
  status: RunStatus;
  startedAt: number;
  durationMs: number;
  statuses: ReadonlyMap<string, StageStatus>;
  records: StageRecord[];
  failures: FailureInfo[];
  findings: StageFindings[];
  env: NodeJS.ProcessEnv;
  /** Where GitHub workflow commands go (stdout, unless stdout carries JSON lines). */
  annotations: NodeJS.WritableStream;
}

/** Writes the reports; returns the paths written (project-relative, or the summary file as given). */
export async function writeCiReports(input: CiReportInput): Promise<string[]> {
  const { pipeline, env } = input;
  const paths = reportPathsOf(pipeline);
  const written: string[] = [];

  const stderr = new Map(input.failures.map((f) => [f.stage, f.stderr]));
  const xml = junitXml({
    name: `evidence ${posix.relative(pipeline.root.split('\\').join('/'), pipeline.file.split('\\').join('/'))}`,
    timestamp: input.startedAt,
    durationMs: input.durationMs,
    records: input.records,
    stderr,
    findings: input.findings,
  });
  await writeFileAtomic(join(pipeline.root, paths.junit), xml);
  written.push(paths.junit);

  const manifest = await buildManifest(pipeline, input.statuses, {
    runId: input.runId,
    status: input.status,
    manifestPath: paths.manifest,
    reports: { junit: paths.junit },
  });
  await writeManifest(pipeline.root, manifest);
  written.push(paths.manifest);

  if (env.GITHUB_STEP_SUMMARY) {
    const md = stepSummaryMarkdown({
      status: input.status,
      durationMs: input.durationMs,
      records: input.records,
      findings: input.findings,
      reports: { JUnit: paths.junit, Manifest: paths.manifest },
      artifactCount: manifest.artifacts.length,
      env,
    });
    appendFileSync(env.GITHUB_STEP_SUMMARY, md + '\n');
    written.push(env.GITHUB_STEP_SUMMARY);
  }

  if (env.GITHUB_ACTIONS === 'true') {
    const workspace = workspaceOf(pipeline.root, env);
    for (const a of [...failedStageAnnotations(pipeline, input.records), ...findingsAnnotations(pipeline, input.findings)]) {
      input.annotations.write(formatAnnotation(a, workspace) + '\n');
    }
  }
  return written;
}
