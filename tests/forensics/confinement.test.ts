// Outs stay inside the project whatever the file system holds at run time: a symlink planted by an
// upstream stage, or made by the stage itself, never lets an out be written or recorded outside.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TestProject, logged } from '../helpers/project.js';

function outside(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
  writeFileSync(join(dir, 'private.txt'), 'private content\n');
  return dir;
}

function recorded(p: TestProject): string {
  const lock = p.exists('evidence.lock') ? p.read('evidence.lock') : '';
  const history = p.exists('.evidence/history.jsonl') ? p.read('.evidence/history.jsonl') : '';
  return lock + history;
}

describe('outs that escape the project through symlinks', () => {
  it('fails a stage whose out lies under a symlink an upstream stage planted; nothing is written outside or recorded', () => {
    const away = outside();
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  plant:
    cmd: 'ln -s "$AWAY" reports && echo planted > plant.txt'
    outs: [plant.txt]
  write:
    cmd: '${logged('write', 'echo leaked > reports/secret.txt')}'
    deps: [plant.txt]
    outs: [reports/secret.txt]
`,
    });
    const r = p.cli(['run'], { AWAY: away });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ write failed: out 'reports\/secret\.txt' resolves outside the project \(reports → /);
    expect(existsSync(join(away, 'secret.txt'))).toBe(false);
    expect(p.takeRuns()).toEqual([]);
    expect(recorded(p)).not.toMatch(/secret/);
  });

  const own = [
    { what: 'a file out that is a symlink to a file outside', cmd: 'touch "$AWAY/private.txt" && ln -s "$AWAY/private.txt" copy.txt', out: 'copy.txt', names: 'copy.txt' },
    { what: 'a folder out holding a symlink to a file outside', cmd: 'touch "$AWAY/private.txt" && mkdir -p out && echo mine > out/a.txt && ln -s "$AWAY/private.txt" out/b.txt', out: 'out', names: 'out/b.txt' },
  ];
  for (const c of own) {
    it(`fails a stage that makes ${c.what}; its content is neither stored nor recorded`, () => {
      const away = outside();
      const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  grab:\n    cmd: '${c.cmd}'\n    outs: [${c.out}]\n` });
      const r = p.cli(['run'], { AWAY: away });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`✗ grab failed: out '${c.names.replace('.', '\\.')}' resolves outside the project`));
      expect(recorded(p)).not.toMatch(/grab|copy\.txt|out\/b\.txt/);
      const hash = createHash('sha256').update(readFileSync(join(away, 'private.txt'))).digest('hex');
      expect(p.exists(`.evidence/cache/objects/${hash.slice(0, 2)}/${hash.slice(2)}`)).toBe(false);
      // Not up to date (for the file out the loader itself now refuses the link: exit 2).
      expect(p.cli(['status', '--check']).code).not.toBe(0);
    });
  }

  it('still accepts symlinks that stay inside the project', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  link:\n    cmd: 'mkdir -p runs/3 && echo r3 > runs/3/result.txt && ln -sfn runs/3 latest'\n    outs: [runs, latest]\n`,
    });
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.cli(['run']).stdout).toMatch(/link up to date/);
  });
});

describe("the blocker's folders stay in the project", () => {
  it('refuses a dir outside the project when pipeline.yaml loads, at its line and column', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nblocker: { uses: blocker, with: { dir: ../blockers } }\nstages:\n  s: { cmd: 'exit 1', outs: [s.txt] }\n` });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/pipeline\.yaml:2:\d+: error: with\.dir of the blocker '\.\.\/blockers' escapes the project root/);
  });

  it('refuses a {stage} folder that a stage made a link to outside: nothing written there, the original failure kept', () => {
    const away = outside();
    const p = new TestProject({
      'pipeline.yaml': `version: 1
blocker: { uses: blocker, with: { dir: 'reports/{stage}' } }
stages:
  s:
    cmd: 'mkdir -p reports && ln -s "$AWAY" reports/s; exit 1'
    outs: [s.txt]
`,
    });
    const r = p.cli(['run'], { AWAY: away });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ s failed: exited with code 1/);
    expect(r.stdout).toMatch(/blocker failed for s: the blocker's dir 'reports\/s' leads outside the project/);
    expect(existsSync(join(away, 'blocker.json'))).toBe(false);
    expect(existsSync(join(away, 'attempt_failed.log'))).toBe(false);
  });
});
