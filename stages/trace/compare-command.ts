// The one-off command `evidence compare REF PORT [--tol R] [--abs A] [--alias P=R] [--ignore G]
// [--match-by F] [--prefix-ref P] [--prefix-port P] [--fail-on divergent|critical|never] [--json]`:
// compares two traces outside any pipeline and prints the same findings-first summary as the
// summarize stage. REF and PORT may each be a raw log (parsed with the trace parser; default
// prefixes: every TRACE_* family) or a trace document (JSON, validated against
// schemas/trace.schema.json). The CLI (src/cli) owns argument parsing; this module only renders to
// the streams it is given.
// Exit codes: 0 the comparison was made (whatever it found: divergence is a result, not an error);
// 4 `--fail-on` was met (judged, as in a pipeline, on the items beyond round-off; the output is
// complete); 2 an input cannot be read or parsed, or is a malformed trace document.
import { open } from 'node:fs/promises';
import { compareTraces, type CompareOptions, type FailOn } from './compare.js';
import { comparisonJsonPieces } from '../compare-traces.js';
import { parseTraceFileColumns } from './parse.js';
import type { TraceColumns } from './columns.js';
import { readTraceFile } from './trace-json.js';
import { readTracePair } from './trace-pair.js';
import { renderSummary } from './summary.js';

export interface CompareCommandArgs {
  ref: string;
  port: string;
  /** Relative tolerance (default 1e-6). */
  tol?: number;
  /** Absolute tolerance (default 0). */
  abs?: number;
  /** Exit 4 when the comparison meets it (default never). */
  failOn?: FailOn;
  aliases: Record<string, string>;
  ignore: string[];
  matchBy?: string;
  json: boolean;
  prefixRef?: string[];
  prefixPort?: string[];
  out: NodeJS.WritableStream;
  /** Where errors go; default: `out`. */
  err?: NodeJS.WritableStream;
}

/** The exit code of a met gate, as `evidence run` uses for a compare stage's fail_on. */
const GATE_EXIT = 4;

function write(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((res, rej) => out.write(text, (e) => (e ? rej(e) : res())));
}

/** True when the file starts (after blanks) with '{': a JSON document rather than a log. */
async function looksLikeJson(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{');
  } finally {
    await fh.close();
  }
}

/** A trace from a trace JSON file or a raw log. */
export async function loadTrace(path: string, prefixes: string[] | undefined, warn?: (message: string) => void): Promise<TraceColumns> {
  if (await looksLikeJson(path)) return readTraceFile(path);
  return parseTraceFileColumns(path, { prefix: prefixes && prefixes.length ? prefixes : undefined, source: path, warn });
}

export async function compareCommand(args: CompareCommandArgs): Promise<number> {
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  try {
    const [reference, port] =
      (await looksLikeJson(args.ref)) && (await looksLikeJson(args.port))
        ? await readTracePair(args.ref, args.port)
        : await Promise.all([loadTrace(args.ref, args.prefixRef, warn), loadTrace(args.port, args.prefixPort, warn)]);
    const tolerance = { ...(args.tol !== undefined ? { rel: args.tol } : {}), ...(args.abs !== undefined ? { abs: args.abs } : {}) };
    const options: CompareOptions = {
      ...(Object.keys(tolerance).length ? { tolerance } : {}),
      ...(args.failOn ? { failOn: args.failOn } : {}),
      aliases: args.aliases,
      ignore: args.ignore,
      ...(args.matchBy ? { matchBy: args.matchBy } : {}),
    };
    const comparison = compareTraces(reference, port, options);
    // Not into the JSON on `out`, whatever happens.
    const warnTo = args.err ?? (args.json ? undefined : args.out);
    if (warnTo) for (const w of warnings) await write(warnTo, `warning: ${w}\n`);
    if (args.json) {
      for (const piece of comparisonJsonPieces(comparison)) await write(args.out, piece);
    } else {
      await write(args.out, renderSummary(comparison, { title: `${args.ref} vs ${args.port}` }));
    }
    return comparison.failed ? GATE_EXIT : 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await write(args.err ?? args.out, `error: ${message}\n`);
    return 2;
  }
}
