// The findings of a summarize-sweep stage, read from the sweep.json it left: the worst verdict over
// the instances, a headline counting them, one JUnit case per instance, and the sweep table for the
// CI step summary. No gate: each compare instance has its own.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FindingCase, Findings, FindingsInput } from '../../../src/stage-api/index.js';
import { SEVERITY, type Status } from '../status.js';
import { groupLines, sweepTable } from './render.js';
import { headlineText, labelOf, type Sweep } from './collect.js';

export async function findings(input: FindingsInput): Promise<Findings> {
  const file = input.primaryOut;
  let sweep: Sweep;
  try {
    if (!file) throw new Error('the stage declares no output');
    sweep = JSON.parse(readFileSync(resolve(input.root, file), 'utf8')) as Sweep;
    if (sweep?.format !== 'evidence-sweep/1') throw new Error(`not a sweep (format ${JSON.stringify(sweep?.format)})`);
  } catch (err) {
    return { severity: 'notice', headline: `cannot read ${file ?? 'its output'}: ${(err as Error).message}`, warnings: [(err as Error).message] };
  }
  const verdict = sweep.instances.map((i) => i.verdict as Status).reduce((a, b) => ((SEVERITY[b] ?? 0) > (SEVERITY[a] ?? 0) ? b : a), 'MATCH' as Status);
  const off = sweep.instances.filter((i) => i.verdict !== 'MATCH');
  const n = sweep.instances.length;
  const top = sweep.groups.find((g) => g.instances.some((s) => off.some((i) => i.stage === s)));
  const headline = off.length
    ? `${off.length} of ${n} instances with a finding; ${top!.instances.length} at ${headlineText(sweep.instances.find((i) => i.stage === top!.instances[0])!)}`
    : `all ${n} instances match`;
  const cases: FindingCase[] = sweep.instances.map((i) => ({
    group: input.stage,
    name: labelOf(i.stage),
    outcome: i.verdict === 'MATCH' ? 'passed' : 'failed',
    ...(i.verdict === 'MATCH' ? {} : { message: headlineText(i), type: i.verdict }),
  }));
  return {
    verdict,
    severity: verdict === 'MATCH' ? 'ok' : verdict === 'MINOR' || verdict === 'MISSING' ? 'notice' : 'problem',
    rank: SEVERITY[verdict],
    headline,
    suite: { name: `sweep ${input.stage}`, cases },
    summary: [`### ${input.stage}: ${headline}`, '', ...groupLines(sweep), '', sweepTable(sweep, file!), ''].join('\n'),
  };
}
