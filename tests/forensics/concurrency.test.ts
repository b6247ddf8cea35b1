// Two runs in one project: the second stops at once naming the holder (exit 1) or, with --wait,
// waits its turn; the cache is consistent afterwards; a lock left by a dead process is taken over.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TestProject, logged } from '../helpers/project.js';
import { exitOf, waitFor } from '../helpers/processes.js';

const PIPELINE = `version: 1
stages:
  a:
    cmd: '${logged('a', 'i=0; while [ ! -f "$GO" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo a > a.txt')}'
    outs: [a.txt]
  b:
    cmd: '${logged('b', 'cat a.txt > b.txt')}'
    deps: [a.txt]
    outs: [b.txt]
`;

/**
 * Stage a holds its run open until the test creates this file (or 30 s pass), so that a second
 * run meets a first one still running, however slowly the machine starts processes.
 */
function gate(p: TestProject): { GO: string } {
  return { GO: join(p.dir, '..', 'go') };
}

function openGate(p: TestProject): void {
  writeFileSync(gate(p).GO, '');
}

/** Collects a child's stdout as it arrives. */
function stdoutOf(child: ReturnType<TestProject['spawnCli']>): () => string {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

describe('concurrent runs', () => {
  it('two runs started at once: one runs, the other stops at once naming the holder; a third run finds everything up to date', async () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE });
    const first = p.spawnCli(['run'], gate(p));
    const second = p.spawnCli(['run'], gate(p));
    const exits = [exitOf(first), exitOf(second)];
    // The one that stops at once is done before the gate opens; the other is held in stage a.
    await Promise.race(exits);
    openGate(p);
    const [r1, r2] = await Promise.all(exits);
    const winner = r1.code === 0 ? { r: r1, pid: first.pid } : { r: r2, pid: second.pid };
    const loser = r1.code === 0 ? r2 : r1;
    expect([r1.code, r2.code].sort()).toEqual([0, 1]);
    expect(loser.stderr).toMatch(new RegExp(`the project is busy: evidence run pid ${winner.pid}, started \\d{4}-\\d\\d-\\d\\dT[^ ]+ \\(evidence run\\) holds .*run\\.lock`));
    expect(loser.stderr).toMatch(/--wait/);
    expect(loser.stdout).not.toMatch(/started/);
    expect(p.takeRuns()).toEqual(['a', 'b']);
    expect(p.exists('.evidence/run.lock')).toBe(false);

    const third = p.cli(['run'], gate(p));
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/a up to date[\s\S]*b up to date/);
    expect(p.takeRuns()).toEqual([]);
    expect(p.cli(['status', '--check']).code).toBe(0);
  });

  it('with --wait the second run waits for the first, then finds its work done', async () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE });
    const first = p.spawnCli(['run', '--wait'], gate(p));
    const firstDone = exitOf(first);
    await waitFor(() => p.exists('.evidence/run.lock'), 10_000, 'the first run to take the lock');
    const second = p.spawnCli(['run', '--wait'], gate(p));
    const secondOut = stdoutOf(second);
    const secondDone = exitOf(second);
    await waitFor(() => /waiting for evidence run pid/.test(secondOut()), 20_000, 'the second run to wait for the first');
    openGate(p);
    const [r1, r2] = await Promise.all([firstDone, secondDone]);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(new RegExp(`waiting for evidence run pid ${first.pid}, started .* to finish`));
    expect(r2.stdout).toMatch(/a up to date[\s\S]*b up to date/);
    expect(p.takeRuns()).toEqual(['a', 'b']);
    expect(p.read('b.txt')).toBe('a\n');
    expect(p.cli(['status', '--check']).code).toBe(0);
  });

  it('takes over a lock whose holder is dead, without a manual unlock', () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE });
    const dead = spawnSync('true').pid!;
    p.write('.evidence/run.lock', JSON.stringify({ pid: dead, startedAt: '2024-01-01T00:00:00.000Z', argv: ['evidence', 'run'], host: hostname() }));
    openGate(p);
    const r = p.cli(['run'], gate(p));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`took over the run lock of evidence run pid ${dead}, started 2024-01-01T00:00:00.000Z \\(evidence run\\), which is no longer running`));
    expect(p.takeRuns()).toEqual(['a', 'b']);
    expect(p.exists('.evidence/run.lock')).toBe(false);
  });

  it('a live holder stops the run with exit 1; with --wait it proceeds once the holder lets go', async () => {
    const p = new TestProject({ 'pipeline.yaml': PIPELINE });
    // This test process stands in for a live run.
    p.write('.evidence/run.lock', JSON.stringify({ pid: process.pid, startedAt: '2024-01-01T00:00:00.000Z', argv: ['evidence', 'run', 'b'], host: hostname() }));
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`busy: evidence run pid ${process.pid}, started 2024-01-01T00:00:00.000Z \\(evidence run b\\)`));
    expect(p.takeRuns()).toEqual([]);
    // status, dag and validate do not need the lock.
    expect(p.cli(['status']).code).toBe(0);
    expect(p.cli(['validate']).code).toBe(0);

    openGate(p);
    const waiting = p.spawnCli(['run', '--wait'], gate(p));
    const waitingOut = stdoutOf(waiting);
    const done = exitOf(waiting);
    // Seen waiting (not merely not yet started): nothing may have run.
    await waitFor(() => new RegExp(`waiting for evidence run pid ${process.pid}`).test(waitingOut()), 20_000, 'the run to wait for the holder');
    expect(p.takeRuns()).toEqual([]);
    p.remove('.evidence/run.lock');
    const w = await done;
    expect(w.code, w.stdout + w.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['a', 'b']);
  });
});
