// The summarize stage: renders a comparison (schemas/comparison.schema.json) as a Markdown summary —
// the findings and tables (built in stages/trace/summary.ts), then a provenance section: git SHA,
// dirty flag, commit date, tool versions, params, the comparison's options and every command line
// (built in stages/provenance/). `with: { comparison, output?, keys?, title?, snapshot? }`. With a
// snapshot (listed in deps) the provenance is the snapshot's; without one it is read from the
// pipeline and git when the stage runs, and the catalog then makes every param and stage
// definition part of this stage's fingerprint, so that the summary never names a stale param.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic, StageFailure, type StageContext, type StageModule, readValidatedJson, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import type { Comparison } from './trace/compare.js';
import { renderSummary } from './trace/summary.js';
import { gatherProvenance } from './provenance/gather.js';
import { renderSummaryProvenance } from './provenance/render.js';

export interface SummarizeWith {
  comparison: string;
  output?: string;
  keys?: string[];
  title?: string;
  snapshot?: string;
  report?: string;
  chart?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'summarize.input.schema.json'), 'utf8')) as object;

/** Reads a comparison, failing with the schema error's instance path when it is malformed. */
export function readComparison(file: string): Comparison {
  try {
    return readValidatedJson<Comparison>(file, join(toolSchemasDir(), 'comparison.schema.json'));
  } catch (err) {
    throw new StageFailure('schema', (err as Error).message);
  }
}

/**
 * The links to the report and its chain plot, relative to the summary: Markdown viewers (GitHub, CI
 * artifact browsers) show the SVG inline and follow the link. Right under the title, so a reader
 * sees the picture before the tables.
 */
export function withReportLinks(body: string, output: string, cwd: string, w: Pick<SummarizeWith, 'report' | 'chart'>): string {
  if (!w.report && !w.chart) return body;
  const link = (p: string) => relative(dirname(output), resolve(cwd, p)).split('\\').join('/');
  const lines: string[] = [];
  if (w.chart) lines.push(`![The chain: Δ rel of every compared item in the reference's order, findings marked](${link(w.chart)})`);
  if (w.report) lines.push(`[The report with plots (HTML)](${link(w.report)}): the chain, per-record plots, the headline's components and a filterable table.`);
  const cut = body.indexOf('\n\n');
  return cut < 0 ? `${body}\n\n${lines.join('\n\n')}\n` : `${body.slice(0, cut)}\n\n${lines.join('\n\n')}${body.slice(cut)}`;
}

/** `body` then `section`, one blank line between them, one newline at the end. */
export function appendMarkdown(body: string, section: string): string {
  return `${body.replace(/\n+$/, '')}\n\n${section.replace(/\n+$/, '')}\n`;
}

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as SummarizeWith;
  const output = outputOf(ctx);
  const comparison = readComparison(resolve(ctx.cwd, w.comparison));
  const provenance = await gatherProvenance(ctx, w.snapshot);
  const body = renderSummary(comparison, { ...(w.keys ? { keys: w.keys } : {}), ...(w.title ? { title: w.title } : {}) });
  await writeFileAtomic(output, appendMarkdown(withReportLinks(body, output, ctx.cwd, w), renderSummaryProvenance(provenance, comparison.options)));
  ctx.log.info(`summary of ${comparison.totals.compared} item(s), verdict ${comparison.verdict}`);
}

export default { name: 'summarize', version: '4', inputSchema, run } satisfies StageModule;
