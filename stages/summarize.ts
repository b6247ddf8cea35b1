// The summarize stage: renders a comparison (schemas/comparison.schema.json) as a Markdown summary —
// the table of the selected keys, the first divergence and every divergent key with its diagnosis.
// `with: { comparison, output?, keys?, title? }`. The text itself is built in stages/trace/summary.ts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, StageFailure, type StageContext, type StageModule, readValidatedJson, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import type { Comparison } from './trace/compare.js';
import { renderSummary } from './trace/summary.js';

export interface SummarizeWith {
  comparison: string;
  output?: string;
  keys?: string[];
  title?: string;
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

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as SummarizeWith;
  const output = outputOf(ctx);
  const comparison = readComparison(resolve(ctx.cwd, w.comparison));
  const text = renderSummary(comparison, { ...(w.keys ? { keys: w.keys } : {}), ...(w.title ? { title: w.title } : {}) });
  await writeFileAtomic(output, text);
  ctx.log.info(`summary of ${comparison.totals.compared} item(s), verdict ${comparison.verdict}`);
}

export default { name: 'summarize', version: '1', inputSchema, run } satisfies StageModule;
