// GitHub Actions workflow commands (`::error file=F,line=L::message`): each configuration error
// points at its pipeline.yaml line, each failed stage at its definition, and each annotation a
// stage's findings bring at the file line it names (a divergence at the port's log line). Paths are
// relative to the repository (GITHUB_WORKSPACE, else the git top level), as GitHub resolves them.
import { isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
import type { StageRecord } from './ci-record.js';
import type { StageFindings } from '../run/findings.js';
import type { FindingAnnotation } from '../stage-api/index.js';
import { gitTopLevel } from './ci-git.js';

/** A findings annotation whose file, when it has one, is absolute. */
export type Annotation = FindingAnnotation;

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function workspaceOf(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.GITHUB_WORKSPACE ? resolve(env.GITHUB_WORKSPACE) : gitTopLevel(dir) ?? dir;
}

export function formatAnnotation(a: Annotation, workspace: string): string {
  const props: string[] = [];
  if (a.file) props.push(`file=${escapeProperty(relative(workspace, a.file).split('\\').join('/'))}`);
  if (a.line) props.push(`line=${a.line}`);
  if (a.col) props.push(`col=${a.col}`);
  if (a.title) props.push(`title=${escapeProperty(a.title)}`);
  return `::${a.level}${props.length ? ' ' + props.join(',') : ''}::${escapeData(a.message)}`;
}

export function diagnosticAnnotations(diagnostics: Diagnostic[], cwd: string): Annotation[] {
  return diagnostics.map((d) => ({
    level: 'error',
    file: d.line > 0 && d.file !== 'command line' ? (isAbsolute(d.file) ? d.file : resolve(cwd, d.file)) : undefined,
    line: d.line > 0 ? d.line : undefined,
    col: d.line > 0 && d.column > 0 ? d.column : undefined,
    title: 'evidence: invalid pipeline',
    message: d.hint ? `${d.message} (${d.hint})` : d.message,
  }));
}

/** The annotations of the stages' findings, their files made absolute against the project root. */
export function findingsAnnotations(pipeline: Pipeline, findings: StageFindings[]): Annotation[] {
  return findings.flatMap(({ findings: f }) => (f.annotations ?? []).map((a) => ({ ...a, file: a.file === undefined ? undefined : resolve(pipeline.root, a.file) })));
}

export function failedStageAnnotations(pipeline: Pipeline, records: StageRecord[]): Annotation[] {
  return records
    .filter((r) => r.outcome === 'failed')
    .map((r) => ({
      level: 'error' as const,
      file: pipeline.file,
      line: pipeline.stages.get(r.stage)?.loc.line,
      title: `evidence: stage ${r.stage} failed`,
      message: `${r.reason}: ${r.message ?? ''}`,
    }));
}
