// The report stage: a self-contained HTML page with plots rendered at build time (stages/report/).
// `with: { comparison, output?, chart?, title? }` reports one comparison (its findings,
// chain plot, per-record plots, the headline's components, the full table) and, given `chart`,
// writes the chain plot beside it as a standalone SVG for summary.md to embed.
// `with: { sweep, comparisons, output?, title? }` reports a sweep (summarize-sweep's sweep.json):
// the instances grouped by headline and the heatmap of instance × key, read from the comparisons
// (which must be the sweep's own). One kind for both, because both are "the picture of evidence
// already written", and the serving page finds every report as the primary output of a
// `uses: report` stage; summarize-sweep keeps writing data and Markdown only.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic, StageFailure, type StageContext, type StageModule, readValidatedJson, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import type { Comparison } from './trace/comparison.js';
import type { Sweep } from './trace/sweep/collect.js';
import { comparisonFiles } from './trace/sweep/files.js';
import { readComparison } from './summarize.js';
import { comparisonReport } from './report/comparison-page.js';
import { sweepReport, type InstanceLinks } from './report/sweep-page.js';

interface ReportWith {
  comparison?: string;
  sweep?: string;
  comparisons?: string[];
  output?: string;
  chart?: string;
  title?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'report.input.schema.json'), 'utf8')) as object;

/** A project path as a link from the page at `from` (both absolute). */
function linkFrom(from: string, target: string): string {
  return relative(dirname(from), target).split('\\').join('/');
}

async function reportComparison(ctx: StageContext, w: ReportWith, output: string): Promise<void> {
  const c = readComparison(resolve(ctx.cwd, w.comparison!));
  const r = await comparisonReport(c, w.title ? { title: w.title } : {});
  if (w.chart) await writeFileAtomic(resolve(ctx.cwd, w.chart), r.chainSvg);
  await writeFileAtomic(output, r.html);
  ctx.log.info(`report of ${c.totals.compared} item(s): ${r.plotted} plotted${r.thinned ? ' (downsampled)' : ''}, ${(Buffer.byteLength(r.html) / 1024).toFixed(0)} kB`);
}

async function reportSweep(ctx: StageContext, w: ReportWith, output: string): Promise<void> {
  let sweep: Sweep;
  try {
    sweep = readValidatedJson<Sweep>(resolve(ctx.cwd, w.sweep!), join(toolSchemasDir(), 'sweep.schema.json'));
  } catch (err) {
    throw new StageFailure('schema', (err as Error).message);
  }
  const files = comparisonFiles(ctx, w.comparisons!);
  const missing = sweep.instances.filter((i) => !files.includes(i.comparison)).map((i) => i.comparison);
  if (missing.length) {
    throw new StageFailure('require', `the sweep ${w.sweep} names comparisons not in with.comparisons (so not inputs of this stage): ${missing.join(', ')}`);
  }
  const comparisons = new Map<string, Comparison>();
  for (const i of sweep.instances) comparisons.set(i.comparison, readComparison(join(ctx.root, i.comparison)));
  // Each instance's own report and summary, found as the stages reading its comparison.
  const links = new Map<string, InstanceLinks>();
  for (const i of sweep.instances) {
    const report = ctx.pipeline.stages.find((s) => s.uses === 'report' && s.deps.includes(i.comparison))?.outs.find((o) => o.endsWith('.html'));
    const summary = i.summary;
    links.set(i.stage, {
      ...(report ? { report: linkFrom(output, join(ctx.root, report)) } : {}),
      ...(summary ? { summary: linkFrom(output, join(ctx.root, summary)) } : {}),
    });
  }
  const r = await sweepReport(sweep, comparisons, links, w.title ?? `Sweep: ${sweep.instances.length} comparisons`);
  await writeFileAtomic(output, r.html);
  ctx.log.info(`sweep report of ${sweep.instances.length} instance(s), ${r.cells} heatmap cells`);
}

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as ReportWith;
  const output = outputOf(ctx);
  if (w.comparison) await reportComparison(ctx, w, output);
  else await reportSweep(ctx, w, output);
}

export default { name: 'report', version: '1', inputSchema, run } satisfies StageModule;
