// Parsing log files: reading a file in buffers cut at newlines while the scanner works on the
// previous one, and the file entry points, into memory or streamed as JSON to a sink or to a file
// committed only when the parse succeeded. Knows files, sinks and the document's outer JSON; the
// lines and the record bytes are the scanner's and the writer's.
import { open, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { commitTemp, tempPathFor } from '../../../src/stage-api/index.js';
import type { TraceDocument, TraceRecord } from '../record.js';
import type { TraceColumns } from '../columns.js';
import { ColumnsEmitter } from './columns.js';
import { RecordJsonWriter } from './json-writer.js';
import { shapeToRecord } from './records.js';
import type { TraceScanner } from './scanner.js';
import { finishSession, startSession, withRecords, type ParseTraceOptions, type TraceSummary } from './session.js';
import { NL } from './shape.js';

const CHUNK_BYTES = 2 << 20;

/**
 * Reads `path` in buffers cut at newlines and scans each; `afterChunk` runs between buffers (the
 * streaming writer flushes there). Returns the byte count. The next buffer is read while this one
 * is scanned (two buffers, the unfinished last line carried into the other): 138 against 148 MB/s
 * when the scanner waited for each read. 2 MiB reads ran as fast as 4 MiB and took 10 MB less
 * memory; they must hold a line of MAX_LINE bytes.
 */
async function scanFile(
  path: string,
  scanner: TraceScanner,
  signal: AbortSignal | undefined,
  afterChunk: () => Promise<void>,
  buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)],
): Promise<number> {
  const fh = await open(path, 'r');
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    let [buf, other] = buffers;
    let carry = 0;
    let skipping = false; // inside a line longer than the buffer
    let bytes = 0;
    pending = fh.read(buf, 0, buf.length, null);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await pending;
      pending = undefined;
      bytes += bytesRead;
      const filled = carry + bytesRead;
      if (bytesRead === 0) {
        if (skipping) scanner.skipLongLine();
        else if (filled > 0) scanner.scanBytes(buf, 0, filled);
        await afterChunk();
        return bytes;
      }
      let from = 0;
      if (skipping) {
        const nl = buf.indexOf(NL);
        if (nl < 0 || nl >= filled) {
          carry = 0;
          pending = fh.read(buf, 0, buf.length, null);
          continue;
        }
        skipping = false;
        scanner.skipLongLine();
        from = nl + 1;
      }
      const last = buf.lastIndexOf(NL, filled - 1);
      if (last < from) {
        if (from > 0) {
          buf.copy(buf, 0, from, filled);
          carry = filled - from;
        } else if (filled === buf.length) {
          skipping = true;
          carry = 0;
        } else {
          carry = filled;
        }
        pending = fh.read(buf, carry, buf.length - carry, null);
        continue;
      }
      buf.copy(other, 0, last + 1, filled);
      carry = filled - (last + 1);
      pending = fh.read(other, carry, other.length - carry, null);
      scanner.scanBytes(buf, from, last + 1);
      await afterChunk();
      [buf, other] = [other, buf];
    }
  } finally {
    await pending?.catch(() => {});
    await fh.close();
  }
}

/** Parses a log file into an in-memory document (for small logs, tests and the one-off command). */
export async function parseTraceFile(path: string, opts: ParseTraceOptions = {}): Promise<TraceDocument> {
  const records: TraceRecord[] = [];
  const sess = startSession(opts, (sh, seq, line) => records.push(shapeToRecord(sh, seq, line)));
  const bytes = await scanFile(path, sess.scanner, opts.signal, async () => {});
  return withRecords(finishSession(sess, opts.source ?? path, bytes, opts), records);
}

/** Parses a log file straight into columns: no object per record (compare's one-off command). */
export async function parseTraceFileColumns(path: string, opts: ParseTraceOptions = {}): Promise<TraceColumns> {
  const out = new ColumnsEmitter();
  const sess = startSession(opts, out.emit);
  const bytes = await scanFile(path, sess.scanner, opts.signal, async () => {});
  const summary = finishSession(sess, opts.source ?? path, bytes, opts);
  return out.finish({ source: summary.source, prefixes: summary.prefixes, stats: summary.stats });
}

/** Anything that takes output in order: a file handle, a process stream (see parse-command). */
export interface TextSink {
  /** Must be done with `data` when the promise settles (the parser then reuses the buffer). */
  write(data: string | Uint8Array): Promise<void>;
}

/**
 * Streams the document of `path` as JSON into `sink` (records first, then prefixes and stats, which
 * are known only at the end). When a required key is unmet it throws StageFailure('require') after
 * writing the complete document; a caller writing a file must then discard it.
 * One write is in flight while the next buffer is parsed, so output I/O overlaps the scanning.
 */
export async function parseTraceFileToSink(path: string, sink: TextSink, opts: ParseTraceOptions = {}): Promise<TraceSummary> {
  const source = opts.source ?? path;
  const writer = new RecordJsonWriter(CHUNK_BYTES);
  const sess = startSession(opts, writer.emit);
  await sink.write(`{"format":"evidence-trace/1","source":${JSON.stringify(source)},"records":[\n`);
  let inFlight: Promise<void> | undefined;
  const bytes = await scanFile(path, sess.scanner, opts.signal, async () => {
    if (inFlight) await inFlight;
    inFlight = undefined;
    if (writer.pos === 0) return;
    const data = writer.take();
    inFlight = sink.write(data).then(() => writer.recycle());
  }, writer.inputs);
  if (inFlight) await inFlight;
  const summary = finishSession(sess, source, bytes, opts, false);
  await sink.write(`\n],"prefixes":${JSON.stringify(summary.prefixes)},"stats":${JSON.stringify(summary.stats)}}\n`);
  sess.req?.check(source, summary.prefixes);
  return summary;
}

/**
 * Parses `path` into the JSON document `outPath` with bounded memory: records are streamed to a
 * temporary file next to it, renamed into place only when the parse (and `require`) succeeded.
 * Not synced, as no artifact the runner writes is (src/fs/atomic-write.ts): a file torn by a
 * power cut no longer has its recorded hash, and its stage runs again. Syncing as it went (a
 * datasync every 32 MB) tied the parse to the disk's pace: a third slower while other processes
 * kept the disk busy (bench/parse.mjs).
 */
export async function parseTraceFileTo(path: string, outPath: string, opts: ParseTraceOptions = {}): Promise<TraceSummary> {
  await mkdir(dirname(outPath), { recursive: true });
  const tmp = tempPathFor(outPath);
  const fh = await open(tmp, 'w');
  let closed = false;
  try {
    const write = async (data: string | Uint8Array): Promise<void> => {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off, null)).bytesWritten;
    };
    const summary = await parseTraceFileToSink(path, { write }, opts);
    await fh.close();
    closed = true;
    await commitTemp(tmp, outPath);
    return summary;
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}
