// The findings of a compare-traces stage, read from the comparison it left on disk (ran, up to date
// or restored alike): the verdict of what lies beyond round-off and the headline finding with its
// diagnosis, the `fail_on` gate (judged on items beyond round-off, see gate.ts), JUnit cases per key
// group, an annotation per item beyond round-off on the port's log line, and a step-summary section.
// A comparison whose only differences are round-off reads as MATCH, severity ok.
import { readFileSync } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import type { FindingAnnotation, Findings, FindingsInput, PipelineView } from '../../../src/stage-api/index.js';
import { itemAt, roundOffAt } from '../compact.js';
import type { Comparison } from '../comparison.js';
import { comparisonCases } from './cases.js';
import { failOnOf, failsOn } from './gate.js';
import { findingVerdictOf, headlineLine, formatRel, formatValue } from './format.js';
import { summarySection } from './summary-section.js';
import { SEVERITY } from '../status.js';

/** GitHub shows at most 10 annotations of a kind per step; more than this only floods the log. */
const MAX_ANNOTATIONS = 50;
const PARSE_KIND = 'parse-trace';

export function readComparisonFile(abs: string): Comparison {
  const value = JSON.parse(readFileSync(abs, 'utf8')) as Comparison;
  if (value?.format !== 'evidence-comparison/1' || !Array.isArray(value.items)) throw new Error(`not a comparison (format ${JSON.stringify(value?.format)})`);
  return value;
}

function projectPath(cwd: string, p: string): string {
  return posix.normalize(posix.join(cwd, p.replace(/\\/g, '/')));
}

/**
 * The project-relative log a side of a comparison was parsed from. The trace records the log path
 * relative to its parse stage's cwd; the parse stage is the one whose out the compare stage reads
 * for that side.
 */
export function traceLogOf(pipeline: PipelineView, input: Pick<FindingsInput, 'cwd' | 'with'>, comparison: Comparison, side: 'reference' | 'port'): string {
  const source = comparison[side].source;
  if (isAbsolute(source)) return source;
  const traceInput = input.with[side];
  if (typeof traceInput === 'string') {
    const traceFile = projectPath(input.cwd, traceInput);
    for (const s of pipeline.stages) {
      if (s.uses === PARSE_KIND && s.outs.some((o) => o === traceFile || traceFile.startsWith(o + '/'))) return projectPath(s.cwd, source);
    }
  }
  return posix.normalize(source);
}

function annotationsOf(input: FindingsInput, file: string, c: Comparison, portLog: string): FindingAnnotation[] {
  const failOn = failOnOf(input.with);
  const out: FindingAnnotation[] = [];
  const beyond = c.divergences.filter((i) => !roundOffAt(c, i));
  for (const index of beyond.slice(0, MAX_ANNOTATIONS)) {
    const item = itemAt(c, index);
    if (!item) continue;
    const diagnosis = item.diagnoses?.[0]?.message;
    out.push({
      level: failsOn(failOn, item.status) ? 'error' : 'warning',
      file: portLog,
      line: item.portLine,
      title: `${input.stage}: ${item.name} ${item.status}`,
      message: `${item.name}: reference ${formatValue(item.reference)}${item.refLine ? ` (${c.reference.source}:${item.refLine})` : ''}, port ${formatValue(item.port)}, Δ rel ${formatRel(item.rel)}${diagnosis ? `. ${diagnosis}` : ''}`,
    });
  }
  if (beyond.length > MAX_ANNOTATIONS) out.push({ level: 'notice', title: input.stage, message: `${beyond.length - MAX_ANNOTATIONS} more divergences in ${file}` });
  return out;
}

/** Findings that say the comparison could not be read: a warning, an error case, a short section. */
function unreadable(stage: string, file: string, error: string): Findings {
  return {
    severity: 'notice',
    headline: `cannot read ${file}: ${error}`,
    warnings: [`cannot read the comparison ${file}: ${error}`],
    suite: { name: `compare ${stage}`, cases: [{ group: `compare ${stage}`, name: 'comparison', outcome: 'error', message: `cannot read ${file || 'the comparison'}: ${error}` }] },
    summary: [`### Comparison \`${stage}\``, '', `Could not read \`${file}\`: ${error}`].join('\n'),
  };
}

export async function findings(input: FindingsInput): Promise<Findings> {
  const file = input.primaryOut;
  if (!file) return unreadable(input.stage, '', 'the stage declares no output');
  let c: Comparison;
  try {
    c = readComparisonFile(resolve(input.root, file));
  } catch (err) {
    return unreadable(input.stage, file, (err as Error).message);
  }
  const failOn = failOnOf(input.with);
  const verdict = findingVerdictOf(c);
  const gate = failsOn(failOn, verdict);
  const headline = headlineLine(c);
  const referenceLog = traceLogOf(input.pipeline, input, c, 'reference');
  const portLog = traceLogOf(input.pipeline, input, c, 'port');
  return {
    verdict,
    severity: verdict === 'MATCH' ? 'ok' : verdict === 'MINOR' ? 'notice' : 'problem',
    rank: SEVERITY[verdict],
    headline,
    gate: gate ? { rule: `fail_on: ${failOn}`, detail: headline } : undefined,
    suite: { name: `compare ${input.stage}`, cases: comparisonCases(input.stage, c, failOn) },
    annotations: annotationsOf(input, file, c, portLog),
    summary: summarySection({ stage: input.stage, file, comparison: c, failOn, gate, referenceLog, portLog }),
  };
}
