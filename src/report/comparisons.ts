// Reads what compare-traces stages wrote, for the reporters (watch status, JUnit, step summary,
// annotations) and for the `fail_on` gate. The one place in src/ that knows the comparison format
// (stages/trace/compare.ts) and that a compare stage is `uses: compare-traces`: the runner core
// knows nothing about traces. The gate is judged from the artifact on disk, so a compare stage that
// was up to date or restored gates the run exactly as one that just ran.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { Pipeline, Stage } from '../pipeline/model.js';
import type { StageStatus } from '../run/events.js';
import type { ComparedItem, Comparison, FailOn, Status } from '../../stages/trace/compare.js';

export type { ComparedItem, Comparison, FailOn, Status };

export const COMPARE_USES = 'compare-traces';
const PARSE_USES = 'parse-trace';

export interface StageComparison {
  stage: string;
  /** Project-relative path of the comparison JSON. */
  file: string;
  /** From the stage's `with.fail_on`; 'never' when unset (evidence is not a failure by default). */
  failOn: FailOn;
  comparison?: Comparison;
  /** Why the comparison could not be read. */
  error?: string;
  /** Whether `failOn` is met by the comparison's verdict. */
  gate: boolean;
}

export function isCompareStage(stage: Stage): boolean {
  return stage.kind === 'uses' && stage.uses === COMPARE_USES;
}

function projectPath(stage: Stage, p: string): string {
  return posix.normalize(posix.join(stage.cwd, p.replace(/\\/g, '/')));
}

/** Where a compare stage writes its comparison: `with.output` (relative to its cwd), else its first out. */
export function comparisonFileOf(stage: Stage): string | undefined {
  const output = stage.with.output;
  if (typeof output === 'string') return projectPath(stage, output);
  return stage.outs[0]?.path;
}

export function failOnOf(stage: Stage): FailOn {
  const v = stage.with.fail_on;
  return v === 'divergent' || v === 'critical' ? v : 'never';
}

/** Whether an item (or a verdict) of this status counts against `failOn`. */
export function failsOn(failOn: FailOn, status: Status): boolean {
  if (failOn === 'divergent') return status === 'DIVERGENT' || status === 'CRITICAL';
  if (failOn === 'critical') return status === 'CRITICAL';
  return false;
}

export function readComparisonFile(abs: string): Comparison {
  const value = JSON.parse(readFileSync(abs, 'utf8')) as Comparison;
  if (value?.format !== 'evidence-comparison/1' || !Array.isArray(value.items)) throw new Error(`not a comparison (format ${JSON.stringify(value?.format)})`);
  return value;
}

const SETTLED: ReadonlySet<StageStatus> = new Set(['done', 'up-to-date', 'restored']);

/**
 * The comparisons of the compare stages among `statuses` whose outs are in place (ran, up to date
 * or restored), with their gate. A stage that failed or did not run has no comparison to judge.
 */
export function readStageComparisons(pipeline: Pipeline, statuses: ReadonlyMap<string, StageStatus>): StageComparison[] {
  const out: StageComparison[] = [];
  for (const [name, status] of statuses) {
    const stage = pipeline.stages.get(name);
    if (!stage || !isCompareStage(stage) || !SETTLED.has(status)) continue;
    const file = comparisonFileOf(stage);
    const failOn = failOnOf(stage);
    if (!file) {
      out.push({ stage: name, file: '', failOn, error: 'the stage declares no output', gate: false });
      continue;
    }
    try {
      const comparison = readComparisonFile(join(pipeline.root, file));
      out.push({ stage: name, file, failOn, comparison, gate: failsOn(failOn, comparison.verdict) });
    } catch (err) {
      out.push({ stage: name, file, failOn, error: (err as Error).message, gate: false });
    }
  }
  return out;
}

/**
 * The project-relative log file a side of a comparison was parsed from. The trace records the log
 * path relative to its parse stage's cwd; the parse stage is the one whose out the compare stage
 * reads for that side.
 */
export function traceLogOf(pipeline: Pipeline, compareStage: Stage, comparison: Comparison, side: 'reference' | 'port'): string {
  const source = comparison[side].source;
  if (isAbsolute(source)) return source;
  const input = compareStage.with[side];
  if (typeof input === 'string') {
    const traceFile = projectPath(compareStage, input);
    for (const s of pipeline.stages.values()) {
      if (s.kind === 'uses' && s.uses === PARSE_USES && s.outs.some((o) => o.path === traceFile || traceFile.startsWith(o.path + '/'))) {
        return projectPath(s, source);
      }
    }
  }
  return posix.normalize(source);
}

export function formatRel(rel: number | null | undefined): string {
  if (rel === null || rel === undefined || !Number.isFinite(rel)) return '—';
  return rel === 0 ? '0' : rel.toExponential(2);
}

export function formatValue(v: ComparedItem['reference']): string {
  if (v === null) return 'missing';
  const text = v.length === 1 ? String(v[0]) : `[${v.join(', ')}]`;
  return text.length > 80 ? text.slice(0, 77) + '…' : text;
}

export function diagnosisOf(item: ComparedItem | undefined): string {
  return item?.diagnoses?.[0]?.message ?? '';
}

/** One line: the first divergence (key, Δ rel, status and diagnosis), or that every key matches. */
export function firstDivergenceLine(c: Comparison): string {
  const first = c.firstDivergence;
  if (!first) {
    const extra = [c.totals.MINOR && `${c.totals.MINOR} minor`, c.totals.MISSING && `${c.totals.MISSING} missing`].filter(Boolean);
    return `all keys match (${c.totals.compared} compared${extra.length ? `; ${extra.join(', ')}` : ''})`;
  }
  const item = c.items[first.index];
  const diagnosis = first.diagnoses[0]?.message ?? diagnosisOf(item);
  return `first divergence ${first.name} (${first.status}, Δ rel ${formatRel(item?.rel)})${diagnosis ? `: ${diagnosis}` : ''}`;
}

export interface KeyGroup {
  key: string;
  items: ComparedItem[];
  /** Worst status among the group's items (MISSING counts below MATCH's opposite: it is reported, not judged). */
  worst: Status;
}

const SEVERITY: Record<Status, number> = { MATCH: 0, MISSING: 1, MINOR: 2, DIVERGENT: 3, CRITICAL: 4 };

/** Items grouped by key (the reference's spelling), in the reference's order. */
export function keyGroups(c: Comparison): KeyGroup[] {
  const groups = new Map<string, KeyGroup>();
  for (const item of c.items) {
    let g = groups.get(item.key);
    if (!g) groups.set(item.key, (g = { key: item.key, items: [], worst: 'MATCH' }));
    g.items.push(item);
    if (SEVERITY[item.status] > SEVERITY[g.worst]) g.worst = item.status;
  }
  return [...groups.values()];
}
