// Appending a section to a notes file (write-notes and the blocker both do): the existing bytes
// are read and kept byte for byte, the section follows after one blank line, and the whole is
// written to a temporary file renamed into place, so a crash leaves the old file intact.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../src/stage-api/index.js';

/** `existing` followed by `section`, separated by one blank line; `existing` is kept byte for byte. */
export function appendSection(existing: Buffer, section: string): Buffer {
  let sep = '';
  if (existing.length > 0) {
    const endsWithNewline = existing[existing.length - 1] === 0x0a;
    const endsWithBlank = endsWithNewline && existing.length >= 2 && existing[existing.length - 2] === 0x0a;
    sep = endsWithBlank ? '' : endsWithNewline ? '\n' : '\n\n';
  }
  return Buffer.concat([existing, Buffer.from(sep + section, 'utf8')]);
}

/** Appends `section` to the notes file (created when missing); returns how many bytes were kept. */
export async function appendToNotes(file: string, section: string): Promise<number> {
  const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  });
  await writeFileAtomic(file, appendSection(existing, section));
  return existing.length;
}
