// Finding the git work tree by walking up to `.git`, checked against what git itself answers in
// real repositories: a plain one, a folder deep inside it, a linked worktree (`.git` is a file), a
// stray `.git` folder git does not accept, and no repository at all.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGitWorkTree } from '../../src/fs/git-work-tree.js';

function git(cwd: string, ...args: string[]): string | null {
  const env = { ...process.env };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_CEILING_DIRECTORIES']) delete env[k];
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** What git says about `dir`: its work tree and prefix, or null. */
function gitAnswer(dir: string) {
  const top = git(dir, 'rev-parse', '--show-toplevel');
  return top === null ? null : { top, prefix: git(dir, 'rev-parse', '--show-prefix') ?? '' };
}

const cleanEnv = {};

function repo(): string {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'evidence-gitwt-')));
  const dir = join(base, 'repo');
  mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(dir, 'a', 'f.txt'), 'x\n');
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-qm', 'i');
  return dir;
}

describe('findGitWorkTree', () => {
  it('gives the same top and prefix as git rev-parse, at the top and deep inside', () => {
    const dir = repo();
    for (const at of [dir, join(dir, 'a'), join(dir, 'a', 'b', 'c')]) {
      expect(findGitWorkTree(at, cleanEnv)).toEqual(gitAnswer(at));
    }
    expect(findGitWorkTree(join(dir, 'a', 'b'), cleanEnv)?.prefix).toBe('a/b/');
  });

  it('follows a linked worktree, whose .git is a file', () => {
    const dir = repo();
    const wt = join(dir, '..', 'linked');
    expect(git(dir, 'worktree', 'add', '-q', wt)).not.toBeNull();
    mkdirSync(join(wt, 'a', 'deeper'), { recursive: true });
    const at = join(wt, 'a', 'deeper');
    expect(findGitWorkTree(at, cleanEnv)).toEqual(gitAnswer(at));
    expect(findGitWorkTree(at, cleanEnv)?.top).toBe(realpathSync(wt));
  });

  it('says null outside any repository, and passes over a .git folder git would not accept', () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'evidence-nogit-')));
    mkdirSync(join(base, 'p', '.git'), { recursive: true }); // empty: no HEAD
    const at = join(base, 'p');
    const expected = gitAnswer(at);
    // Under the temp folder there is normally no repository; if there is one, both must agree.
    expect(findGitWorkTree(at, cleanEnv)).toEqual(expected);
  });

  it('inside the .git folder itself there is no work tree', () => {
    const dir = repo();
    expect(findGitWorkTree(join(dir, '.git'), cleanEnv)).toBeNull();
    expect(findGitWorkTree(join(dir, '.git', 'refs'), cleanEnv)).toBeNull();
  });

  it('leaves the answer to git when the environment redirects its discovery', () => {
    const dir = repo();
    expect(findGitWorkTree(dir, { GIT_DIR: join(dir, '.git') })).toBeUndefined();
    expect(findGitWorkTree(dir, { GIT_CEILING_DIRECTORIES: dir })).toBeUndefined();
  });
});
