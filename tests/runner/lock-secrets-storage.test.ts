// evidence.lock is committed and status is printed: neither carries a secret. A lock of the wrong
// shape or an unreadable one is warned about and rebuilt, never a crash. A read-only checkout
// still answers status, and a run there says what it could not write instead of crashing.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, TestProject } from '../helpers/project.js';

const SECRETS = ['sk-LIVE-4242', 'PASSw0rd', 'hunter2', 'tok-9f8e7d'];

function secretProject(apiKey = 'sk-LIVE-4242'): TestProject {
  return new TestProject({
    'pipeline.yaml': `version: 1
params: { token: tok-9f8e7d, pixel: 7 }
env: { API_KEY: ${apiKey}, DB_URL: "postgres://user:PASSw0rd@db.local/runs", LC_NUMERIC: C }
stages:
  fetch:
    cmd: ['sh', '-c', 'echo "$1 $2" > out.txt', 'sh', '--password=hunter2', '\${params.token}']
    outs: [out.txt]
  use:
    cmd: 'echo \${params.pixel} > use.txt'
    outs: [use.txt]
`,
  });
}

describe('secrets in the lock and in status', () => {
  it('keeps digests of secret values in evidence.lock, never the values, and keeps the rest readable', () => {
    const p = secretProject();
    expect(p.cli(['run']).code).toBe(0);
    const lock = p.read('evidence.lock');
    for (const s of SECRETS) expect(lock, s).not.toContain(s);
    expect(lock).toMatch(/API_KEY: "?sha256:[0-9a-f]{16} \(secret\)"?/);
    expect(lock).toMatch(/LC_NUMERIC: C/);
    expect(lock).toMatch(/pixel: 7/);
  });

  it('says in status that a secret changed, without its old or new value', () => {
    const p = secretProject();
    expect(p.cli(['run']).code).toBe(0);
    p.write('pipeline.yaml', p.read('pipeline.yaml').replace('sk-LIVE-4242', 'sk-LIVE-5353').replace('pixel: 7', 'pixel: 8'));
    const st = p.cli(['status']);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/fetch\s+would run: .*env API_KEY changed(;|$)/m);
    expect(st.stdout).toMatch(/param pixel changed \(7 → 8\)/);
    for (const s of [...SECRETS, 'sk-LIVE-5353']) expect(st.stdout + st.stderr, s).not.toContain(s);
  });
});

describe('a damaged evidence.lock', () => {
  for (const [what, text] of [
    ['of the wrong shape', 'version: 1\nstages: { a: { fingerprint: "x", outs: 7, env: 5, params: 3 } }\n'],
    ['that is not YAML', 'version: 1\nstages: {{{ ]\n'],
  ] as const) {
    it(`is warned about and rebuilt when it is ${what}`, () => {
      const p = new TestProject({ 'pipeline.yaml': "version: 1\nstages:\n  a: { cmd: 'echo a > a.txt', outs: [a.txt] }\n", 'evidence.lock': text });
      const st = p.cli(['status']);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stderr).toMatch(/warning: evidence\.lock: .*ignored and rebuilt/);
      expect(st.stderr).not.toMatch(/internal error/);
      const run = p.cli(['run']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/evidence\.lock: .*ignored and rebuilt/);
      expect(p.cli(['status']).stdout).toMatch(/a\s+up to date/);
      expect(p.read('evidence.lock')).toMatch(/fingerprint: /);
    });
  }
});

/** Runs the CLI with the project mounted read-only in a private mount namespace, or says why it cannot. */
function cliReadOnly(p: TestProject, args: string[]): { code: number | null; stdout: string; stderr: string } | string {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind -o ro "${p.dir}" "${p.dir}" && true`], { encoding: 'utf8' });
  if (probe.status !== 0) return `no private read-only mount here: ${probe.stderr.trim()}`;
  const script = `mount --bind -o ro "$0" "$0" && cd "$0" && exec "$1" "$2" "$@"`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script.replace('"$@"', args.map((a) => `'${a}'`).join(' ')), p.dir, process.execPath, CLI], {
    encoding: 'utf8',
    env: p.env(),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a read-only checkout', () => {
  it('answers status, and a run says what it cannot write instead of crashing', (ctx) => {
    const p = new TestProject({ 'pipeline.yaml': "version: 1\nstages:\n  a: { cmd: 'echo a > a.txt', outs: [a.txt] }\n" });
    expect(p.cli(['run']).code).toBe(0);
    const st = cliReadOnly(p, ['status']);
    if (typeof st === 'string') return ctx.skip(st);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/a\s+up to date/);
    const run = cliReadOnly(p, ['run', '--force']);
    if (typeof run === 'string') return ctx.skip(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot write .*read-only \(EROFS\)/);
    expect(run.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });
});
