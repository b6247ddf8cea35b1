// Writes that never leave a half-written file under the final name: write a temp file in the same
// folder (same file system, so rename is atomic), then rename over the target. No fsync: the
// guarantee we need is against a killed process (kill -9, Ctrl-C), which rename gives; an OS crash
// can at worst lose a cache entry or the lock, which only makes stages run again. Measured: an
// fsync per stage tripled the runner's overhead on a 7-stage pipeline here.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, basename, join } from 'node:path';

// Every command imports this module (through the stage API), most never write: node's crypto and
// fs/promises load on the first write instead (measured ~8 ms of a `validate` start).
const require = createRequire(import.meta.url);
const fsp = () => require('node:fs/promises') as typeof import('node:fs/promises');

// Unique within this process by the counter, and across processes by the pid; the random start
// keeps a later process with a recycled pid off a temp name a killed one left. Drawing 4 random
// bytes per write instead cost ~50 µs each, on every stage's bookkeeping.
let tempCounter: number | undefined;

function tempNameFor(target: string): string {
  if (tempCounter === undefined) {
    const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
    tempCounter = randomBytes(4).readUInt32BE(0);
  }
  tempCounter = (tempCounter + 1) >>> 0;
  return join(dirname(target), `.${basename(target)}.${process.pid}.${tempCounter.toString(16).padStart(8, '0')}.tmp`);
}

/** Suffix of a stream capture while its process still runs (renamed into place when it ends). */
export const PARTIAL_SUFFIX = '.evidence-partial';

const TEMP_NAME = /^\..+\.[0-9]+\.[0-9a-f]{8}\.tmp$/;

/**
 * True for a file name that only a runner writes in passing: a temp file of an atomic write or a
 * stream capture in progress. A run killed at the wrong moment leaves them behind; they are never
 * content (not hashed into folder outs or deps, not reported as undeclared writes).
 */
export function isRunnerTempName(name: string): boolean {
  return name.endsWith(PARTIAL_SUFFIX) || TEMP_NAME.test(name);
}

/**
 * True when `target` is a device, a FIFO or a socket. A rename over one replaces it with a regular
 * file: run as root, a parse "into /dev/null" through temp-and-rename turned this machine's
 * /dev/null into a file that every later `> /dev/null` appended to, and that every reader of
 * /dev/null then read back. Such a target is written in place: it holds no content to tear.
 * (A symlink to one is replaced, as any symlink target of a rename is; the device stays.)
 */
function isSpecialFile(target: string): boolean {
  try {
    const st = lstatSync(target);
    return st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const { open, mkdir, rename, rm, writeFile } = fsp();
  if (isSpecialFile(target)) return writeFile(target, data);
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempNameFor(target);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  writeAtomic(target, data, false);
}

/**
 * writeFileAtomicSync, returning what identifies the content written for as long as nobody
 * writes the file again: device, inode, size and modification time, taken from the descriptor
 * written (a rename keeps them), so that another writer coming in after the rename cannot lend
 * its own file's identity to this content.
 */
export function writeFileAtomicSyncSigned(target: string, data: string | Uint8Array): string {
  return writeAtomic(target, data, true)!;
}

/** What names a file's current content without reading it (see writeFileAtomicSyncSigned); undefined when missing. */
export function fileSignature(file: string): string | undefined {
  try {
    return signatureOf(statSync(file, { bigint: true }));
  } catch {
    return undefined;
  }
}

function signatureOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

function writeAtomic(target: string, data: string | Uint8Array, signed: boolean): string | undefined {
  if (isSpecialFile(target)) {
    writeFileSync(target, data);
    return signed ? fileSignature(target) : undefined;
  }
  const tmp = tempNameFor(target);
  const fd = inFolderOf(target, () => openSync(tmp, 'w'));
  let signature: string | undefined;
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      if (signed) signature = signatureOf(fstatSync(fd, { bigint: true }));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return signature;
}

/**
 * Runs a write of a file into the folder of `file`, making the folder only when the write finds it
 * missing: one failed call on the first write into a folder, instead of a mkdir before every write
 * (most go where one was; a cold run writes a few files per stage).
 */
export function inFolderOf<T>(file: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(file), { recursive: true });
    return write();
  }
}

/** A temp path next to `target` for streaming writers; call `commitTemp` to move it into place. */
export function tempPathFor(target: string): string {
  return tempNameFor(target);
}

/** Moves a streamed temp file into place; into a device or FIFO (see isSpecialFile) its bytes are copied, and the temp file removed. */
export async function commitTemp(tmp: string, target: string): Promise<void> {
  if (!isSpecialFile(target)) return fsp().rename(tmp, target);
  const { createReadStream, createWriteStream } = require('node:fs') as typeof import('node:fs');
  const { pipeline } = require('node:stream/promises') as typeof import('node:stream/promises');
  await pipeline(createReadStream(tmp), createWriteStream(target));
  await fsp().rm(tmp, { force: true });
}
