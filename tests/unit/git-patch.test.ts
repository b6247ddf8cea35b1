// The blocker's working-tree patch, in real `git init` repositories: it must reproduce the tree on
// a clean checkout byte for byte (binary files too), also before the first commit, where the base
// is the empty tree (`git mktree` reading an empty stdin).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeWorkingTreePatch } from '../../stages/forensics/git-patch.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
const temp = (what: string) => mkdtempSync(join(tmpdir(), `evidence-patch-${what}-`));
/** Every byte value, so that any text conversion on the way shows. */
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));

describe('working-tree patch', () => {
  it('makes a patch before the first commit that recreates every file, binary ones byte for byte', async () => {
    const root = temp('fresh');
    git(root, 'init', '-q');
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'port.py'), 'print("port")\n');
    writeFileSync(join(root, 'weights.bin'), binary);
    mkdirSync(join(root, 'reports'));
    writeFileSync(join(root, 'reports', 'blocker.log'), 'not part of the patch\n');
    const patch = join(root, 'reports', 'blocker.patch');

    const result = await writeWorkingTreePatch(root, patch, [join(root, 'reports', 'blocker.log'), patch]);
    expect(result).toEqual({ repo: true, sha: null, patch, empty: false, note: 'the repository has no commit yet: the patch adds every file' });

    const clean = temp('apply');
    git(clean, 'init', '-q');
    git(clean, 'apply', patch);
    expect(readFileSync(join(clean, 'src', 'port.py'), 'utf8')).toBe('print("port")\n');
    expect(readFileSync(join(clean, 'weights.bin')).equals(binary)).toBe(true);
    expect(git(clean, 'status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).sort()).toEqual(['?? src/port.py', '?? weights.bin']);
  }, 20_000);

  it('patches a changed binary file against HEAD and leaves the real index alone', async () => {
    const root = temp('commit');
    git(root, 'init', '-q');
    writeFileSync(join(root, 'weights.bin'), 'v1');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    writeFileSync(join(root, 'weights.bin'), binary);
    const patch = join(tmpdir(), `evidence-patch-${process.pid}-${Date.now()}.patch`);

    const result = await writeWorkingTreePatch(root, patch, []);
    expect(result).toMatchObject({ repo: true, sha: git(root, 'rev-parse', 'HEAD').trim(), patch, empty: false });
    expect(git(root, 'diff', '--cached', '--name-only')).toBe('');

    const clone = join(temp('clone'), 'c');
    git(tmpdir(), 'clone', '-q', root, clone);
    git(clone, 'apply', patch);
    expect(readFileSync(join(clone, 'weights.bin')).equals(binary)).toBe(true);
  }, 20_000);

  it('makes no patch outside a git repository', async () => {
    const root = temp('plain');
    expect(await writeWorkingTreePatch(root, join(root, 'p.patch'), [])).toEqual({ repo: false, sha: null, note: 'not a git repository: no patch was made' });
  });
});
