// Atomic writes go through a temp file and a rename, except into a device, FIFO or socket, which a
// rename would replace with a regular file (as root, /dev/null itself). FIFOs stand in for devices
// here: any user can make one, and a test that broke the machine's /dev/null would break the suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitTemp, tempPathFor, writeFileAtomic, writeFileAtomicSync } from '../../src/fs/atomic-write.js';

let dir: string;
let n = 0;
const readers: ChildProcess[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-atomic-'));
});
afterAll(() => {
  // A reader of a FIFO that a failed write replaced by a file still waits for a writer.
  for (const r of readers) if (r.exitCode === null && r.signalCode === null) r.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A FIFO with a `cat` reading it into a file; `received()` waits for the reader and returns what it read. */
function fifoWithReader(): { fifo: string; received: () => Promise<string>; reader: ChildProcess } {
  const fifo = join(dir, `pipe${++n}`);
  const sink = join(dir, `sink${n}`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const out = openSync(sink, 'w');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', out, 'ignore'] });
  closeSync(out);
  readers.push(reader);
  const ended = new Promise<void>((resolve) => reader.on('exit', () => resolve()));
  return {
    fifo,
    reader,
    received: async () => {
      // A FIFO replaced by a file would leave cat waiting for a writer forever.
      const timer = setTimeout(() => reader.kill(), 5000);
      await ended;
      clearTimeout(timer);
      return readFileSync(sink, 'utf8');
    },
  };
}

describe('atomic writes into a FIFO (as into a device) write in place', () => {
  it('writeFileAtomicSync', async () => {
    const { fifo, received } = fifoWithReader();
    writeFileAtomicSync(fifo, 'sync bytes\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(await received()).toBe('sync bytes\n');
  });

  it('writeFileAtomic', async () => {
    const { fifo, received } = fifoWithReader();
    await writeFileAtomic(fifo, 'async bytes\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(await received()).toBe('async bytes\n');
  });

  it('a streamed temp file committed to it is copied in, and the temp file removed', async () => {
    const { fifo, received } = fifoWithReader();
    const tmp = tempPathFor(fifo);
    const big = 'x'.repeat(1 << 20) + '\n';
    writeFileSync(tmp, big);
    await commitTemp(tmp, fifo);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(await received()).toBe(big);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('everything else is still replaced through a rename', () => {
  it('a regular file gets a new inode, never a half-written one', () => {
    const file = join(dir, 'plain.json');
    writeFileSync(file, 'old');
    const before = statSync(file).ino;
    writeFileAtomicSync(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).ino).not.toBe(before);
  });

  it('a symlink to a FIFO is replaced by a file; the FIFO stays', () => {
    const fifo = join(dir, `pipe${++n}`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const link = join(dir, 'link.json');
    symlinkSync(fifo, link);
    writeFileAtomicSync(link, 'through the link\n');
    expect(lstatSync(link).isFile()).toBe(true);
    expect(readFileSync(link, 'utf8')).toBe('through the link\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});
