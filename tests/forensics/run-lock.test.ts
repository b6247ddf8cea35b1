// A run.lock left by a run that died, whose pid the kernel has since given to an unrelated live
// process: the lock records when its holder process started, so the live stranger is not taken
// for the holder and the lock is taken over; a lock whose holder really runs is still respected.
// A `sleep` child stands in for the stranger (a live process with a pid of its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../src/run/run-lock.js';
import { TestProject, logged } from '../helpers/project.js';

const hasProc = existsSync('/proc/self/stat');

/** When a process started, in clock ticks since boot (field 22 of /proc/PID/stat). */
function processStartOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}
const strangers: ChildProcess[] = [];

function stranger(): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  strangers.push(child);
  return child.pid!;
}

afterEach(() => {
  for (const c of strangers.splice(0)) c.kill('SIGKILL');
});

function lockOf(pid: number, processStart: string | undefined) {
  return { pid, startedAt: '2024-01-01T00:00:00.000Z', argv: ['evidence', 'run'], host: hostname(), processStart };
}

describe.skipIf(!hasProc)('a run lock whose pid now belongs to another process', () => {
  it('records the holder process start time in the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-lock-'));
    const got = await acquireRunLock(dir, { argv: ['evidence', 'run'], wait: false });
    expect(got.ok).toBe(true);
    const written = JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8'));
    expect(written.processStart).toMatch(/^\d+$/);
    expect(written.processStart).toBe(processStartOf(process.pid));
    if (got.ok) got.lock.release();
  });

  it('takes over a lock whose pid is alive but started at another time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-lock-'));
    const pid = stranger();
    const start = processStartOf(pid);
    const dead = lockOf(pid, String(Number(start) - 1));
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(dead));
    const got = await acquireRunLock(dir, { argv: ['evidence', 'run'], wait: false });
    expect(got.ok).toBe(true);
    if (got.ok) {
      expect(got.tookOverFrom).toMatchObject({ pid, processStart: dead.processStart });
      got.lock.release();
    }
  });

  it('takes over a lock left by an earlier process that had this very pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-lock-'));
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(lockOf(process.pid, '1')));
    const got = await acquireRunLock(dir, { argv: ['evidence', 'run'], wait: false });
    expect(got.ok).toBe(true);
    if (got.ok) got.lock.release();
  });

  it('respects a lock whose pid is alive and started when the lock says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-lock-'));
    const pid = stranger();
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(lockOf(pid, processStartOf(pid))));
    const got = await acquireRunLock(dir, { argv: ['evidence', 'run'], wait: false });
    expect(got).toMatchObject({ ok: false, holder: { pid } });
  });

  it('evidence run takes over such a lock with a warning, and runs', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: '${logged('a', 'echo a > a.txt')}'\n    outs: [a.txt]\n` });
    const pid = stranger();
    p.write('.evidence/run.lock', JSON.stringify(lockOf(pid, String(Number(processStartOf(pid)) + 7))));
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`took over the run lock of evidence run pid ${pid}, started 2024-01-01T00:00:00.000Z \\(evidence run\\), which is no longer running`));
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.exists('.evidence/run.lock')).toBe(false);
  });

  it('evidence run still stops at a lock held by the live process that wrote it', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: '${logged('a', 'echo a > a.txt')}'\n    outs: [a.txt]\n` });
    const pid = stranger();
    p.write('.evidence/run.lock', JSON.stringify(lockOf(pid, processStartOf(pid))));
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`the project is busy: evidence run pid ${pid}`));
    expect(p.takeRuns()).toEqual([]);
  });
});
