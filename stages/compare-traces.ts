// The compare-traces stage: reads two trace documents (schemas/trace.schema.json), compares them
// and reads the findings (stages/trace/compare.ts) and writes the comparison
// (schemas/comparison.schema.json).
// `with: { reference, port, output?, tolerance?, aliases?, ignore?, match_by?, checkpoints?,
// fail_on?, families? }`. The stage succeeds whatever the verdict: `fail_on` and `failed` are
// recorded in the comparison, and the runner decides what they mean for the exit code.
import { readFileSync } from 'node:fs';
import { open, rm, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { commitTemp, tempPathFor, StageFailure, type StageContext, type StageModule, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import { compareTraces, type CompareOptions, type Comparison, type FailOn, type ToleranceOptions } from './trace/compare.js';
import { compactJsonPieces } from './trace/compact.js';
import type { TraceColumns } from './trace/columns.js';
import { readTracePair } from './trace/trace-pair.js';

export interface CompareTracesWith {
  reference: string;
  port: string;
  output?: string;
  tolerance?: ToleranceOptions;
  aliases?: Record<string, string>;
  ignore?: string[];
  match_by?: string | Record<string, string>;
  checkpoints?: string[];
  fail_on?: FailOn;
  families?: { reference?: string; port?: string };
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'compare-traces.input.schema.json'), 'utf8')) as object;

/** The `with:` block (snake_case, as in pipeline.yaml) as compare options. */
export function compareOptionsFrom(w: Omit<CompareTracesWith, 'reference' | 'port' | 'output'>): CompareOptions {
  return {
    ...(w.tolerance ? { tolerance: w.tolerance } : {}),
    ...(w.aliases ? { aliases: w.aliases } : {}),
    ...(w.ignore ? { ignore: w.ignore } : {}),
    ...(w.match_by !== undefined ? { matchBy: w.match_by } : {}),
    ...(w.checkpoints ? { checkpoints: w.checkpoints } : {}),
    ...(w.fail_on ? { failOn: w.fail_on } : {}),
    ...(w.families ? { families: w.families } : {}),
  };
}

/** Reads both trace documents as columns, failing with the schema error's instance path when one is malformed. */
export async function readTraces(reference: string, port: string): Promise<[TraceColumns, TraceColumns]> {
  try {
    return await readTracePair(reference, port);
  } catch (err) {
    throw new StageFailure('schema', (err as Error).message);
  }
}

/**
 * The comparison as JSON text, in pieces: the summary fields first, then one item per line, then
 * a compact comparison's columns, so a comparison of millions of items never needs one giant string.
 */
export function* comparisonJsonPieces(c: Comparison): Generator<string | Buffer> {
  const { items, compact, ...head } = c;
  const headJson = JSON.stringify(head, null, 1);
  yield headJson.slice(0, -2) + ',\n "items": [';
  let batch = '';
  for (let i = 0; i < items.length; i++) {
    batch += (i === 0 ? '\n  ' : ',\n  ') + JSON.stringify(items[i]);
    if (batch.length > 1 << 20) {
      yield batch;
      batch = '';
    }
  }
  if (!compact) {
    yield batch + (items.length ? '\n ]\n}\n' : ']\n}\n');
    return;
  }
  yield batch + (items.length ? '\n ],\n "compact": ' : '],\n "compact": ');
  yield* compactJsonPieces(compact);
  yield '\n}\n';
}

/** Writes the comparison to a temporary file next to `target` and renames it into place (no fsync, as in src/fs/atomic-write.ts). */
export async function writeComparison(target: string, c: Comparison): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'w');
  let closed = false;
  try {
    for (const piece of comparisonJsonPieces(c)) await (typeof piece === 'string' ? fh.write(piece) : fh.write(piece));
    await fh.close();
    closed = true;
    await commitTemp(tmp, target);
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as CompareTracesWith;
  const output = outputOf(ctx);
  const [reference, port] = await readTraces(resolve(ctx.cwd, w.reference), resolve(ctx.cwd, w.port));
  ctx.signal.throwIfAborted();
  const comparison = compareTraces(reference, port, compareOptionsFrom(w));
  await writeComparison(output, comparison);
  const t = comparison.totals;
  const first = comparison.firstDivergence;
  const headline = comparison.findings[0];
  ctx.log.info(
    `${t.compared} compared: ${t.MATCH} match, ${t.MINOR} minor, ${t.DIVERGENT} divergent, ${t.CRITICAL} critical, ${t.MISSING} missing` +
      (t.ignored ? `, ${t.ignored} ignored` : '') +
      (t.roundOff ? `, ${t.roundOff} within round-off` : '') +
      (headline ? `; ${comparison.findings.length} finding(s), headline ${headline.name} (${headline.status})` : first ? '; no finding beyond round-off' : '; no divergence') +
      (first && first.index !== headline?.index ? `; first divergence ${first.name} (${first.status})` : ''),
  );
}

export default { name: 'compare-traces', version: '1', inputSchema, run } satisfies StageModule;
