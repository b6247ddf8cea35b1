// The write guard through the CLI: what stages write outside their outs, in place or deep in a tree
// whose folders look unchanged, is named or fails the stage; and git runs once per run, not once
// per stage, counted by a `git` on PATH that logs each call before running the real one.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TestProject } from '../helpers/project.js';

const STAGES = (n: number) => Array.from({ length: n }, (_, i) => `  s${i}:\n    cmd: "echo ${i} > out/s${i}.txt"\n    outs: [out/s${i}.txt]\n`).join('');

/** A PATH where `git` logs its arguments to `log`, then runs the real git. */
function loggingGit(p: TestProject): { PATH: string; log: string } {
  const bin = join(p.dir, '..', 'bin');
  const log = join(p.dir, '..', 'git-calls.log');
  const real = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$1" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return { PATH: `${bin}:${process.env.PATH}`, log };
}

const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

describe('the write guard through the CLI', () => {
  it('fails a stage that appends to a protected tracked file in place (no rename, its folder unchanged)', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nprotect: [src/**]\nstages:\n  tune:\n    cmd: "echo '/* tuned */' >> src/sim/core/phi.c && echo ok > out.txt"\n    outs: [out.txt]\n`,
      'src/sim/core/phi.c': 'double phi = 0.1;\n',
      'src/sim/core/other.c': 'int x;\n',
    });
    p.initGit();
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/tune failed: modified protected files: src\/sim\/core\/phi\.c$/m);
  });

  it('names the one stage that modifies a tracked file, and not the stages before or after it', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n${STAGES(2)}  edit:\n    cmd: "echo note >> docs/guide/notes.md && echo e > out/e.txt"\n    outs: [out/e.txt]\n    deps: [out/s1.txt]\n  after:\n    cmd: "echo a > out/a.txt"\n    outs: [out/a.txt]\n    deps: [out/e.txt]\n`,
      'docs/guide/notes.md': '# Notes\n',
      'out/.keep': '',
    });
    p.initGit();
    const r = p.cli(['run', '-j', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('! '))).toEqual([
      '! edit: created or changed files that no stage declares as outs: docs/guide/notes.md; declare them as outs, or ignore them in .gitignore',
    ]);
  });

  it('names a file a stage writes deep in a tree whose folders look unchanged, outside git', () => {
    const files: Record<string, string> = { 'pipeline.yaml': `version: 1\nstages:\n  sim:\n    cmd: "echo 1 > out.txt && echo cache > model/layers/l3/weights/.cache && echo x >> model/layers/l1/weights/w.bin"\n    outs: [out.txt]\n` };
    for (let i = 0; i < 5; i++) files[`model/layers/l${i}/weights/w.bin`] = `w${i}\n`;
    const p = new TestProject(files);
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('! '))).toEqual([
      '! sim: created or changed files that no stage declares as outs: model/layers/l1/weights/w.bin, model/layers/l3/weights/.cache; declare them as outs, or ignore them in .gitignore',
    ]);
  });

  it('runs git once per run in a repository, whatever the number of stages, and never outside one', () => {
    const yaml = `version: 1\nprotect: [src/**]\nstages:\n${STAGES(12)}`;
    const inGit = new TestProject({ 'pipeline.yaml': yaml, 'src/a.c': 'int a;\n', 'out/.keep': '' });
    inGit.initGit();
    const git = loggingGit(inGit);
    const r = inGit.cli(['run', '--force'], { PATH: git.PATH });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(calls(git.log)).toEqual(['ls-files']);

    const outside = new TestProject({ 'pipeline.yaml': yaml, 'src/a.c': 'int a;\n', 'out/.keep': '' });
    const none = loggingGit(outside);
    const r2 = outside.cli(['run', '--force'], { PATH: none.PATH });
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(calls(none.log)).toEqual([]);
  });

  it('in CI mode, asks git only for the commit, and only inside a repository', () => {
    const yaml = `version: 1\nstages:\n${STAGES(3)}`;
    const ci = (p: TestProject, PATH: string) => p.cli(['run', '--ci'], { PATH, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(p.dir, '..', 'summary.md') });
    const inGit = new TestProject({ 'pipeline.yaml': yaml, 'out/.keep': '' });
    inGit.initGit();
    const git = loggingGit(inGit);
    const r = ci(inGit, git.PATH);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(calls(git.log).sort()).toEqual(['ls-files', 'rev-parse']);

    const outside = new TestProject({ 'pipeline.yaml': yaml, 'out/.keep': '' });
    const none = loggingGit(outside);
    const r2 = ci(outside, none.PATH);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(calls(none.log)).toEqual([]);
  });
});
