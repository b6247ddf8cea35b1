// An append-only file written line by line through one descriptor held open between appends:
// appendFileSync opens and closes the file on every call, three system calls where one does, and
// a run appends a few lines per stage. Each line still reaches the kernel before append returns
// (one write(2) on an O_APPEND descriptor), so a kill -9 loses none that were appended.
import { closeSync, openSync, writeSync } from 'node:fs';

export class AppendLog {
  private fd: number | undefined;

  constructor(readonly file: string) {}

  append(text: string): void {
    const bytes = Buffer.from(text);
    this.fd ??= openSync(this.file, 'a');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  /** Releases the descriptor: before the file is removed or replaced, and at the end of a run. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}
