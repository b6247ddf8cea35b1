// The one-off command `evidence parse LOG --prefix P [--require K] [--json]`: parses a log outside
// any pipeline and shows what the parser sees. The CLI (src/cli) owns argument parsing; this
// module only renders to the streams it is given.
// Exit codes: 0 parsed; 1 a required key is missing or holds only placeholders; 2 the log cannot be
// read or an option is invalid.
import type { Num, TraceRecord } from './record.js';
import { StageFailure } from '../../src/stage-api/index.js';
import { parseTraceFile, parseTraceFileToSink, type TextSink } from './parse.js';

export interface ParseCommandArgs {
  log: string;
  prefixes: string[];
  require: string[];
  json: boolean;
  out: NodeJS.WritableStream;
  /** Where errors go; default: `out`. */
  err?: NodeJS.WritableStream;
}

function streamSink(out: NodeJS.WritableStream): TextSink {
  return {
    write: (text) =>
      new Promise<void>((resolveWrite, reject) => {
        out.write(text, (error) => (error ? reject(error) : resolveWrite()));
      }),
  };
}

function formatNum(v: Num | string): string {
  return typeof v === 'number' && Object.is(v, -0) ? '-0' : String(v);
}

/** The value column: numbers as printed back, a matrix by rows, parts and fields as label:value. */
export function formatRecordValue(r: TraceRecord): string {
  switch (r.kind) {
    case 'matrix': {
      const [rows, cols] = r.shape ?? [1, r.values?.length ?? 0];
      const values = r.values ?? [];
      const out: string[] = [];
      for (let i = 0; i < rows; i++) out.push(values.slice(i * cols, (i + 1) * cols).map(formatNum).join(' '));
      return `[${out.join('; ')}]`;
    }
    case 'parts':
      return (r.parts ?? []).map((p) => `${p.label}:${formatNum(p.value)}`).join(' ');
    case 'record':
      return Object.entries(r.fields ?? {})
        .map(([k, v]) => `${k}=${formatNum(v)}`)
        .join(' ');
    case 'string':
      return r.text ?? '';
    default:
      return (r.values ?? []).map(formatNum).join(' ');
  }
}

const MAX_VALUE_WIDTH = 120;

/** A compact table, one row per record: line, prefix, key, kind, values. */
export function formatRecordTable(records: TraceRecord[]): string {
  const rows = records.map((r) => {
    let value = formatRecordValue(r);
    if (value.length > MAX_VALUE_WIDTH) value = value.slice(0, MAX_VALUE_WIDTH - 1) + '…';
    return [String(r.line), r.prefix, r.key, r.kind, value];
  });
  const header = ['line', 'prefix', 'key', 'kind', 'values'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => (c === 4 ? 0 : row[c].length))));
  const render = (row: string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padStart(widths[c]) : c === 4 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)].join('\n') + '\n';
}

export async function parseCommand(args: ParseCommandArgs): Promise<number> {
  const err = args.err ?? args.out;
  const warnings: string[] = [];
  const opts = { prefix: args.prefixes.length ? args.prefixes : undefined, require: args.require, source: args.log, warn: (w: string) => warnings.push(w) };
  // Not into the JSON on `out`, whatever happens.
  const warnTo = args.err ?? (args.json ? undefined : args.out);
  const flushWarnings = async () => {
    if (warnTo) for (const w of warnings.splice(0)) await streamSink(warnTo).write(`warning: ${w}\n`);
  };
  try {
    if (args.json) {
      await parseTraceFileToSink(args.log, streamSink(args.out), opts);
    } else {
      const doc = await parseTraceFile(args.log, opts);
      const { lines, records, ignored } = doc.stats;
      const sink = streamSink(args.out);
      await sink.write(formatRecordTable(doc.records));
      await sink.write(`${records} records (${doc.prefixes.join(', ') || 'no prefix matched'}) from ${lines} lines, ${ignored} ignored\n`);
    }
    await flushWarnings();
    return 0;
  } catch (error) {
    await flushWarnings();
    const message = error instanceof Error ? error.message : String(error);
    await streamSink(err).write(`error: ${message}\n`);
    return error instanceof StageFailure ? 1 : 2;
  }
}
