// What the CI reports need from git: the commit a run describes (for the manifest) and the top of
// the work tree (annotation paths are relative to the repository). Both are null outside git.
// Whether there is a repository is found by walking up to `.git` (src/fs/git-work-tree.ts): git
// runs only for HEAD's commit, and only inside a repository.
// spawnSync, not execa: the callers (workspaceOf, the manifest's gitSha) are synchronous, and
// execaSync from the CommonJS bundle needs require(esm) (Node ≥ 20.19, engines says ≥ 20) and
// ~100 ms to load, while with every failure meaning null it would remove no code here.
import { spawnSync } from 'node:child_process';
import { findGitWorkTree } from '../fs/git-work-tree.js';

function git(args: string[], cwd: string): string | null {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

/** The HEAD commit of the repository holding `dir`, or null (not a repository, or no commit yet). */
export function gitHead(dir: string): string | null {
  if (findGitWorkTree(dir) === null) return null;
  return git(['rev-parse', '--verify', '-q', 'HEAD'], dir);
}

export function gitTopLevel(dir: string): string | null {
  const found = findGitWorkTree(dir);
  return found === undefined ? git(['rev-parse', '--show-toplevel'], dir) : (found?.top ?? null);
}
