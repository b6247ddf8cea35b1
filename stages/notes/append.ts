// Appending a section to a notes file (write-notes and the blocker both do): the existing bytes
// are read and kept byte for byte, the section follows after one blank line, and the whole is
// written to a temporary file renamed into place, so a crash leaves the old file intact. A
// section that carries an identity (identity.ts) is not appended when the notes already end with
// one of the same evidence: the file is then left as it is, only its mtime renewed (the runner
// takes an out older than the run for one the stage did not write).
import { readFile, utimes } from 'node:fs/promises';
import { writeFileAtomic } from '../../src/stage-api/index.js';
import { alreadyRecorded, identityMarker, type SectionIdentity } from './identity.js';

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

export interface AppendResult {
  /** False when the notes already ended with a section of the same identity. */
  appended: boolean;
  /** Bytes of the file before (all kept). */
  kept: number;
}

/**
 * Appends `section` to the notes file (created when missing). With `id`, the section gets its
 * marker as last line, and nothing is appended when the notes already hold it as their latest.
 */
export async function appendToNotes(file: string, section: string, id?: SectionIdentity): Promise<AppendResult> {
  const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  });
  if (id && alreadyRecorded(existing, id)) {
    const now = new Date();
    await utimes(file, now, now);
    return { appended: false, kept: existing.length };
  }
  const text = id ? `${section.replace(/\n+$/, '')}\n\n${identityMarker(id)}\n` : section;
  await writeFileAtomic(file, appendSection(existing, text));
  return { appended: true, kept: existing.length };
}
