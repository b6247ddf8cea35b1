// The write guard in-process, on real files and real git repositories, with stages played by real
// shell processes between stageStarted and stageEnded: what it names, what it fails, and what it
// costs, read from its counters (stat calls, folder listings, git spawns), never from time.
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/pipeline/load.js';
import { Workspace } from '../../src/cache/workspace.js';
import { WriteGuard, type GuardOptions } from '../../src/run/write-guard.js';
import type { RunEvent } from '../../src/run/events.js';
import type { FileEntry } from '../../src/cache/hash.js';

class Project {
  readonly root = mkdtempSync(join(tmpdir(), 'evidence-guard-'));
  readonly warnings: string[] = [];
  readonly kept: string[] = [];
  guard!: WriteGuard;

  constructor(yaml: string, files: Record<string, string> = {}) {
    this.write('pipeline.yaml', `version: 1\n${yaml}`);
    for (const [p, c] of Object.entries(files)) this.write(p, c);
  }

  write(p: string, content: string): void {
    mkdirSync(dirname(join(this.root, p)), { recursive: true });
    writeFileSync(join(this.root, p), content);
  }

  /** Writes `count` files spread over `folders` nested folders under src/. */
  tree(folders: number, count: number): void {
    for (let i = 0; i < count; i++) this.write(`src/m${i % folders}/deep/f${i}.c`, `int f${i};\n`);
  }

  initGit(): void {
    for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-qm', 'initial']]) {
      const r = spawnSync('git', args, { cwd: this.root, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    }
  }

  async open(options: Partial<GuardOptions> = {}): Promise<WriteGuard> {
    const loaded = await loadPipeline(join(this.root, 'pipeline.yaml'), { catalog: { kinds: new Map(), commands: [] } });
    if (!loaded.pipeline) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
    const ws = new Workspace(this.root);
    const emit = (e: RunEvent) => {
      if (e.type === 'warning') this.warnings.push(`${e.stage ?? '-'}: ${e.message}`);
    };
    const keep = (files: FileEntry[]) => this.kept.push(...files.map((f) => f.path));
    this.guard = new WriteGuard(loaded.pipeline, ws.hasher, emit, ['evidence.lock'], keep, { stateDir: ws.stateDir, ...options });
    return this.guard;
  }

  /** Runs a stage: a real shell process between the guard's start and end calls. */
  async stage(name: string, script: string) {
    // As the scheduler does, the folders of its outs are made before it starts.
    mkdirSync(join(this.root, 'out'), { recursive: true });
    await this.guard.stageStarted(name);
    const r = spawnSync('sh', ['-c', script], { cwd: this.root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return this.guard.stageEnded(name);
  }

  takeWarnings(): string[] {
    return this.warnings.splice(0);
  }
}

const STAGES = (n: number) => `stages:\n${Array.from({ length: n }, (_, i) => `  s${i}:\n    cmd: "echo ${i} > out/s${i}.txt"\n    outs: [out/s${i}.txt]\n`).join('')}`;

describe('the cost of the write guard', () => {
  it('with no protect: and no git, a look stats no project file: the start lists each folder once, stages writing only their outs cost nothing more', async () => {
    const p = new Project(STAGES(20));
    p.tree(10, 500);
    p.write('out/.keep', '');
    const guard = await p.open();
    for (let i = 0; i < 20; i++) await p.stage(`s${i}`, `echo ${i} > out/s${i}.txt`);
    await guard.finish();
    const c = guard.counters;
    expect(c.mode).toBe('events');
    expect(c.looks).toBe(20);
    // The root, src, src/m0..m9, their deep/ folders and out: 23 folders holding 500 files.
    expect(c.readdirs).toBe(23);
    expect(c.treeStats).toBe(23);
    expect(c.gitSpawns).toBe(0);
    expect(c.protectedHashed).toBe(0);
    expect(p.takeWarnings()).toEqual([]);
  });

  it('the stat fallback does stat every file at every look (what the counters above would show if it were used)', async () => {
    const p = new Project(STAGES(5));
    p.tree(10, 500);
    p.write('out/.keep', '');
    const guard = await p.open({ mode: 'poll' });
    for (let i = 0; i < 5; i++) await p.stage(`s${i}`, `echo ${i} > out/s${i}.txt`);
    expect(guard.counters.mode).toBe('poll');
    expect(guard.counters.treeStats).toBeGreaterThanOrEqual(500 * 6);
    expect(p.takeWarnings()).toEqual([]);
  });

  it('in git, runs git once per run while stages write only their outs or tracked files, and once more per new path it must ask about', async () => {
    const p = new Project(STAGES(5), { 'README.md': '# readme\n', '.gitignore': '__pycache__/\n' });
    p.tree(10, 200);
    p.initGit();
    const guard = await p.open();
    await p.stage('s0', 'echo 0 > out/s0.txt');
    expect(guard.counters.gitSpawns).toBe(1);
    await p.stage('s1', 'echo 1 > out/s1.txt; echo more >> src/m3/deep/f3.c');
    expect(p.takeWarnings()).toEqual(['s1: created or changed files that no stage declares as outs: src/m3/deep/f3.c; declare them as outs, or ignore them in .gitignore']);
    expect(guard.counters.gitSpawns).toBe(1);
    await p.stage('s2', 'echo 2 > out/s2.txt; mkdir -p src/m1/deep/__pycache__ && echo x > src/m1/deep/__pycache__/a.pyc; echo c > src/m1/deep/.cache.bin');
    expect(p.takeWarnings()).toEqual(['s2: created or changed files that no stage declares as outs: src/m1/deep/.cache.bin; declare them as outs, or ignore them in .gitignore']);
    expect(guard.counters.gitSpawns).toBe(2);
    // The ignored folder is known now: more files in it need no question.
    await p.stage('s3', 'echo 3 > out/s3.txt; echo y > src/m1/deep/__pycache__/b.pyc');
    expect(p.takeWarnings()).toEqual([]);
    expect(guard.counters.gitSpawns).toBe(2);
    // Nothing was statted file by file: one lstat per folder at the start, one per written name.
    expect(guard.counters.treeStats).toBeLessThan(40);
  });
});

describe('what the write guard sees', () => {
  it('in git, leaves ignored folders alone but still looks into a folder that holds only ignored files', async () => {
    const p = new Project(STAGES(3), { '.gitignore': '*.log\nbuild/\n', 'src/a.c': 'int a;\n', 'logs/old.log': 'x\n' });
    for (let i = 0; i < 30; i++) p.write(`build/obj/d${i}/a.o`, 'o');
    p.initGit();
    const guard = await p.open();
    await p.stage('s0', 'echo 0 > out/s0.txt; echo note > logs/notes.txt; echo more >> logs/old.log');
    await p.stage('s1', 'echo 1 > out/s1.txt; echo o > build/obj/d3/b.o; mkdir -p build/new && echo n > build/new/c.o');
    expect(p.takeWarnings()).toEqual(['s0: created or changed files that no stage declares as outs: logs/notes.txt; declare them as outs, or ignore them in .gitignore']);
    // ls-files, then check-ignore for the two folders it did not list (logs/ is not ignored), then
    // one for the new path in logs/; build/ was never listed or watched.
    expect(guard.counters.gitSpawns).toBe(3);
    expect(guard.counters.readdirs).toBe(4); // the root, src, logs, out
  });


  for (const mode of ['events', 'poll'] as const) {
    it(`(${mode}) names an undeclared file written deep in a tree whose folders did not change, and one rewritten in place`, async () => {
      const p = new Project(STAGES(3));
      p.tree(4, 40);
      p.write('out/.keep', '');
      await p.open({ mode });
      await p.stage('s0', 'echo 0 > out/s0.txt');
      // Appending changes no folder's mtime; a new file changes only its own folder's.
      await p.stage('s1', 'echo 1 > out/s1.txt; echo more >> src/m2/deep/f2.c; echo new > src/m1/deep/new.bin; mkdir -p src/m0/deep/a/b && echo z > src/m0/deep/a/b/c.txt');
      await p.stage('s2', 'echo 2 > out/s2.txt; rm src/m3/deep/f3.c');
      await p.guard.finish();
      expect(p.takeWarnings()).toEqual([
        's1: created or changed files that no stage declares as outs: src/m0/deep/a/b/c.txt, src/m1/deep/new.bin, src/m2/deep/f2.c; declare them as outs, or ignore them in .gitignore',
        's2: created or changed files that no stage declares as outs: src/m3/deep/f3.c; declare them as outs, or ignore them in .gitignore',
      ]);
    });
  }

  for (const overflowAt of [undefined, 1]) {
    it(`follows a folder a stage replaces: what it held is gone, what is written there later is seen${overflowAt ? ' (after an overflow)' : ''}`, async () => {
      const p = new Project(STAGES(3));
      p.tree(2, 4);
      await p.open({ overflowAt });
      await p.stage('s0', 'echo 0 > out/s0.txt; rm -rf src/m1 && mkdir -p src/m1/deep && echo n > src/m1/deep/new.c');
      await p.stage('s1', 'echo 1 > out/s1.txt; echo later > src/m1/deep/later.c');
      const partial = overflowAt ? ' (more changes than the file watcher could follow at once: files changed in place may be missing from this list)' : '';
      expect(p.takeWarnings()).toEqual([
        `s0: created or changed files that no stage declares as outs: src/m1/deep/f1.c, src/m1/deep/f3.c, src/m1/deep/new.c${partial}; declare them as outs, or ignore them in .gitignore`,
        `s1: created or changed files that no stage declares as outs: src/m1/deep/later.c${partial}; declare them as outs, or ignore them in .gitignore`,
      ]);
    });
  }

  it('fails a stage that rewrites a protected tracked file in place; hands each new content to the archive once', async () => {
    const p = new Project(`protect: [src/**]\n${STAGES(3)}`);
    p.tree(4, 40);
    p.initGit();
    await p.open();
    expect(await p.stage('s0', 'echo 0 > out/s0.txt')).toEqual({ protectedChanged: [], alongside: [] });
    expect(p.kept).toHaveLength(40);
    expect(await p.stage('s1', 'echo 1 > out/s1.txt; echo "int g;" >> src/m1/deep/f1.c')).toEqual({ protectedChanged: ['src/m1/deep/f1.c'], alongside: [] });
    await p.stage('s2', 'echo 2 > out/s2.txt');
    expect(p.kept.slice(40)).toEqual(['src/m1/deep/f1.c']);
    // A protected file is named as such, not again as an undeclared write.
    expect(p.takeWarnings()).toEqual([]);
  });

  it('when more events came than inotify can hold, looks at every folder and every protected file, and says the list may be short', async () => {
    const p = new Project(`protect: [src/**]\n${STAGES(2)}`);
    p.tree(4, 40);
    await p.open({ overflowAt: 1 });
    await p.stage('s0', 'echo 0 > out/s0.txt');
    const found = await p.stage('s1', 'echo 1 > out/s1.txt; echo more >> src/m1/deep/f1.c; echo new > stray.txt');
    expect(found?.protectedChanged).toEqual(['src/m1/deep/f1.c']);
    expect(p.takeWarnings()).toEqual([
      's1: created or changed files that no stage declares as outs: stray.txt (more changes than the file watcher could follow at once: files changed in place may be missing from this list); declare them as outs, or ignore them in .gitignore',
    ]);
  });

  it('names at the end of the run a protected file changed through a hard link in a folder it does not watch', async () => {
    const p = new Project(`protect: [src/**]\n${STAGES(1)}`, { 'src/phi.c': 'double phi = 0.1;\n' });
    mkdirSync(join(p.root, 'node_modules'));
    linkSync(join(p.root, 'src/phi.c'), join(p.root, 'node_modules/phi.c'));
    await p.open();
    const found = await p.stage('s0', 'echo 0 > out/s0.txt; echo "double phi = 0.2;" > node_modules/phi.c');
    expect(found?.protectedChanged).toEqual([]);
    await p.guard.finish();
    expect(p.takeWarnings()).toEqual(["-: protected files changed during the run where no stage's writes showed it (written through a memory map, or a hard link elsewhere?): src/phi.c"]);
  });

  it('attributes a change to every stage running in its window, and only to them', async () => {
    const p = new Project(STAGES(3));
    p.write('out/.keep', '');
    const guard = await p.open();
    await guard.stageStarted('s0');
    await guard.stageStarted('s1');
    spawnSync('sh', ['-c', 'echo x > stray.txt'], { cwd: p.root });
    await guard.stageEnded('s0');
    await guard.stageEnded('s1');
    await p.stage('s2', 'echo 2 > out/s2.txt');
    expect(p.takeWarnings()).toEqual([
      '-: created or changed files that no stage declares as outs: stray.txt (stages s0, s1 ran at the same time; any of them may have written them); declare them as outs, or ignore them in .gitignore',
    ]);
  });
});
