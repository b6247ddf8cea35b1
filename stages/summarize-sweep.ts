// The summarize-sweep stage: the comparisons of every instance of a matrix (a sweep over
// configurations) side by side. `with: { comparisons: [files or globs], output?, markdown?, title? }`:
// writes sweep.json (schemas/sweep.schema.json) and sweep.md (stages/trace/sweep/). A comparison is
// named by the stage that wrote it (compare@ortho-beam) and linked to the summary made from it.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic, StageFailure, type StageContext, type StageModule, readValidatedJson, toolSchemasDir, outputOf, validateAgainst, formatIssues } from '../src/stage-api/index.js';
import type { Comparison } from './trace/comparison.js';
import { collectSweep, instanceOf } from './trace/sweep/collect.js';
import { renderSweep } from './trace/sweep/render.js';
import { comparisonFiles } from './trace/sweep/files.js';

interface SweepWith {
  comparisons: string[];
  output?: string;
  markdown?: string;
  title?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'summarize-sweep.input.schema.json'), 'utf8')) as object;

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as SweepWith;
  const output = outputOf(ctx);
  const markdown = w.markdown ? resolve(ctx.cwd, w.markdown) : join(dirname(output), 'sweep.md');
  const files = comparisonFiles(ctx, w.comparisons);
  if (!files.length) throw new StageFailure('require', `no comparison matches ${w.comparisons.join(', ')}`);
  const comparisons = files.map((f) => {
    try {
      return readValidatedJson<Comparison>(join(ctx.root, f), join(toolSchemasDir(), 'comparison.schema.json'));
    } catch (err) {
      throw new StageFailure('schema', `${f}: ${(err as Error).message}`);
    }
  });
  const sweep = collectSweep(
    files.map((f, i) => instanceOf(ctx.pipeline, f, comparisons[i]!)),
    comparisons,
  );
  const issues = validateAgainst(join(toolSchemasDir(), 'sweep.schema.json'), sweep);
  if (issues.length) throw new StageFailure('schema', `the sweep breaks sweep.schema.json: ${formatIssues(issues)}`);
  const mdRel = relative(ctx.root, markdown).split('\\').join('/');
  await writeFileAtomic(markdown, renderSweep(sweep, mdRel, w.title ?? `Sweep: ${files.length} comparisons`));
  await writeFileAtomic(output, JSON.stringify(sweep, null, 2) + '\n');
  const off = sweep.instances.filter((i) => i.verdict !== 'MATCH').length;
  ctx.log.info(`${files.length} comparison(s), ${off} with a finding`);
}

export default { name: 'summarize-sweep', version: '1', inputSchema, run } satisfies StageModule;
