// GitHub Actions workflow commands (`::error file=F,line=L::message`): each divergence points at the
// port's trace log line that printed it, each configuration error at its pipeline.yaml line, each
// failed stage at its definition. Paths are relative to the repository (GITHUB_WORKSPACE, else the
// git top level), as GitHub resolves them. Divergences that the stage's `fail_on` does not count
// are warnings: evidence is not a failure unless the pipeline says so.
import { isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
import type { StageRecord } from './ci-record.js';
import { failsOn, formatRel, formatValue, traceLogOf, type StageComparison } from './comparisons.js';
import { gitTopLevel } from './ci-git.js';

/** GitHub shows at most 10 annotations of a kind per step; more than this only floods the log. */
const MAX_PER_COMPARISON = 50;

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  /** Absolute path, or undefined for an annotation without a file. */
  file?: string;
  line?: number;
  col?: number;
  title?: string;
  message: string;
}

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

export function divergenceAnnotations(pipeline: Pipeline, comparisons: StageComparison[]): Annotation[] {
  const out: Annotation[] = [];
  for (const sc of comparisons) {
    const c = sc.comparison;
    const stage = pipeline.stages.get(sc.stage);
    if (!c || !stage) continue;
    const portLog = resolve(pipeline.root, traceLogOf(pipeline, stage, c, 'port'));
    let shown = 0;
    for (const index of c.divergences) {
      const item = c.items[index];
      if (!item) continue;
      if (shown++ >= MAX_PER_COMPARISON) break;
      const diagnosis = item.diagnoses?.[0]?.message;
      out.push({
        level: failsOn(sc.failOn, item.status) ? 'error' : 'warning',
        file: portLog,
        line: item.portLine,
        title: `${sc.stage}: ${item.name} ${item.status}`,
        message: `${item.name}: reference ${formatValue(item.reference)}${item.refLine ? ` (${c.reference.source}:${item.refLine})` : ''}, port ${formatValue(item.port)}, Δ rel ${formatRel(item.rel)}${diagnosis ? `. ${diagnosis}` : ''}`,
      });
    }
    if (c.divergences.length > MAX_PER_COMPARISON) {
      out.push({ level: 'notice', title: sc.stage, message: `${c.divergences.length - MAX_PER_COMPARISON} more divergences in ${sc.file}` });
    }
  }
  return out;
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
