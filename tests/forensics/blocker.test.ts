// The blocker: after a failed run it records the attempt (command, env, exit, full output), the
// working tree's changes as a patch that applies to a clean clone, blocker.json and a notes
// section, for every kind of failure; and it never hides the original failure.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestProject } from '../helpers/project.js';
import { validateAgainst } from '../../src/schema/validate.js';
import { REPO_ROOT } from '../helpers/project.js';

const BLOCKER_SCHEMA = join(REPO_ROOT, 'schemas', 'blocker.schema.json');

function blockerJson(p: TestProject, dir: string): Record<string, any> {
  const rec = JSON.parse(p.read(`${dir}/blocker.json`));
  expect(validateAgainst(BLOCKER_SCHEMA, rec)).toEqual([]);
  return rec;
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const HARNESS = `import sys
print("pixel", sys.argv[2], flush=True)
def load(path):
    raise FileNotFoundError(f"no such HKL file: {path}")
try:
    load("P1.hkl")
except FileNotFoundError as e:
    raise RuntimeError("harness cannot start") from e
`;

describe('the blocker', () => {
  it('records a Python failure: the attempt log, a patch that applies to a clean clone, blocker.json and a notes section', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
env: { LC_NUMERIC: C, OMP_NUM_THREADS: "1" }
blocker: { uses: blocker }
stages:
  harness:
    cmd: python3 harness.py --pixel 685
    env: { PHI_STEPS: "10" }
    outs: [reports/harness/trace.json]
`,
      'harness.py': HARNESS,
      'src/port.py': 'def phi(): return 0.1\n',
      'reports/harness/notes.md': '# Notes\n\nHand-written, no trailing newline',
      '.gitignore': 'scratch/\n',
    });
    p.initGit();
    const head = p.git('rev-parse', 'HEAD').trim();
    // Work in progress: a tracked edit, an untracked text file, an untracked binary file, an ignored file.
    p.write('src/port.py', 'def phi(): return 0.2  # fixed sign\n');
    p.write('src/helper.py', 'HELP = 1\n');
    writeFileSync(p.path('src/table.bin'), Buffer.from([0, 1, 2, 255, 0, 10, 13, 0]));
    p.write('scratch/big.tmp', 'ignored\n');
    const notesBefore = readFileSync(p.path('reports/harness/notes.md'));

    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ harness failed: exited with code 1/);
    expect(r.stdout).toMatch(/blocker recorded the failure of harness: reports\/harness\/attempt_failed\.log, reports\/harness\/harness_blocker\.patch, reports\/harness\/blocker\.json, reports\/harness\/notes\.md/);

    const log = p.read('reports/harness/attempt_failed.log');
    expect(log).toContain('command:   python3 harness.py --pixel 685');
    expect(log).toContain(`cwd:       ${p.dir}`);
    expect(log).toMatch(/ {2}LC_NUMERIC=C\n {2}OMP_NUM_THREADS=1\n {2}PHI_STEPS=10\n/);
    expect(log).toContain('exit code: 1');
    expect(log).toMatch(/duration: {2}\d+\.\d\d s/);
    expect(log).toContain('----- stdout (10 bytes) -----\npixel 685\n');
    expect(log).toContain('FileNotFoundError: no such HKL file: P1.hkl');
    expect(log).toContain('RuntimeError: harness cannot start');

    const rec = blockerJson(p, 'reports/harness');
    expect(rec).toMatchObject({
      stage: 'harness',
      reason: 'exit-code',
      exitCode: 1,
      signal: null,
      command: 'python3 harness.py --pixel 685',
      gitSha: head,
      log: 'reports/harness/attempt_failed.log',
      patch: 'reports/harness/harness_blocker.patch',
      notes: 'reports/harness/notes.md',
      env: { LC_NUMERIC: 'C', OMP_NUM_THREADS: '1', PHI_STEPS: '10' },
    });
    expect(rec.traceback.kind).toBe('python');
    expect(rec.traceback.text).toMatch(/^Traceback \(most recent call last\):\n[\s\S]*RuntimeError: harness cannot start$/);
    expect(rec.traceback.text).not.toContain('FileNotFoundError:');

    const notes = readFileSync(p.path('reports/harness/notes.md'));
    expect(notes.subarray(0, notesBefore.length).equals(notesBefore)).toBe(true);
    const section = notes.subarray(notesBefore.length).toString('utf8');
    expect(section).toMatch(/^\n\n## \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — stage `harness` failed \(exit-code\)\n/);
    expect(section).toContain('```\npython3 harness.py --pixel 685\n```');
    expect(section).toContain('RuntimeError: harness cannot start\n```');

    // The patch holds the work in progress and nothing of the runner or the blocker.
    const patch = p.read('reports/harness/harness_blocker.patch');
    const touchedBy = (text: string) => [...text.matchAll(/^diff --git a\/(\S+) /gm)].map((m) => m[1]);
    expect(touchedBy(patch)).toEqual(['src/helper.py', 'src/port.py', 'src/table.bin']);
    expect(patch).toContain('GIT binary patch');
    expect(rec.patchFiles).toEqual(['src/helper.py', 'src/port.py', 'src/table.bin']);
    expect(rec.patchOmitted).toEqual([]);
    expect(rec.notesAppended).toBe(true);
    // The user's own index is untouched: the untracked files are still untracked.
    expect(p.git('status', '--porcelain', '--', 'src')).toContain('?? src/helper.py');

    const clone = join(mkdtempSync(join(tmpdir(), 'evidence-clone-')), 'c');
    git(tmpdir(), 'clone', '-q', p.dir, clone);
    expect(git(clone, 'rev-parse', 'HEAD').trim()).toBe(head);
    git(clone, 'apply', '--check', p.path('reports/harness/harness_blocker.patch'));
    git(clone, 'apply', p.path('reports/harness/harness_blocker.patch'));
    for (const f of ['src/port.py', 'src/helper.py', 'src/table.bin']) {
      expect(readFileSync(join(clone, f)).equals(readFileSync(p.path(f))), f).toBe(true);
    }

    // The same failure again: the record and the patch are rewritten, the notes are not appended to.
    const afterFirst = readFileSync(p.path('reports/harness/notes.md'));
    expect(p.cli(['run']).code).toBe(1);
    expect(readFileSync(p.path('reports/harness/notes.md')).equals(afterFirst)).toBe(true);
    const again = blockerJson(p, 'reports/harness');
    expect(again.notesAppended).toBe(false);
    expect(again.time).not.toBe(rec.time);
    // Its patch leaves out the notes of the first failure too: they are the blocker's.
    expect(touchedBy(p.read('reports/harness/harness_blocker.patch'))).toEqual(['src/helper.py', 'src/port.py', 'src/table.bin']);

    // Another failure of the same stage gets its own section, earlier bytes kept.
    p.write('harness.py', HARNESS.replace('harness cannot start', 'harness still cannot start'));
    expect(p.cli(['run']).code).toBe(1);
    const afterThird = readFileSync(p.path('reports/harness/notes.md'));
    expect(afterThird.subarray(0, afterFirst.length).equals(afterFirst)).toBe(true);
    expect(afterThird.toString().match(/^## .* failed \(exit-code\)$/gm)).toHaveLength(2);
    expect(afterThird.toString()).toContain('RuntimeError: harness still cannot start');
    expect(blockerJson(p, 'reports/harness').notesAppended).toBe(true);
  });

  const reasons: Array<{ what: string; reason: string; files?: Record<string, string>; stage: string; args?: string[]; check?: (rec: Record<string, any>) => void }> = [
    {
      what: 'a stage killed by a signal',
      reason: 'signal',
      stage: `cmd: "echo about to crash; kill -SEGV $$"`,
      check: (rec) => {
        expect(rec.signal).toBe('SIGSEGV');
        expect(rec.exitCode).toBeNull();
        expect(rec.traceback.text).toContain('(process ended by SIGSEGV: Segmentation fault)');
      },
    },
    {
      what: 'a stage over its timeout',
      reason: 'timeout',
      stage: `cmd: "echo slow; sleep 30"\n    timeout: 0.5`,
      args: ['--grace', '1'],
      check: (rec) => {
        expect(rec.message).toBe('timed out after 0.5 s');
        // Ended by the runner (SIGTERM to its group), not by the command's own 30 s sleep.
        expect(rec.signal).toBe('SIGTERM');
        expect(rec.exitCode).toBeNull();
      },
    },
    {
      what: 'an out that breaks its schema',
      reason: 'schema',
      files: { 'out.schema.json': '{"type":"object","required":["phi"],"properties":{"phi":{"type":"number"}}}' },
      stage: `cmd: "echo '{\\"phi\\": \\"nan\\"}' > reports/s/out.json"\n    outs: [{ path: reports/s/out.json, schema: out.schema.json }]`,
      check: (rec) => expect(rec.message).toMatch(/out 'reports\/s\/out.json' breaks out.schema.json: \/phi must be number/),
    },
    {
      what: 'a missing declared out',
      reason: 'missing-out',
      stage: `cmd: "true"\n    outs: [reports/s/never.json]`,
      check: (rec) => expect(rec.message).toBe('did not produce declared out: reports/s/never.json'),
    },
    {
      what: 'a missing required trace key (parse-trace)',
      reason: 'require',
      files: { 'c.log': 'TRACE_C: omega 0.5\nTRACE_C: phi_tic 0\n' },
      stage: `uses: parse-trace\n    with: { input: c.log, require: [omega, F_latt] }\n    outs: [reports/s/c.trace.json]`,
      check: (rec) => {
        expect(rec.message).toMatch(/required key 'F_latt' not found in c.log/);
        expect(rec.traceback.text).toMatch(/required key 'F_latt'/);
      },
    },
    {
      what: "a script's duck-typed require failure",
      reason: 'require',
      files: {
        'check.mjs': `export async function run() { throw Object.assign(new Error("required key 'phi' holds only NaN"), { name: 'StageFailure', reason: 'require' }); }\n`,
      },
      stage: `uses: ./check.mjs\n    outs: [reports/s/x.json]`,
      check: (rec) => expect(rec.message).toBe("required key 'phi' holds only NaN"),
    },
    {
      what: 'a script that throws',
      reason: 'exception',
      files: { 'boom.mjs': `export async function run() { JSON.parse('{nope'); }\n` },
      stage: `uses: ./boom.mjs\n    outs: [reports/s/x.json]`,
      check: (rec) => {
        expect(rec.traceback.kind).toBe('node');
        expect(rec.traceback.text).toMatch(/^SyntaxError: .*JSON[\s\S]*\n {4}at /);
      },
    },
  ];
  for (const c of reasons) {
    it(`runs for ${c.what}, with reason '${c.reason}'`, () => {
      const p = new TestProject({
        'pipeline.yaml': `version: 1\nblocker: { uses: blocker, with: { dir: 'reports/{stage}-blocker' } }\nstages:\n  s:\n    ${c.stage}\n`,
        ...(c.files ?? {}),
      });
      const r = p.cli(['run', ...(c.args ?? [])]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/blocker recorded the failure of s/);
      const rec = blockerJson(p, 'reports/s-blocker');
      expect(rec.reason).toBe(c.reason);
      expect(rec.stage).toBe('s');
      // Not a git repository: no patch, and the record says why.
      expect(rec.patch).toBeNull();
      expect(rec.patchNote).toMatch(/not a git repository/);
      expect(p.read('reports/s-blocker/notes.md')).toMatch(new RegExp(`stage \`s\` failed \\(${c.reason}\\)`));
      c.check?.(rec);
    });
  }

  it('hands a user script blocker the failure, and a failing blocker never hides the original failure', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
blocker: { uses: ./my-blocker.mjs, with: { to: failure.json } }
stages:
  a:
    cmd: "echo oops >&2; exit 3"
    outs: [a.txt]
`,
      'my-blocker.mjs': `import { writeFileSync } from 'node:fs';
export async function run(ctx) {
  writeFileSync(ctx.with.to, JSON.stringify({ stage: ctx.failure.stage, reason: ctx.failure.reason, exitCode: ctx.failure.exitCode, stderr: ctx.failure.stderr }));
  if (process.env.BLOCKER_FAILS) throw new Error('disk full');
  return { artifacts: [ctx.with.to] };
}
`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/blocker recorded the failure of a: failure\.json/);
    expect(JSON.parse(p.read('failure.json'))).toEqual({ stage: 'a', reason: 'exit-code', exitCode: 3, stderr: 'oops\n' });

    const r2 = p.cli(['run'], { BLOCKER_FAILS: '1' });
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/✗ a failed: exited with code 3/);
    expect(r2.stdout).toMatch(/blocker failed for a: disk full/);
    expect(r2.stdout).toMatch(/FAILED: 1 failed/);
  });

  it('does not run when nothing failed', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nblocker: { uses: blocker }\nstages:\n  a:\n    cmd: "echo ok > a.txt"\n    outs: [a.txt]\n`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/blocker/);
    expect(p.exists('reports')).toBe(false);
  });
});
