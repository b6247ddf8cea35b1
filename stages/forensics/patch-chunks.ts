// Cutting `git diff --binary` output into one piece per file and choosing the pieces that fit the
// blocker patch's limits: a file whose own diff is above the per-file limit is left out, then the
// rest fill the total cap, changes to tracked files before new files (the edit that broke the run
// matters more than a new file beside it). The output is read as bytes, in blocks, so a diff of a
// huge file never has to fit in memory: only pieces that can still be kept are held.
import { open } from 'node:fs/promises';

export interface PatchPiece {
  /** Repository-relative path, as in the `diff --git` line. */
  path: string;
  /** Bytes of this file's part of the diff (a type change is two parts: both counted). */
  bytes: number;
  /** The part's bytes; absent when it was bigger than the limit it was read with. */
  text?: Buffer;
  /** The file is new (not in the base tree). */
  added: boolean;
  binary: boolean;
}

export interface PieceChoice {
  kept: PatchPiece[];
  /** Left out, with why: above the per-file limit, or past the total cap. */
  omitted: Array<{ piece: PatchPiece; reason: 'file-limit' | 'total-cap' }>;
}

const MARK = Buffer.from('\ndiff --git ');
/** Enough of a part's start to read its header lines (mode, index, binary) when its body is dropped. */
const HEAD_BYTES = 4096;
const BLOCK = 1 << 20;

/** Undoes git's C-style quoting of a path (`"a/tab\there"`); `text` starts after the opening quote. */
function unquote(text: string): { value: string; end: number } {
  const bytes: number[] = [];
  let i = 0;
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  while (i < text.length && text[i] !== '"') {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      if (/[0-7]/.test(next)) {
        bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
        i += 4;
        continue;
      }
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 2;
      continue;
    }
    bytes.push(...Buffer.from(c, 'utf8'));
    i++;
  }
  return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 };
}

/**
 * The path of a `diff --git a/P b/P` line. Without renames both sides name the same path, so an
 * unquoted line splits in the middle even when P holds spaces.
 */
export function pathOfDiffLine(line: string): string {
  const rest = line.replace(/^diff --git /, '');
  if (rest.startsWith('"')) return unquote(rest.slice(1)).value.replace(/^a\//, '');
  const len = (rest.length - 5) / 2;
  return Number.isInteger(len) && len > 0 ? rest.slice(2, 2 + len) : rest.replace(/^a\//, '').split(' b/')[0]!;
}

function describe(head: Buffer, bytes: number, text: Buffer | undefined): PatchPiece {
  const headText = head.toString('utf8');
  const firstLine = headText.slice(0, headText.indexOf('\n') === -1 ? undefined : headText.indexOf('\n'));
  // Header lines end where the body starts: a hunk, the ---/+++ pair or a binary body.
  const header = headText.split(/\n(?:@@|--- |GIT binary patch|Binary files )/)[0]!;
  return {
    path: pathOfDiffLine(firstLine),
    bytes,
    ...(text ? { text } : {}),
    added: /\nnew file mode /.test(header),
    binary: /\n(?:GIT binary patch|Binary files )/.test(headText),
  };
}

/**
 * Reads a file of `git diff` output and returns its parts, one per `diff --git` header, each
 * holding its bytes when it is at most `keepBytes` long. A type change (two parts for one path)
 * comes back as one piece. `blockBytes`: how much is read at a time (small in tests, so that a
 * header falls across every block boundary).
 */
export async function readPatchPieces(file: string, keepBytes: number, blockBytes = BLOCK): Promise<PatchPiece[]> {
  const pieces: PatchPiece[] = [];
  let parts: Buffer[] = [];
  let head = Buffer.alloc(0);
  let size = 0;
  let started = false;
  const push = (data: Buffer) => {
    if (data.length === 0) return;
    started = true;
    size += data.length;
    if (head.length < HEAD_BYTES) head = Buffer.concat([head, data.subarray(0, HEAD_BYTES - head.length)]);
    if (size <= keepBytes) parts.push(data);
    else parts = [];
  };
  const finish = () => {
    if (!started) return;
    const piece = describe(head, size, size <= keepBytes ? Buffer.concat(parts) : undefined);
    const last = pieces.at(-1);
    if (last && last.path === piece.path) {
      const bytes = last.bytes + piece.bytes;
      const text = last.text && piece.text && bytes <= keepBytes ? Buffer.concat([last.text, piece.text]) : undefined;
      pieces[pieces.length - 1] = { path: last.path, bytes, ...(text ? { text } : {}), added: last.added && piece.added, binary: last.binary || piece.binary };
    } else pieces.push(piece);
    parts = [];
    head = Buffer.alloc(0);
    size = 0;
    started = false;
  };

  const fh = await open(file, 'r');
  try {
    // `carry` holds the last bytes of a block, which may begin a marker that the next block ends.
    let carry = Buffer.alloc(0);
    const block = Buffer.alloc(blockBytes);
    for (;;) {
      const { bytesRead } = await fh.read(block, 0, blockBytes, null);
      const window = Buffer.concat([carry, block.subarray(0, bytesRead)]);
      const eof = bytesRead === 0;
      let from = 0;
      for (;;) {
        const at = window.indexOf(MARK, from);
        if (at === -1) break;
        push(window.subarray(from, at + 1));
        finish();
        from = at + 1;
      }
      const keepTail = eof ? 0 : Math.min(MARK.length - 1, window.length - from);
      push(Buffer.from(window.subarray(from, window.length - keepTail)));
      carry = Buffer.from(window.subarray(window.length - keepTail));
      if (eof) break;
    }
    finish();
  } finally {
    await fh.close();
  }
  return pieces;
}

/**
 * Which pieces go into the patch: none above `fileBytes`; then, within `totalBytes`, changes to
 * tracked files first and new files after, each in git's path order, a piece that does not fit
 * being skipped for smaller ones after it. The kept pieces stay in git's order.
 */
export function choosePieces(pieces: PatchPiece[], limits: { fileBytes: number; totalBytes: number }): PieceChoice {
  const omitted: PieceChoice['omitted'] = [];
  const fitting: PatchPiece[] = [];
  for (const piece of pieces) {
    if (piece.bytes > limits.fileBytes || !piece.text) omitted.push({ piece, reason: 'file-limit' });
    else fitting.push(piece);
  }
  const chosen = new Set<PatchPiece>();
  let total = 0;
  for (const piece of [...fitting.filter((p) => !p.added), ...fitting.filter((p) => p.added)]) {
    if (total + piece.bytes > limits.totalBytes) {
      omitted.push({ piece, reason: 'total-cap' });
      continue;
    }
    chosen.add(piece);
    total += piece.bytes;
  }
  omitted.sort((a, b) => (a.piece.path < b.piece.path ? -1 : a.piece.path > b.piece.path ? 1 : 0));
  return { kept: fitting.filter((p) => chosen.has(p)), omitted };
}
