// The project root: pipeline.yaml found upward from the current folder, -C DIR and --file FILE,
// the error when there is none, and relative paths on the command line kept relative to the
// folder the user is in. The compiled CLI runs as a subprocess in temp projects.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, TestProject, logged, type CliResult } from '../helpers/project.js';

/** Runs `evidence ARGS` with `cwd` as the current folder. */
function cliIn(p: TestProject, cwd: string, args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: p.env(), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A stage that writes an out relative to the project root: it must land there whatever the cwd.
const PIPELINE = `version: 1\nstages:\n  a:\n    cmd: ${JSON.stringify(logged('a', 'echo made > a.txt'))}\n    outs: [a.txt]\n`;

describe('the pipeline file is found upward from the current folder', () => {
  it('runs from a subfolder with the root as the stages folder, and says which file with -v', () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE, 'src/deep/keep.txt': 'x\n' });
    const r = cliIn(p, p.path('src/deep'), ['run', '-v']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`evidence: using ../../pipeline.yaml (found above the current folder; project root ${p.dir})`);
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.read('a.txt')).toBe('made\n');
    expect(p.exists('src/deep/a.txt')).toBe(false);
    // The same project, seen from the root and from the subfolder: up to date in both.
    expect(cliIn(p, p.path('src'), ['status']).stdout).toMatch(/^a\s+up to date/);
    expect(p.cli(['run', '-v']).stderr).toContain(`evidence: using pipeline.yaml (project root ${p.dir})`);
    expect(p.takeRuns()).toEqual([]);
  });

  it('takes the nearest pipeline.yaml: a project nested in another is its own', () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE, 'inner/pipeline.yaml': PIPELINE.replace(/\ba\b/g, 'b'), 'inner/sub/.keep': '' });
    const r = cliIn(p, p.path('inner/sub'), ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['b']);
    expect(p.exists('inner/b.txt')).toBe(true);
    expect(p.exists('a.txt')).toBe(false);
  });

  it('names the file relative to the current folder in diagnostics, so the location opens from there', () => {
    const p = new TestProject({ 'pipeline.yaml': 'version: 1\nstages:\n  a:\n    cmd: echo\n    outz: [a.txt]\n', 'sub/.keep': '' });
    const r = cliIn(p, p.path('sub'), ['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\.\.\/pipeline\.yaml:5:5: error: .*outz/m);
  });
});

describe('-C DIR and --file FILE', () => {
  it('-C runs as if started in DIR, before or after the verb, each -C relative to the one before', () => {
    const p = new TestProject({ 'proj/pipeline.yaml': PIPELINE, 'proj/sub/.keep': '' });
    const base = join(p.dir, '..');
    expect(cliIn(p, base, ['-C', 'project/proj', 'run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.read('proj/a.txt')).toBe('made\n');
    expect(cliIn(p, base, ['status', '-C', 'project', '-C', 'proj/sub']).stdout).toMatch(/^a\s+up to date/);
    const missing = cliIn(p, base, ['-C', 'nowhere', 'run']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('evidence run: -C nowhere: no such folder');
  });

  it('--file names the pipeline explicitly: its folder is the project root, searched for nothing', () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE.replace(/\ba\b/g, 'outer'), 'ci/evidence.yaml': PIPELINE });
    const r = p.cli(['run', '--file', 'ci/evidence.yaml']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.exists('ci/a.txt')).toBe(true);
    expect(p.exists('a.txt')).toBe(false);
  });
});

describe('relative paths on the command line stay relative to the current folder', () => {
  it('history and restore resolve PATH from where the user is; -C moves that start too', () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE, 'sub/.keep': '' });
    writeFileSync(p.path('a.txt'), 'by hand\n');
    expect(p.cli(['run']).code).toBe(0);
    const fromSub = JSON.parse(cliIn(p, p.path('sub'), ['history', '../a.txt', '--json']).stdout) as Array<{ path: string; event: string }>;
    expect(fromSub.map((h) => [h.path, h.event])).toEqual([
      ['a.txt', 'archived'],
      ['a.txt', 'produced'],
    ]);
    // Named from the subfolder as if it were there, a.txt is sub/a.txt, which has no versions.
    expect(cliIn(p, p.path('sub'), ['history', 'a.txt']).stdout).toContain("no stored versions of 'sub/a.txt'");
    const viaC = cliIn(p, join(p.dir, '..'), ['-C', 'project', 'history', 'a.txt', '--json']);
    expect(JSON.parse(viaC.stdout)).toEqual(JSON.parse(p.cli(['history', 'a.txt', '--json']).stdout));
    const restored = cliIn(p, p.path('sub'), ['restore', '../a.txt']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(p.read('a.txt')).toBe('by hand\n');
  });

  it('parse and compare read their files from the current folder, and need no pipeline', () => {
    const p = new TestProject({});
    mkdirSync(p.path('logs'));
    writeFileSync(p.path('logs/c.log'), 'TRACE_C: x 1.5 2\n');
    writeFileSync(p.path('logs/py.log'), 'TRACE_PY: x 1.5 2.0\n');
    const r = cliIn(p, p.path('logs'), ['compare', 'c.log', 'py.log']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Verdict: \*\*MATCH\*\*/);
    expect(cliIn(p, join(p.dir, '..'), ['-C', 'project/logs', 'parse', 'c.log']).code).toBe(0);
  });
});
