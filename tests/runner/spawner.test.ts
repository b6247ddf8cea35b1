// Stage processes start through the spawner helper (dist/native/evidence-spawner) where it was
// built, else through node's spawn. Both ways must behave alike; each case runs both, on real
// processes. The helper's own failure modes (not built, killed mid-run) are checked at the end.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type ProcessSpec } from '../../src/run/process.js';
import { launchThroughHelper, spawnerBinary, spawnerPid, stopSpawner } from '../../src/run/spawner.js';
import { PARTIAL_SUFFIX } from '../../src/fs/atomic-write.js';
import { pidGone, waitFor } from '../helpers/processes.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-spawner-'));
});
afterAll(() => {
  stopSpawner();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function spec(cmd: string | string[], extra: Partial<ProcessSpec> = {}): ProcessSpec {
  n++;
  return {
    cmd,
    cwd: dir,
    env: { ...process.env },
    stdoutFile: join(dir, 'logs', `${n}.out`),
    stderrFile: join(dir, 'logs', `${n}.err`),
    signal: new AbortController().signal,
    graceMs: 500,
    ...extra,
  };
}

it('the helper was built (npm run build compiles it where cc exists, as on CI)', () => {
  expect(spawnerBinary()).toBeDefined();
});

describe.each(['helper', 'node'] as const)('starting stage processes through %s', (mode) => {
  const saved = process.env.EVIDENCE_SPAWNER;
  beforeAll(() => {
    stopSpawner();
    if (mode === 'node') process.env.EVIDENCE_SPAWNER = 'node';
    else delete process.env.EVIDENCE_SPAWNER;
  });
  afterAll(() => {
    stopSpawner();
    if (saved === undefined) delete process.env.EVIDENCE_SPAWNER;
    else process.env.EVIDENCE_SPAWNER = saved;
  });
  afterEach(() => {
    // The mode in use is the one asked for.
    if (mode === 'helper') expect(spawnerPid()).toBeDefined();
    else expect(spawnerPid()).toBeUndefined();
  });

  it('reports the exit code, writes the streams to their files, gives stdin as /dev/null', async () => {
    const s = spec('echo out; echo err >&2; cat; exit 7');
    const r = await runProcess(s);
    expect(r).toMatchObject({ exitCode: 7, signal: null, timedOut: false, aborted: false });
    expect(r.spawnError).toBeUndefined();
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe('out\n');
    expect(readFileSync(s.stderrFile, 'utf8')).toBe('err\n');
    expect(existsSync(`${s.stdoutFile}${PARTIAL_SUFFIX}`)).toBe(false);
  });

  it('one file for both streams when they are given the same path, in the order written', async () => {
    const s = spec('echo a; echo b >&2; echo c');
    s.stderrFile = s.stdoutFile;
    expect((await runProcess(s)).exitCode).toBe(0);
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe('a\nb\nc\n');
  });

  it('reports a signal by name, not as an exit code', async () => {
    const r = await runProcess(spec('kill -USR1 $$'));
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGUSR1' });
  });

  it('tells exit code 143 from SIGTERM', async () => {
    expect(await runProcess(spec('exit 143'))).toMatchObject({ exitCode: 143, signal: null });
  });

  it('runs in the given folder with exactly the given environment, finding argv commands on its PATH', async () => {
    const bin = join(dir, `bin-${mode}`);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'only-here'), '#!/bin/sh\necho "$PWD $ONLY_VAR ${HOME-unset}"\n');
    chmodSync(join(bin, 'only-here'), 0o755);
    const cwd = join(dir, `cwd-${mode}`);
    mkdirSync(cwd, { recursive: true });
    const s = spec(['only-here'], { cwd, env: { PATH: `${bin}:/usr/bin:/bin`, ONLY_VAR: 'v1' } });
    expect((await runProcess(s)).exitCode).toBe(0);
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe(`${cwd} v1 unset\n`);
  });

  it('gives each process a session and process group of its own, and resets ignored signals', async () => {
    let pid = 0;
    // The masks are read by the process itself (grep exec'd in the shell's place): read from
    // outside while the shell waits for its child, they can catch dash blocking every signal for
    // the moment between its wait's start and its sigsuspend (seen once in ~40 suite runs).
    const s = spec(`ps -o pid=,pgid=,sid= -p $$; exec grep -E '^Sig(Ign|Blk)' /proc/self/status`, { onSpawn: (p) => (pid = p) });
    expect((await runProcess(s)).exitCode).toBe(0);
    const [line, ...sigs] = readFileSync(s.stdoutFile, 'utf8').trim().split('\n');
    expect(line!.trim().split(/\s+/).map(Number)).toEqual([pid, pid, pid]);
    // Nothing ignored or blocked: a Ctrl-C the runner forwards as SIGINT reaches the command.
    for (const l of sigs) expect(l).toMatch(/:\s*0+$/);
  });

  it('a command that cannot start is a spawn error, with both capture files present and empty', async () => {
    const s = spec(['/no/such/command-here']);
    const r = await runProcess(s);
    expect(r.spawnError).toMatch(/ENOENT/);
    expect(r.exitCode).toBeNull();
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe('');
    expect(readFileSync(s.stderrFile, 'utf8')).toBe('');
  });

  it('an environment the kernel refuses (one variable over 128 kB) is a spawn error, not a crash', async () => {
    const s = spec('true', { env: { ...process.env, HUGE: 'x'.repeat(200_000) } });
    const r = await runProcess(s);
    expect(r.spawnError).toMatch(/E2BIG/);
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe('');
  });

  it('a missing working folder is a spawn error', async () => {
    const r = await runProcess(spec('true', { cwd: join(dir, 'not-there') }));
    expect(r.spawnError).toMatch(/ENOENT/);
  });

  it('a timeout ends the whole group, grandchildren included', async () => {
    const pidFile = join(dir, `grandchild-${mode}`);
    const r = await runProcess(spec(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 }));
    expect(r.timedOut).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => pidGone(grandchild), 5000, 'the grandchild to end');
  });

  it('an abort ends it with SIGTERM', async () => {
    const ac = new AbortController();
    const running = runProcess(spec('sleep 30', { signal: ac.signal, onSpawn: () => setTimeout(() => ac.abort(), 50) }));
    const r = await running;
    expect(r).toMatchObject({ aborted: true, signal: 'SIGTERM' });
  });

  it('runs many at once and matches each end to its process', async () => {
    const specs = Array.from({ length: 24 }, (_, i) => spec(`sleep 0.0${i % 7}; exit ${i}`));
    const results = await Promise.all(specs.map((s) => runProcess(s)));
    expect(results.map((r) => r.exitCode)).toEqual(specs.map((_, i) => i));
  });
});

describe('the helper and the group record', () => {
  afterEach(() => stopSpawner());

  it('appends the started group, with its start time, right after it answers', async () => {
    stopSpawner();
    delete process.env.EVIDENCE_SPAWNER;
    const recordFile = join(dir, 'groups.log');
    writeFileSync(recordFile, '-1\n');
    const launched = await launchThroughHelper({ file: '/bin/sh', args: ['-c', 'sleep 5'], cwd: dir, env: process.env, stdoutPath: join(dir, 'r.out'), stderrPath: join(dir, 'r.out'), recordFile });
    if (!launched || !('pid' in launched)) throw new Error(`not started: ${JSON.stringify(launched)}`);
    // Written before the helper reads anything more: a runner killed now still leaves the group recorded.
    await waitFor(() => readFileSync(recordFile, 'utf8').includes('+'), 5000, 'the record');
    const log = readFileSync(recordFile, 'utf8');
    const stat = readFileSync(`/proc/${launched.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    expect(log).toBe(`-1\n+${launched.pid} ${start}\n`);
    expect(launched.recorded).toBe(true);
    process.kill(-launched.pid, 'SIGKILL');
    expect(await launched.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });
});

describe('the helper on its own', () => {
  it('records a group it started even when the runner is gone before the answer', async () => {
    const recordFile = join(dir, 'gone-runner.log');
    const helper = spawn(spawnerBinary()!, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    // The runner's side of the answers is closed before anything is written to it.
    helper.stdout!.destroy();
    const env = ['PATH=/usr/bin:/bin'];
    const fields = [recordFile, dir, join(dir, 'g.out'), join(dir, 'g.out'), '3', '/bin/sh', '-c', 'sleep 30', String(env.length), ...env];
    helper.stdin!.end(fields.join('\0') + '\0');
    await new Promise((resolve) => helper.on('exit', resolve));
    const m = /^\+([0-9]+) ([0-9]+)\n$/.exec(readFileSync(recordFile, 'utf8'));
    expect(m).not.toBeNull();
    const pid = Number(m![1]);
    expect(pidGone(pid)).toBe(false);
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => pidGone(pid), 5000, 'the recorded group to end');
  });
});

describe('when the helper fails', () => {
  afterEach(() => stopSpawner());

  it('a helper killed while a stage runs: that stage fails as unobserved, its group is ended, the next starts through node', async () => {
    stopSpawner();
    delete process.env.EVIDENCE_SPAWNER;
    const pidFile = join(dir, 'lost-child');
    const running = runProcess(spec(`echo $$ > ${pidFile}; sleep 30`, { graceMs: 200 }));
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 5000, 'the stage to start');
    const helperPid = spawnerPid()!;
    expect(helperPid).toBeDefined();
    process.kill(helperPid, 'SIGKILL');
    const r = await running;
    expect(r.lost).toMatch(/evidence-spawner ended/);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => pidGone(child), 5000, 'the stage process to be ended');
    const next = spec('exit 3');
    expect(await runProcess(next)).toMatchObject({ exitCode: 3 });
    expect(spawnerPid()).toBeUndefined();
  });

  it('a helper that cannot run (exits at once, or cannot be executed) leaves stages to node\'s spawn', async () => {
    stopSpawner();
    const broken = join(dir, 'broken-spawner');
    writeFileSync(broken, '#!/bin/sh\nexit 1\n');
    chmodSync(broken, 0o755);
    // Cannot be executed at all (its interpreter is missing), as a build for another machine.
    const notExecutable = join(dir, 'cannot-exec');
    writeFileSync(notExecutable, '#!/no/such/interpreter\n');
    chmodSync(notExecutable, 0o755);
    try {
      for (const helperFile of [broken, notExecutable]) {
        process.env.EVIDENCE_SPAWNER = helperFile;
        stopSpawner();
        const s = spec('echo through node; exit 4');
        expect(await runProcess(s)).toMatchObject({ exitCode: 4, signal: null });
        expect(readFileSync(s.stdoutFile, 'utf8')).toBe('through node\n');
        expect(spawnerPid()).toBeUndefined();
      }
    } finally {
      delete process.env.EVIDENCE_SPAWNER;
    }
  });

  it('a helper that worked and dies before answering: that stage fails, and is not started a second time through node', async () => {
    stopSpawner();
    // Answers its first request (cannot start: ENOENT), dies on the second without a word.
    const fake = join(dir, 'dies-on-second');
    writeFileSync(fake, `#!${process.execPath}\nlet n = 0;\nprocess.stdin.on('data', () => { if (++n === 1) process.stdout.write('E 2\\n'); else process.exit(1); });\n`);
    chmodSync(fake, 0o755);
    const marker = join(dir, 'ran-twice');
    process.env.EVIDENCE_SPAWNER = fake;
    try {
      expect((await runProcess(spec(['/no/such/program']))).spawnError).toMatch(/ENOENT/);
      const r = await runProcess(spec(`touch ${marker}`));
      expect(r.lost).toMatch(/before it said whether the process had started/);
      expect(r.spawnError).toBeUndefined();
      expect(existsSync(marker)).toBe(false);
    } finally {
      delete process.env.EVIDENCE_SPAWNER;
    }
  });

  it('ends with its stdin: a runner that dies leaves no helper behind', async () => {
    stopSpawner();
    delete process.env.EVIDENCE_SPAWNER;
    await runProcess(spec('true'));
    const helperPid = spawnerPid()!;
    stopSpawner();
    await waitFor(() => pidGone(helperPid), 5000, 'the helper to exit');
  });
});
