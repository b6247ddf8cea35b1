// The parse-trace stage: turns one trace log into a TraceDocument (schemas/trace.schema.json).
// `with: { input, prefix?, require?, output? }`. The parsing itself lives in stages/trace/parse.ts;
// this file only maps the stage context onto it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type StageContext, type StageModule, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import { parseTraceFileTo } from './trace/parse.js';

export interface ParseTraceWith {
  input: string;
  prefix?: string | string[];
  require?: string[];
  output?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'parse-trace.input.schema.json'), 'utf8')) as object;

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as ParseTraceWith;
  const input = resolve(ctx.cwd, w.input);
  const output = outputOf(ctx);

  const summary = await parseTraceFileTo(input, output, {
    prefix: w.prefix,
    require: w.require,
    source: w.input,
    signal: ctx.signal,
    warn: (message) => ctx.log.warn(message),
  });
  const { lines, records, ignored } = summary.stats;
  ctx.log.info(
    `${w.input}: ${records} record${records === 1 ? '' : 's'} (${summary.prefixes.join(', ') || 'no prefix matched'}) from ${lines} lines, ${ignored} ignored`,
  );
}

export default { name: 'parse-trace', version: '1', inputSchema, run } satisfies StageModule;
