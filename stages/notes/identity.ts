// What a notes section is about, so that a re-run with the same evidence appends nothing. Each
// section ends with a hidden marker (an HTML comment, invisible in rendered Markdown):
//   <!-- evidence:write-notes subject=notes identity=sha256:… -->
// naming its writer (write-notes or blocker), its subject (the write-notes stage, or the stage that
// failed) and the digest of its evidence (the comparison's bytes; the failure's stage, reason,
// message, command, exit and traceback). The marker lives in notes.md itself, not in .evidence/:
// it travels with the notes into a commit or a fresh clone, describes exactly the sections that
// are there (delete the last one by hand and it is written again), and needs no second file kept
// in step with the first.
//
// The rule: a writer looks back through the markers, newest first, across the sections of its own
// kind; it skips when the newest one with its subject carries the same identity. A section of the
// other kind stops the look-back: after a failure, the next comparison is recorded even when it
// equals the last one before the failure, and a failure that recurs after a successful comparison
// is recorded again. Several write-notes stages sharing one notes file do not re-append each other's.
import { createHash } from 'node:crypto';

export type NotesWriter = 'write-notes' | 'blocker';

export interface SectionIdentity {
  writer: NotesWriter;
  subject: string;
  /** `sha256:<hex>` of the evidence the section describes. */
  identity: string;
}

/** The marker that ends a section. */
export function identityMarker(id: SectionIdentity): string {
  // encodeURIComponent keeps a stage name from closing the comment or spanning lines.
  return `<!-- evidence:${id.writer} subject=${encodeURIComponent(id.subject)} identity=${id.identity} -->`;
}

/** sha256 of canonical JSON (sorted keys) or of bytes, as `sha256:<hex>`. */
export function digestOf(value: unknown): string {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(value)) hash.update(value);
  else hash.update(canonical(value));
  return `sha256:${hash.digest('hex')}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// Markers are ASCII: the notes are scanned as latin1, so any bytes around them (a hand-written
// section in another encoding) are no obstacle. Markers of write-notes 2 (no subject) are read too.
const MARKER = /^<!-- evidence:(write-notes|blocker)(?: subject=(\S+))? (?:identity=)?(sha256:[0-9a-f]{64}) -->\r?$/gm;

/** The markers in a notes file, oldest first. */
export function markersIn(notes: Buffer): Array<{ writer: NotesWriter; subject: string | null; identity: string }> {
  const text = notes.toString('latin1');
  const found: Array<{ writer: NotesWriter; subject: string | null; identity: string }> = [];
  for (const m of text.matchAll(MARKER)) {
    let subject: string | null = null;
    if (m[2] !== undefined) {
      try {
        subject = decodeURIComponent(m[2]);
      } catch {
        subject = null;
      }
    }
    found.push({ writer: m[1] as NotesWriter, subject, identity: m[3]! });
  }
  return found;
}

/** Whether the notes already end, for this writer and subject, with a section of this identity. */
export function alreadyRecorded(notes: Buffer, id: SectionIdentity): boolean {
  const markers = markersIn(notes);
  for (let i = markers.length - 1; i >= 0; i--) {
    const m = markers[i]!;
    if (m.writer !== id.writer) return false;
    if (m.subject === id.subject) return m.identity === id.identity;
  }
  return false;
}
