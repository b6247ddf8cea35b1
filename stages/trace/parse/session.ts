// One parse from start to end, wherever its bytes come from: the options, a scanner wired to its
// prefixes, its `require` tracker and an emitter, and the summary at the end; and the two entry
// points for text already in memory. Reading files and writing JSON belong to stream.ts.
import type { TraceDocument, TraceRecord } from '../record.js';
import { PrefixTable } from './prefixes.js';
import { shapeToRecord } from './records.js';
import { RequireTracker } from './require.js';
import { TraceScanner } from './scanner.js';
import { MAX_LINE, type Emit } from './shape.js';

export interface ParseTraceOptions {
  /** Prefix or prefixes to keep; default: every `TRACE_[A-Z0-9_]+` prefix (see stages/trace/parse.ts). */
  prefix?: string | string[];
  /** Keys that must occur with at least one real value (not NaN, N/A, None, NOT_EXTRACTED, ...). */
  require?: string[];
  /** Recorded as the document's `source`; default: the path (or '<text>' for in-memory text). */
  source?: string;
  /** Called at the end for recoverable oddities (over-long lines, a record naming a field twice). */
  warn?: (message: string) => void;
  signal?: AbortSignal;
}

/** A TraceDocument without its records: what a streaming parse returns. */
export type TraceSummary = Omit<TraceDocument, 'records'>;

export interface Session {
  scanner: TraceScanner;
  req: RequireTracker | undefined;
}

export function startSession(opts: ParseTraceOptions, emit: Emit): Session {
  const req = opts.require?.length ? new RequireTracker(opts.require) : undefined;
  return { scanner: new TraceScanner(new PrefixTable(opts.prefix), req, emit), req };
}

/** The summary of a finished scan; checks `require` unless told it will be checked later. */
export function finishSession(sess: Session, source: string, bytes: number, opts: ParseTraceOptions, checkRequire = true): TraceSummary {
  const { scanner } = sess;
  if (scanner.longLines > 0) {
    opts.warn?.(`${source}: ignored ${scanner.longLines} line(s) longer than ${MAX_LINE} bytes`);
  }
  if (scanner.firstMerged) {
    const { line, name } = scanner.firstMerged;
    const more = scanner.mergedLines > 1 ? ` (and ${scanner.mergedLines - 1} more record line${scanner.mergedLines > 2 ? 's' : ''} name a field twice)` : '';
    opts.warn?.(`${source}:${line}: field ${JSON.stringify(name)} is given twice in one record; only its last value is kept${more}`);
  }
  const prefixes = scanner.prefixes.seen.slice();
  if (checkRequire) sess.req?.check(source, prefixes);
  return {
    format: 'evidence-trace/1',
    source,
    prefixes,
    stats: { lines: scanner.lines, records: scanner.records, ignored: scanner.lines - scanner.records, bytes },
  };
}

export function withRecords(summary: TraceSummary, records: TraceRecord[]): TraceDocument {
  return { format: summary.format, source: summary.source, prefixes: summary.prefixes, records, stats: summary.stats };
}

/** Parses lines held in memory; each item is one line (no newline). `stats.bytes` counts a newline per line. */
export function parseTraceLines(lines: Iterable<string>, opts: ParseTraceOptions = {}): TraceDocument {
  const records: TraceRecord[] = [];
  const sess = startSession(opts, (sh, seq, line) => records.push(shapeToRecord(sh, seq, line)));
  let bytes = 0;
  for (const line of lines) {
    const b = Buffer.from(line, 'utf8');
    bytes += b.length + 1;
    sess.scanner.scanOne(b, 0, b.length);
  }
  return withRecords(finishSession(sess, opts.source ?? '<text>', bytes, opts), records);
}

/** Parses a whole log held in memory. */
export function parseTraceText(text: string, opts: ParseTraceOptions = {}): TraceDocument {
  const records: TraceRecord[] = [];
  const sess = startSession(opts, (sh, seq, line) => records.push(shapeToRecord(sh, seq, line)));
  const b = Buffer.from(text, 'utf8');
  sess.scanner.scanBytes(b, 0, b.length);
  return withRecords(finishSession(sess, opts.source ?? '<text>', b.length, opts), records);
}
