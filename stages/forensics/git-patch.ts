// The working tree's changes against HEAD as one patch that `git apply` reproduces on a clean
// checkout: tracked changes and untracked files git does not ignore, binary files included. The
// user's index is never touched: a temporary index (GIT_INDEX_FILE) takes `git add -A`, and the
// patch is `git diff --cached --binary` of that index against HEAD.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { commitTemp, tempPathFor } from '../../src/stage-api/index.js';

export interface PatchResult {
  /** Whether the project is inside a git work tree. */
  repo: boolean;
  /** HEAD's commit, null without a repository or before the first commit. */
  sha: string | null;
  /** Absolute path of the written patch; absent when none could be made. */
  patch?: string;
  /** True when the working tree has no change against HEAD (the patch file is empty). */
  empty?: boolean;
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
 * With `toFile`, stdout goes into that file byte for byte (a patch can be large and binary).
 */
async function git(args: string[], cwd: string, env: Record<string, string> = {}, toFile?: string): Promise<GitResult> {
  const { execa } = await import('execa');
  const r = await execa('git', args, {
    cwd,
    env: { GIT_OPTIONAL_LOCKS: '0', ...env },
    stdin: 'ignore',
    stdout: toFile ? { file: toFile } : 'pipe',
    reject: false,
  });
  return { ok: !r.failed, stdout: typeof r.stdout === 'string' ? r.stdout : '', error: r.failed ? r.stderr.trim() || (r.shortMessage ?? r.escapedCommand) : '' };
}

/**
 * Writes the patch to `patchFile` (atomically). `exclude`: absolute paths left out of it (the
 * blocker's own artifacts).
 */
export async function writeWorkingTreePatch(root: string, patchFile: string, exclude: string[]): Promise<PatchResult> {
  const top = await git(['rev-parse', '--show-toplevel'], root);
  if (!top.ok) return { repo: false, sha: null, note: 'not a git repository: no patch was made' };
  const topLevel = top.stdout.trim();
  const head = await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], root);
  const sha = head.ok ? head.stdout.trim() : null;
  // Before the first commit the base is the empty tree (whose id depends on the hash function).
  const base = sha ?? (await git(['mktree'], root)).stdout.trim();

  const scratch = mkdtempSync(join(tmpdir(), 'evidence-blocker-'));
  try {
    const index = join(scratch, 'index');
    const env = { GIT_INDEX_FILE: index };
    // Starting from a copy of the real index keeps git's stat data: `add -A` then hashes only what changed.
    const realIndex = await git(['rev-parse', '--git-path', 'index'], root);
    let seeded = false;
    if (realIndex.ok) {
      const p = realIndex.stdout.trim();
      try {
        copyFileSync(isAbsolute(p) ? p : resolve(root, p), index);
        seeded = true;
      } catch {
        // No index yet (fresh repository): start from HEAD below.
      }
    }
    if (!seeded) {
      const read = await git(sha ? ['read-tree', sha] : ['read-tree', '--empty'], root, env);
      if (!read.ok) return { repo: true, sha, note: `git read-tree failed: ${read.error}` };
    }
    const add = await git(['add', '-A', '--', ':/'], root, env);
    if (!add.ok) return { repo: true, sha, note: `git add -A (into a temporary index) failed: ${add.error}` };

    const excludes = exclude.map((abs) => `:(top,exclude,literal)${relative(topLevel, abs).split('\\').join('/')}`);
    const tmp = tempPathFor(patchFile);
    const diff = await git(
      [
        '-c', 'core.quotePath=false',
        'diff', '--cached', '--binary', '--full-index', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
        '--src-prefix=a/', '--dst-prefix=b/',
        base, '--', ':/', ...excludes,
      ],
      root,
      env,
      tmp,
    );
    if (!diff.ok) {
      rmSync(tmp, { force: true });
      return { repo: true, sha, note: `git diff failed: ${diff.error}` };
    }
    await commitTemp(tmp, patchFile);
    const empty = statSync(patchFile).size === 0;
    return { repo: true, sha, patch: patchFile, empty, note: empty ? 'the working tree has no change against HEAD' : sha ? undefined : 'the repository has no commit yet: the patch adds every file' };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
