// The source change behind a failure, as one patch that `git apply` reproduces on a clean checkout:
// the working tree's changes against HEAD (tracked edits and deletions, untracked files git does
// not ignore, binary files included), without what a run makes. Left out by rule: every stage's
// declared outs, evidence.lock, .evidence/, the blocker's own files (and those of earlier
// failures), files git ignores; by size: a new file above the per-file limit (kept from git before
// it hashes it), any file whose own part of the diff is above that limit, and what does not fit
// the total cap. Each one left out by size is
// named in the patch's header and in the result. The user's index is never touched: a temporary
// index (GIT_INDEX_FILE) takes `git add -A`, and the patch is `git diff --cached --binary` of that
// index against HEAD. Outs and files too big are kept out of `git add` too, so the run never
// writes a build product's blob into the repository.
import { cpSync, lstatSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../src/stage-api/index.js';
import { choosePieces, readPatchPieces, type PieceChoice } from './patch-chunks.js';

export interface PatchLimits {
  /** Largest part of the patch one file may take (and largest new or binary file considered). */
  fileBytes: number;
  /** Largest patch. */
  totalBytes: number;
}

export const DEFAULT_PATCH_LIMITS: PatchLimits = { fileBytes: 256 << 10, totalBytes: 1 << 20 };

export interface PatchOptions {
  /** Project-relative files or folders that a run makes: every stage's outs, evidence.lock, .evidence. */
  products: string[];
  /** Project-relative files the blocker writes now (its log, patch, record and notes). */
  artifacts: string[];
  /** Basename globs of blocker files left by earlier failures anywhere in the project. */
  artifactGlobs: string[];
  limits: PatchLimits;
}

export interface OmittedFile {
  /** Repository-relative, as a path in the patch would be. */
  path: string;
  /** The file's size (a new or binary file judged before diffing) or its part of the diff. */
  bytes: number;
  binary: boolean;
  reason: 'file-limit' | 'total-cap';
}

export interface PatchResult {
  /** Whether the project is inside a git work tree. */
  repo: boolean;
  /** HEAD's commit, null without a repository or before the first commit. */
  sha: string | null;
  /** Absolute path of the written patch; absent when none could be made. */
  patch?: string;
  /** True when no source file differs from HEAD (the patch holds only its header). */
  empty?: boolean;
  /** Repository-relative paths the patch changes, in its order. */
  files?: string[];
  /** The patch's size, header included. */
  bytes?: number;
  /** Files left out by the limits. */
  omitted?: OmittedFile[];
  /** Why there is no patch, or anything odd about it. */
  note?: string;
}

interface GitResult {
  ok: boolean;
  stdout: string;
  /** git's own complaint, else execa's account of the failure (it names the command). */
  error: string;
}

/**
 * Runs git with stdin closed (`git mktree` reads it, and would wait for ever on an open pipe).
 * With `toFile`, stdout goes into that file byte for byte (a diff can be large and binary).
 */
async function git(args: string[], cwd: string, env: Record<string, string> = {}, toFile?: string): Promise<GitResult> {
  const { execa } = await import('execa');
  const r = await execa('git', args, {
    cwd,
    env: { GIT_OPTIONAL_LOCKS: '0', ...env },
    stdin: 'ignore',
    stdout: toFile ? { file: toFile } : 'pipe',
    stripFinalNewline: false,
    maxBuffer: 256 << 20,
    reject: false,
  });
  return { ok: !r.failed, stdout: typeof r.stdout === 'string' ? r.stdout : '', error: r.failed ? r.stderr.trim() || (r.shortMessage ?? r.escapedCommand) : '' };
}

const posix = (p: string) => p.split('\\').join('/');
const literal = (topRel: string) => `:(top,exclude,literal)${topRel}`;

function kb(bytes: number): string {
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return bytes < 10 << 10 ? `${(bytes / 1024).toFixed(1)} KB` : `${Math.round(bytes / 1024)} KB`;
}

/** Why a file is not in the patch, in words (the header, the record's note). */
export function omissionText(o: OmittedFile, limits: PatchLimits): string {
  const what = o.binary ? 'binary, ' : '';
  return o.reason === 'file-limit'
    ? `${what}${kb(o.bytes)}: above the ${kb(limits.fileBytes)} limit per file`
    : `${what}${kb(o.bytes)}: past the patch's cap of ${kb(limits.totalBytes)}`;
}

function header(sha: string | null, choice: { files: string[]; omitted: OmittedFile[] }, limits: PatchLimits): string {
  const lines = [
    `# evidence blocker patch: the source changes against ${sha ?? 'the empty tree (no commit yet)'}; \`git apply\` on a clean checkout reproduces them.`,
    '# Left out by rule: every stage\'s outs (listed with their hashes in blocker.json), evidence.lock, .evidence/,',
    '# the blocker\'s own files, and files git ignores.',
    `# Limits: ${kb(limits.fileBytes)} per file, ${kb(limits.totalBytes)} in all. ${choice.files.length} file${choice.files.length === 1 ? '' : 's'} in this patch${choice.omitted.length ? `, ${choice.omitted.length} left out by size:` : '.'}`,
    // JSON quoting keeps a path with a newline from starting a line git would read as a diff.
    ...choice.omitted.map((o) => `#   ${JSON.stringify(o.path)} (${omissionText(o, limits)})`),
    '',
  ];
  return lines.join('\n');
}

/** Untracked files (not ignored) larger than `limit`, repository-relative: kept out before hashing. */
async function bigUntracked(topLevel: string, excludes: string[], limit: number): Promise<OmittedFile[]> {
  const r = await git(['ls-files', '--others', '--exclude-standard', '-z', '--', ':/', ...excludes], topLevel);
  if (!r.ok) return [];
  const big: OmittedFile[] = [];
  for (const path of r.stdout.split('\0').filter(Boolean)) {
    try {
      const st = lstatSync(join(topLevel, path));
      if (st.isFile() && st.size > limit) big.push({ path, bytes: st.size, binary: false, reason: 'file-limit' });
    } catch {
      // Gone since git listed it: nothing to leave out.
    }
  }
  return big;
}

/** Writes the patch to `patchFile` (atomically). */
export async function writeWorkingTreePatch(root: string, patchFile: string, opts: PatchOptions): Promise<PatchResult> {
  const top = await git(['rev-parse', '--show-toplevel'], root);
  if (!top.ok) return { repo: false, sha: null, note: 'not a git repository: no patch was made' };
  const topLevel = top.stdout.trim();
  const head = await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], root);
  const sha = head.ok ? head.stdout.trim() : null;
  // Before the first commit the base is the empty tree (whose id depends on the hash function).
  const base = sha ?? (await git(['mktree'], root)).stdout.trim();

  // Pathspecs are repository-relative; the project may be a folder inside the repository.
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    // Judged as given.
  }
  const prefix = posix(relative(topLevel, realRoot));
  const fromProject = (p: string) => (prefix ? `${prefix}/${p}` : p);
  const excludes = [
    ...[...opts.products, ...opts.artifacts].map((p) => literal(fromProject(p))),
    ...opts.artifactGlobs.map((g) => `:(top,exclude,glob)${prefix ? `${prefix}/` : ''}**/${g}`),
  ];
  const tooBig = await bigUntracked(topLevel, excludes, opts.limits.fileBytes);
  const allExcludes = [...excludes, ...tooBig.map((o) => literal(o.path))];

  const scratch = mkdtempSync(join(tmpdir(), 'evidence-blocker-'));
  try {
    const index = join(scratch, 'index');
    const env = { GIT_INDEX_FILE: index };
    // Starting from a copy of the real index keeps git's stat data: `add -A` then hashes only what
    // changed. The copy keeps the index's mtime: git trusts an entry's stat data only when the file
    // is older than the index, and a fresh mtime would hide a same-size edit made in the second of
    // the last `git add` (the "racy git" case).
    const realIndex = await git(['rev-parse', '--git-path', 'index'], root);
    let seeded = false;
    if (realIndex.ok) {
      const p = realIndex.stdout.trim();
      try {
        cpSync(isAbsolute(p) ? p : resolve(root, p), index, { preserveTimestamps: true });
        seeded = true;
      } catch {
        // No index yet (fresh repository): start from HEAD below.
      }
    }
    if (!seeded) {
      const read = await git(sha ? ['read-tree', sha] : ['read-tree', '--empty'], topLevel, env);
      if (!read.ok) return { repo: true, sha, note: `git read-tree failed: ${read.error}` };
    }
    const add = await git(['add', '-A', '--', ':/', ...allExcludes], topLevel, env);
    if (!add.ok) return { repo: true, sha, note: `git add -A (into a temporary index) failed: ${add.error}` };

    const diffFile = join(scratch, 'diff');
    const diff = await git(
      [
        '-c', 'core.quotePath=false',
        'diff', '--cached', '--binary', '--full-index', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
        '--src-prefix=a/', '--dst-prefix=b/',
        base, '--', ':/', ...allExcludes,
      ],
      topLevel,
      env,
      diffFile,
    );
    if (!diff.ok) return { repo: true, sha, note: `git diff failed: ${diff.error}` };

    const choice: PieceChoice = choosePieces(await readPatchPieces(diffFile, opts.limits.fileBytes), opts.limits);
    const omitted: OmittedFile[] = [
      ...tooBig,
      ...choice.omitted.map(({ piece, reason }) => ({ path: piece.path, bytes: piece.bytes, binary: piece.binary, reason })),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const files = choice.kept.map((p) => p.path);
    const text = Buffer.concat([Buffer.from(header(sha, { files, omitted }, opts.limits), 'utf8'), ...choice.kept.map((p) => p.text!)]);
    await writeFileAtomic(patchFile, text);
    const empty = files.length === 0;
    const notes = [
      ...(empty ? [omitted.length ? 'no source change fits the patch’s limits' : 'the working tree has no source change against HEAD'] : []),
      ...(sha ? [] : ['the repository has no commit yet: the patch adds every file']),
      ...(omitted.length ? [`${omitted.length} file${omitted.length === 1 ? '' : 's'} left out by size (see patchOmitted)`] : []),
    ];
    return { repo: true, sha, patch: patchFile, empty, files, bytes: text.length, omitted, ...(notes.length ? { note: notes.join('; ') } : {}) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

