// The blocker's source patch, in real `git init` repositories: it must reproduce the source change
// on a clean checkout byte for byte (binary files too), also before the first commit, where the
// base is the empty tree (`git mktree` reading an empty stdin); it must leave out what runs make
// (outs, evidence.lock, .evidence, blocker files old and new, ignored files), and keep within its
// limits, naming each file left out and why.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PATCH_LIMITS, writeWorkingTreePatch, type PatchOptions } from '../../stages/forensics/git-patch.js';
import { choosePieces, pathOfDiffLine, readPatchPieces, type PatchPiece } from '../../stages/forensics/patch-chunks.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
const temp = (what: string) => mkdtempSync(join(tmpdir(), `evidence-patch-${what}-`));
/** Every byte value, so that any text conversion on the way shows. */
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
const plain: PatchOptions = { products: [], artifacts: [], artifactGlobs: [], limits: DEFAULT_PATCH_LIMITS };

function write(root: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** The paths a patch changes, from its `diff --git` lines. */
const touched = (patch: string) => [...patch.matchAll(/^diff --git a\/(.+) b\//gm)].map((m) => m[1]);

function cloneOf(root: string): string {
  const clone = join(temp('clone'), 'c');
  git(tmpdir(), 'clone', '-q', root, clone);
  return clone;
}

describe('working-tree patch', () => {
  it('makes a patch before the first commit that recreates every file, binary ones byte for byte', async () => {
    const root = temp('fresh');
    git(root, 'init', '-q');
    write(root, 'src/port.py', 'print("port")\n');
    write(root, 'weights.bin', binary);
    write(root, 'reports/blocker.log', 'not part of the patch\n');
    const patch = join(root, 'reports', 'blocker.patch');

    const result = await writeWorkingTreePatch(root, patch, { ...plain, artifacts: ['reports/blocker.log', 'reports/blocker.patch'] });
    expect(result).toMatchObject({ repo: true, sha: null, patch, empty: false, files: ['src/port.py', 'weights.bin'], omitted: [], note: 'the repository has no commit yet: the patch adds every file' });
    expect(result.bytes).toBe(readFileSync(patch).length);

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

    const result = await writeWorkingTreePatch(root, patch, plain);
    expect(result).toMatchObject({ repo: true, sha: git(root, 'rev-parse', 'HEAD').trim(), patch, empty: false, files: ['weights.bin'] });
    expect(git(root, 'diff', '--cached', '--name-only')).toBe('');

    const clone = cloneOf(root);
    git(clone, 'apply', patch);
    expect(readFileSync(join(clone, 'weights.bin')).equals(binary)).toBe(true);
  }, 20_000);

  it('holds only the source change: outs (tracked or not), evidence.lock, .evidence, blocker files old and new and ignored files stay out', async () => {
    const root = temp('products');
    git(root, 'init', '-q');
    write(root, '.gitignore', 'scratch/\n');
    write(root, 'src/port.ts', 'export const phi = 0.1;\n');
    write(root, 'reports/committed.json', '{"v": 1}\n');
    write(root, 'evidence.lock', 'version: 1\n');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    // The one-line edit, and everything a run and earlier failures leave around it.
    write(root, 'src/port.ts', 'export const phi = 0.2;\n');
    write(root, 'build/port/main.js', 'compiled\n');
    write(root, 'build/pixel_trace', binary);
    write(root, 'reports/committed.json', '{"v": 2}\n');
    write(root, 'reports/trace.log', 'TRACE_C: phi 0.2\n');
    write(root, 'evidence.lock', 'version: 1\nstages: {}\n');
    write(root, '.evidence/runs.jsonl', '{}\n');
    write(root, 'reports/old/c_trace_blocker.patch', 'diff --git a/x b/x\n');
    write(root, 'reports/old/blocker.json', '{}\n');
    write(root, 'reports/old/attempt_failed.log', 'old\n');
    write(root, 'reports/notes.md', '# notes\n');
    write(root, 'scratch/tmp.txt', 'ignored\n');
    const patch = join(root, 'reports', 'now', 'ts_trace_blocker.patch');

    const result = await writeWorkingTreePatch(root, patch, {
      products: ['build/port', 'build/pixel_trace', 'reports/committed.json', 'reports/trace.log', 'evidence.lock', '.evidence'],
      artifacts: ['reports/now/attempt_failed.log', 'reports/now/ts_trace_blocker.patch', 'reports/now/blocker.json', 'reports/notes.md'],
      artifactGlobs: ['attempt_failed.log', 'blocker.json', '*_blocker.patch'],
      limits: DEFAULT_PATCH_LIMITS,
    });
    expect(result.files).toEqual(['src/port.ts']);
    expect(result.note).toBeUndefined();
    const text = readFileSync(patch, 'utf8');
    expect(touched(text)).toEqual(['src/port.ts']);
    expect(text).toContain('-export const phi = 0.1;\n+export const phi = 0.2;');
    expect(text.length).toBeLessThan(1200);

    const clone = cloneOf(root);
    git(clone, 'apply', '--check', patch);
    git(clone, 'apply', patch);
    expect(readFileSync(join(clone, 'src/port.ts'), 'utf8')).toBe('export const phi = 0.2;\n');
    expect(git(clone, 'status', '--porcelain')).toBe(' M src/port.ts\n');
    // The build product was never hashed into the repository's objects.
    const blob = execFileSync('git', ['hash-object', '--stdin'], { input: binary, encoding: 'utf8' }).trim();
    expect(() => git(root, 'cat-file', '-e', blob)).toThrow();
  }, 30_000);

  it('leaves out by size, naming each file and why: new files above the per-file limit, a diff above it, what passes the cap', async () => {
    const root = temp('limits');
    git(root, 'init', '-q');
    const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i} of a source file\n`).join('');
    write(root, 'a_tracked.txt', 'one\n');
    write(root, 'b_rewritten.txt', lines(400, 'old'));
    write(root, 'c_tracked.txt', 'three\n');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    write(root, 'a_tracked.txt', lines(120, 'a')); // 3.5 KB of diff
    write(root, 'b_rewritten.txt', lines(400, 'new')); // 22 KB of diff: above the 16 KB per file
    write(root, 'c_tracked.txt', lines(120, 'c')); // 3.5 KB: 7 KB with a_tracked
    write(root, 'd_new.txt', lines(120, 'd')); // 3.5 KB, new: after the tracked ones, past the 9 KB cap
    write(root, 'e_new.txt', lines(120, 'e'));
    write(root, 'f_huge.bin', Buffer.alloc(40 << 10, 7)); // new and above the limit: never hashed
    const patch = join(tmpdir(), `evidence-limits-${process.pid}-${Date.now()}.patch`);

    const result = await writeWorkingTreePatch(root, patch, { ...plain, limits: { fileBytes: 16 << 10, totalBytes: 9 << 10 } });
    expect(result.files).toEqual(['a_tracked.txt', 'c_tracked.txt']);
    expect(result.omitted!.map((o) => [o.path, o.reason])).toEqual([
      ['b_rewritten.txt', 'file-limit'],
      ['d_new.txt', 'total-cap'],
      ['e_new.txt', 'total-cap'],
      ['f_huge.bin', 'file-limit'],
    ]);
    expect(result.omitted!.find((o) => o.path === 'f_huge.bin')!.bytes).toBe(40 << 10);
    expect(result.note).toBe('4 files left out by size (see patchOmitted)');
    const text = readFileSync(patch, 'utf8');
    expect(result.bytes).toBeLessThanOrEqual((9 << 10) + 1024);
    expect(text).toMatch(/^# Limits: 16 KB per file, 9 KB in all\. 2 files in this patch, 4 left out by size:$/m);
    expect(text).toMatch(/^# {3}"b_rewritten\.txt" \(\d+ KB: above the 16 KB limit per file\)$/m);
    expect(text).toMatch(/^# {3}"d_new\.txt" \(\d\.\d KB: past the patch's cap of 9 KB\)$/m);
    expect(text).toMatch(/^# {3}"f_huge\.bin" \(40 KB: above the 16 KB limit per file\)$/m);

    // What is in the patch still applies, header and all.
    const clone = cloneOf(root);
    git(clone, 'apply', patch);
    expect(readFileSync(join(clone, 'a_tracked.txt'), 'utf8')).toBe(lines(120, 'a'));
    expect(readFileSync(join(clone, 'c_tracked.txt'), 'utf8')).toBe(lines(120, 'c'));
  }, 30_000);

  it('names files with spaces, quotes and non-ASCII letters as git does, and they apply', async () => {
    const root = temp('names');
    git(root, 'init', '-q');
    write(root, 'keep.txt', 'x\n');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    const names = ['a dir/with space.txt', 'quote"d.txt', 'tab\there.txt', 'Å-ångström.txt'];
    for (const n of names) write(root, n, `${n}\n`);
    const patch = join(tmpdir(), `evidence-names-${process.pid}-${Date.now()}.patch`);
    const result = await writeWorkingTreePatch(root, patch, plain);
    expect([...result.files!].sort()).toEqual([...names].sort());
    const clone = cloneOf(root);
    git(clone, 'apply', patch);
    for (const n of names) expect(readFileSync(join(clone, n), 'utf8')).toBe(`${n}\n`);
  }, 20_000);

  it('excludes the outs of a project that lives in a folder of the repository', async () => {
    const root = temp('nested');
    git(root, 'init', '-q');
    write(root, 'sim/src/port.c', 'int x = 1;\n');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    write(root, 'sim/src/port.c', 'int x = 2;\n');
    write(root, 'sim/out/trace.log', 'TRACE\n');
    write(root, 'docs/todo.md', 'outside the project, in the repository\n');
    const patch = join(root, 'sim', 'reports', 'p.patch');
    const result = await writeWorkingTreePatch(join(root, 'sim'), patch, { ...plain, products: ['out'], artifacts: ['reports/p.patch'] });
    expect(result.files).toEqual(['docs/todo.md', 'sim/src/port.c']);
  }, 20_000);

  it('makes no patch outside a git repository', async () => {
    const root = temp('plain');
    expect(await writeWorkingTreePatch(root, join(root, 'p.patch'), plain)).toEqual({ repo: false, sha: null, note: 'not a git repository: no patch was made' });
  });
});

describe('patch pieces', () => {
  it('reads the path of a diff line, quoted or with spaces', () => {
    expect(pathOfDiffLine('diff --git a/src/port.ts b/src/port.ts')).toBe('src/port.ts');
    expect(pathOfDiffLine('diff --git a/a b/c.txt b/a b/c.txt')).toBe('a b/c.txt');
    expect(pathOfDiffLine('diff --git "a/tab\\there \\"q\\"" "b/tab\\there \\"q\\""')).toBe('tab\there "q"');
    expect(pathOfDiffLine('diff --git "a/\\303\\205.txt" "b/\\303\\205.txt"')).toBe('Å.txt');
  });

  it('cuts real git output into the same pieces whatever the read size, a header across any block boundary', async () => {
    const root = temp('pieces');
    git(root, 'init', '-q');
    write(root, 'gone.txt', 'to be deleted\n');
    write(root, 'link', 'a file that becomes a symlink\n');
    write(root, 'diff --git a/fake b/fake.txt', 'diff --git a/x b/x\n');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    execFileSync('rm', [join(root, 'gone.txt'), join(root, 'link')]);
    execFileSync('ln', ['-s', 'elsewhere', join(root, 'link')]);
    write(root, 'diff --git a/fake b/fake.txt', 'diff --git a/y b/y\ndiff --git a/z b/z\n');
    write(root, 'new.bin', binary);
    write(root, 'new.txt', 'new\n');
    git(root, 'add', '-A');
    const diffFile = join(temp('diff'), 'diff');
    writeFileSync(diffFile, execFileSync('git', ['diff', '--cached', '--binary', '--no-renames', 'HEAD'], { cwd: root }));
    const whole = readFileSync(diffFile);

    const reference = await readPatchPieces(diffFile, 1 << 20);
    // The type change (file → symlink) is two parts of git's output and one piece here.
    expect(reference.map((p) => [p.path, p.added, p.binary])).toEqual([
      ['diff --git a/fake b/fake.txt', false, false],
      ['gone.txt', false, false],
      ['link', false, false],
      ['new.bin', true, true],
      ['new.txt', true, false],
    ]);
    expect(Buffer.concat(reference.map((p) => p.text!)).equals(whole)).toBe(true);
    for (const blockBytes of [1, 5, 11, 12, 13, 64, 333]) {
      const pieces = await readPatchPieces(diffFile, 1 << 20, blockBytes);
      expect(pieces.map((p) => [p.path, p.bytes, p.added, p.binary]), `blocks of ${blockBytes}`).toEqual(reference.map((p) => [p.path, p.bytes, p.added, p.binary]));
      expect(Buffer.concat(pieces.map((p) => p.text!)).equals(whole), `blocks of ${blockBytes}`).toBe(true);
    }
    // Above the limit a piece keeps its size and what it is, not its bytes.
    const small = await readPatchPieces(diffFile, 100, 7);
    const dropped = small.find((p) => p.path === 'new.bin')!;
    expect(dropped).toMatchObject({ bytes: reference[3]!.bytes, added: true, binary: true });
    expect(dropped.text).toBeUndefined();
  });

  it('keeps tracked changes before new files within the cap, skipping a piece that does not fit for smaller ones after it', () => {
    const piece = (path: string, bytes: number, added: boolean): PatchPiece => ({ path, bytes, text: Buffer.alloc(bytes), added, binary: false });
    const choice = choosePieces([piece('a.new', 20, true), piece('b.tracked', 50, false), piece('c.tracked', 60, false), piece('d.tracked', 30, false), piece('e.big', 500, false)], {
      fileBytes: 100,
      totalBytes: 95,
    });
    expect(choice.kept.map((p) => p.path)).toEqual(['b.tracked', 'd.tracked']);
    expect(choice.omitted.map((o) => [o.piece.path, o.reason])).toEqual([
      ['a.new', 'total-cap'],
      ['c.tracked', 'total-cap'],
      ['e.big', 'file-limit'],
    ]);
  });
});
