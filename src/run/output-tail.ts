// Live output of a running cmd stage, read back from the files its streams go to. The process
// keeps writing straight to file descriptors (no pumping through node, no pipe a grandchild could
// hold open); when someone asked to see the output, this follows those files as `tail -f` does, a
// few times a second, and hands on what was added, decoded as UTF-8 (a character split between
// two reads is kept for the next). Only started when the run wants output: a run nobody watches
// pays nothing.
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export interface TailedFile {
  stream: 'stdout' | 'stderr';
  /** The file being written while the process runs (the capture's temporary name). */
  writing: string;
  /** Where the same content is once the process ended (the capture renamed into place). */
  final: string;
}

export interface Tail {
  /** Reads what is left (the process has ended), hands it on, closes the files. */
  stop(): Promise<void>;
}

const POLL_MS = 100;
const CHUNK = 64 * 1024;

interface Follower {
  file: TailedFile;
  handle?: FileHandle;
  offset: number;
  decoder: StringDecoder;
}

export function tailFiles(files: TailedFile[], onText: (stream: 'stdout' | 'stderr', text: string) => void, pollMs = POLL_MS): Tail {
  const followers: Follower[] = files.map((file) => ({ file, offset: 0, decoder: new StringDecoder('utf8') }));
  const buf = Buffer.alloc(CHUNK);

  const drain = async (f: Follower, ended: boolean): Promise<void> => {
    if (!f.handle) {
      // Until the capture exists there is nothing to read; once the process ended it has its final
      // name (never read that one earlier: it may still hold the previous run's output).
      try {
        f.handle = await open(ended ? f.file.final : f.file.writing, 'r');
      } catch {
        if (!ended) return;
        try {
          f.handle = await open(f.file.writing, 'r');
        } catch {
          return;
        }
      }
    }
    for (;;) {
      const { bytesRead } = await f.handle.read(buf, 0, CHUNK, f.offset);
      if (bytesRead === 0) break;
      f.offset += bytesRead;
      const text = f.decoder.write(buf.subarray(0, bytesRead));
      if (text) onText(f.file.stream, text);
    }
    if (ended) {
      const rest = f.decoder.end();
      if (rest) onText(f.file.stream, rest);
    }
  };
  const readAll = async (ended: boolean) => {
    for (const f of followers) await drain(f, ended);
  };
  // One read at a time, in order; a tick that finds one still reading (a burst of output) skips.
  let chain: Promise<void> = Promise.resolve();
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    chain = chain
      .then(() => readAll(false))
      .catch(() => undefined)
      .finally(() => (reading = false));
  }, pollMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      try {
        await (chain = chain.then(() => readAll(true)));
      } catch {
        // Output shown live is a convenience: the files themselves are the record.
      } finally {
        for (const f of followers) await f.handle?.close().catch(() => undefined);
      }
    },
  };
}
