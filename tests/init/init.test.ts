// `evidence init`: each template gives a project that `evidence run` runs at once with every key
// matching; nothing that exists is overwritten without --force, and a refusal writes nothing;
// .gitignore is appended to, never duplicated. The compiled CLI runs in temp folders, with git.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { TestProject } from '../helpers/project.js';

/** Every file under the project but .git, with its content: what a refusal must leave as it was. */
function snapshotTree(p: TestProject): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.name === '.git') continue;
      if (e.isDirectory()) walk(abs);
      else out[relative(p.dir, abs)] = p.read(relative(p.dir, abs));
    }
  };
  walk(p.dir);
  return out;
}

/** The paths init says it wrote (the first column of its listing). */
function listedFiles(stdout: string): string[] {
  return [...stdout.matchAll(/^ {2}(\S+)\s{2,}/gm)].map((m) => m[1]!).filter((f) => f !== '.gitignore');
}

describe('evidence init', () => {
  for (const template of ['c-ts', 'c-python', 'c-cpp']) {
    it(`writes the ${template} template, which evidence run runs at once: every key matches, build/ and .evidence/ stay out of git`, () => {
      const p = new TestProject({});
      p.git('init', '-q', '-b', 'main');
      const init = p.cli(template === 'c-ts' ? ['init'] : ['init', '--template', template]);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toContain(`Wrote the ${template} template`);
      const files = listedFiles(init.stdout);
      expect(files).toContain('pipeline.yaml');
      for (const f of files) expect(statSync(p.path(f)).size, f).toBeGreaterThan(0);
      expect(p.read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['.evidence/', 'build/']));
      p.git('config', 'user.email', 'test@example.com');
      p.git('config', 'user.name', 'Test');
      p.git('add', '-A');
      p.git('commit', '-qm', 'evidence init');

      const run = p.cli(['run']);
      expect(run.code, run.stdout + run.stderr).toBe(EXIT.ok);
      expect(run.stdout).toMatch(/compare: MATCH: all keys match \(8 compared\)/);
      expect(p.read('reports/summary.md')).toMatch(/\*\*MATCH\*\*/);
      expect(p.read('reports/notes.md')).toMatch(/MATCH/);
      // What a run leaves for git: the evidence to commit, not the build or the run state.
      const untracked = p.git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).map((l) => l.slice(3));
      expect(untracked.some((f) => f.startsWith('build/') || f.startsWith('.evidence/'))).toBe(false);
      expect(untracked).toContain('reports/summary.md');
      // The report page, and the summary showing its chain plot and linking it.
      expect(p.read('reports/report.html')).toMatch(/^<!doctype html>/i);
      expect(p.read('reports/summary.md')).toMatch(/chain\.svg/);
      expect(p.read('reports/summary.md')).toMatch(/report\.html/);
      const again = p.cli(['run']);
      expect(again.code).toBe(EXIT.ok);
      expect(again.stdout).toMatch(/ok: \d+ up to date/);
    });
  }

  it('refuses to overwrite: names every file that exists, writes nothing and exits 2; --force overwrites them', () => {
    const p = new TestProject({ 'pipeline.yaml': 'mine\n', 'port/main.mjs': 'my port\n', 'notes.txt': 'keep\n' });
    const before = snapshotTree(p);
    const r = p.cli(['init']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('evidence init: nothing was written: these paths are taken already:\n  pipeline.yaml\n  port/main.mjs\n');
    expect(r.stderr).toMatch(/--force/);
    expect(snapshotTree(p)).toEqual(before);

    const forced = p.cli(['init', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^ {2}pipeline\.yaml \(overwritten\)/m);
    expect(forced.stdout).toMatch(/^ {2}port\/main\.mjs \(overwritten\)/m);
    expect(p.read('pipeline.yaml')).toMatch(/uses: compare-traces/);
    expect(p.read('notes.txt')).toBe('keep\n');
  });

  it('never puts a file where a folder is, even with --force', () => {
    const p = new TestProject({ 'pipeline.yaml/inside.txt': 'a folder\n', port: 'a file\n' });
    const before = snapshotTree(p);
    const r = p.cli(['init', '--force']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('  pipeline.yaml (a folder)\n  port (a file where a folder is needed)\n');
    expect(snapshotTree(p)).toEqual(before);
  });

  it('appends to an existing .gitignore only the lines it lacks, and never twice', () => {
    const p = new TestProject({ '.gitignore': 'node_modules\n/.evidence' });
    expect(p.cli(['init']).code).toBe(0);
    expect(p.read('.gitignore')).toBe('node_modules\n/.evidence\n\n# evidence: its run state and the programs it builds\nbuild/\n');
    expect(p.cli(['init', '--force']).code).toBe(0);
    expect(p.read('.gitignore')).toBe('node_modules\n/.evidence\n\n# evidence: its run state and the programs it builds\nbuild/\n');
  });

  it('writes into -C DIR, and says what it knows of templates: --list, --help, an unknown name', () => {
    const p = new TestProject({ 'sub/.keep': '' });
    expect(p.cli(['init', '-C', 'sub', '-t', 'c-cpp']).code).toBe(0);
    expect(p.exists('sub/port/main.cpp')).toBe(true);
    expect(p.exists('pipeline.yaml')).toBe(false);

    const list = p.cli(['init', '--list']);
    const names = [...list.stdout.matchAll(/^ {2}(\S+) /gm)].map((m) => m[1]);
    expect(names).toEqual(['c-ts', 'c-cpp', 'c-python']);
    const help = p.cli(['init', '--help']).stdout;
    for (const n of names) expect(help).toMatch(new RegExp(`^ {2}${n} `, 'm'));
    const unknown = p.cli(['init', '--template', 'fortran-rust']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/no template 'fortran-rust'. Templates:\n {2}c-ts /);
    expect(p.cli(['init', 'somewhere']).code).toBe(EXIT.usage);
  });
});
