// Interrupts, timeouts and kill -9: every process of a stage's group is gone within the grace
// period (grandchildren and SIGTERM-ignoring ones included), the run exits 130 and is recorded as
// interrupted, and a run killed outright leaves nothing that the next run trusts.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { TestProject, logged } from '../helpers/project.js';
import { exitOf, killAll, pidGone, pidsIn, waitFor } from '../helpers/processes.js';

const leftovers: number[] = [];
afterEach(() => {
  killAll(leftovers.splice(0));
});

function pidFile(p: TestProject): string {
  return join(p.dir, '..', 'pids.txt');
}

describe('interrupts', () => {
  it('Ctrl-C ends every process of a running stage, grandchildren included, within the grace period; exit 130', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  spawner:
    cmd: 'sleep 100 & echo $! >> "$PIDS"; sleep 100 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait'
    outs: [never.txt]
  after:
    cmd: "echo after > after.txt"
    deps: [never.txt]
    outs: [after.txt]
`,
    });
    const pids = pidFile(p);
    // A grace period far longer than ending these processes takes: finishing before it ends shows
    // that SIGTERM ended them, without a bound that depends on the machine's speed.
    const grace = 30;
    const child = p.spawnCli(['run', '--grace', String(grace)], { PIDS: pids });
    const exited = exitOf(child);
    await waitFor(() => pidsIn(pids).length === 3, 45_000, 'the stage to start its processes');
    leftovers.push(...pidsIn(pids));
    const sent = Date.now();
    child.kill('SIGINT');
    const r = await exited;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(grace * 1000);
    for (const pid of pidsIn(pids)) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(r.stdout).toMatch(/spawner failed: interrupted/);
    expect(r.stdout).toMatch(/after not run: upstream 'spawner' failed/);
    expect(r.stdout).toMatch(/^interrupted: /m);
    const runs = readFileSync(p.path('.evidence/runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs.at(-1)).toMatchObject({ status: 'interrupted', failed: [{ stage: 'spawner', reason: 'interrupted' }] });
    expect(p.exists('.evidence/run.lock')).toBe(false);
  });

  // Each process writes its pid only once it ignores SIGTERM (an ignored signal stays ignored
  // across fork and exec), so the test can send it as soon as every pid is there.
  const stubborn = [
    { what: 'a stage that ignores SIGTERM', cmd: `trap '' TERM; echo $$ >> "$PIDS"; sleep 100` },
    { what: 'a grandchild that ignores SIGTERM after its parent died of it', cmd: `sh -c 'trap "" TERM; echo $$ >> "$PIDS"; exec sleep 100' & echo $$ >> "$PIDS"; sleep 100` },
  ];
  for (const c of stubborn) {
    it(`SIGTERM to evidence: ${c.what} is SIGKILLed once --grace has passed`, async () => {
      const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  s:\n    cmd: ${JSON.stringify(c.cmd)}\n    outs: [s.txt]\n` });
      const pids = pidFile(p);
      const expected = c.cmd.split('"$PIDS"').length - 1;
      const child = p.spawnCli(['run', '--grace', '1'], { PIDS: pids });
      const exited = exitOf(child);
      await waitFor(() => pidsIn(pids).length === expected, 45_000, 'the stage to start');
      leftovers.push(...pidsIn(pids));
      const sent = Date.now();
      child.kill('SIGTERM');
      const r = await exited;
      const took = Date.now() - sent;
      expect(r.code, r.stdout + r.stderr).toBe(130);
      expect(took).toBeGreaterThanOrEqual(900); // the grace period was granted
      // Long before the 100 s sleeps would end: they were killed once the grace had passed, not
      // waited for. (How soon after the grace is the machine's business, not this test's.)
      expect(took).toBeLessThan(30_000);
      for (const pid of pidsIn(pids)) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    });
  }

  it("a stage over its timeout loses its whole group and fails with reason 'timeout'", async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  slow:
    cmd: 'sleep 100 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait'
    timeout: 1s
    outs: [slow.txt]
`,
    });
    const pids = pidFile(p);
    const r = p.cli(['run', '--grace', '1', '--json'], { PIDS: pids });
    leftovers.push(...pidsIn(pids));
    expect(r.code).toBe(1);
    const failed = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'stage-failed');
    expect(failed).toMatchObject({ stage: 'slow', reason: 'timeout', message: 'timed out after 1 s', signal: 'SIGTERM' });
    expect(pidsIn(pids)).toHaveLength(2);
    for (const pid of pidsIn(pids)) expect(pidGone(pid), `pid ${pid}`).toBe(true);
  });
});

describe('kill -9 of evidence', () => {
  it('re-runs the stage that was in flight, reports nothing stale as up to date, takes over the dead run lock and ends the orphaned stage', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  prep:
    cmd: '${logged('prep', 'cp input.txt prep.txt')}'
    deps: [input.txt]
    outs: [prep.txt]
  model:
    cmd: '${logged('model', 'cp prep.txt model.txt; if [ -f slow ]; then echo $$ > "$MARK"; sleep 60; fi; echo end >> model.txt')}'
    deps: [prep.txt]
    stdout: logs/model.log
    outs: [model.txt]
`,
      'input.txt': 'v1\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['model', 'prep']);
    expect(p.read('model.txt')).toBe('v1\nend\n');

    p.write('input.txt', 'v2\n');
    p.write('slow', '');
    const mark = join(p.dir, '..', 'mark');
    const child = p.spawnCli(['run'], { MARK: mark });
    const exited = exitOf(child);
    await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').trim() !== '', 45_000, 'the model stage to start');
    const stagePid = Number(readFileSync(mark, 'utf8').trim());
    leftovers.push(stagePid);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    // The orphaned stage group outlives evidence (it is a group of its own) until the next run.
    expect(pidGone(stagePid)).toBe(false);

    // What kill -9 left: a half-written out, a stream capture in progress, the dead run's lock.
    expect(p.read('model.txt')).toBe('v2\n');
    expect(p.exists('logs/model.log.evidence-partial')).toBe(true);
    expect(p.exists('.evidence/logs/model.stderr.log.evidence-partial')).toBe(true);
    expect(p.exists('.evidence/run.lock')).toBe(true);
    expect(p.takeRuns()).toEqual(['model', 'prep']);

    p.remove('slow');
    const status = p.cli(['status']);
    expect(status.stdout).toMatch(/model/);
    expect(status.stdout).not.toMatch(/model\s+up to date/);
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/took over the run lock of evidence run pid \d+/);
    expect(r.stdout).toMatch(new RegExp(`ended 1 stage process group\\(s\\) that run left running \\(${stagePid}\\)`));
    await waitFor(() => pidGone(stagePid), 5000, 'the orphaned stage to be ended by the next run');
    expect(r.stdout).toMatch(/prep up to date/);
    expect(r.stdout).toMatch(/▶ model started/);
    expect(p.takeRuns()).toEqual(['model']);
    expect(p.read('model.txt')).toBe('v2\nend\n');
    expect(p.exists('.evidence/run.lock')).toBe(false);
    expect(p.exists('logs/model.log.evidence-partial')).toBe(false);
    expect(p.exists('.evidence/logs/model.stderr.log.evidence-partial')).toBe(false);

    const again = p.cli(['run']);
    expect(again.stdout).toMatch(/prep up to date/);
    expect(again.stdout).toMatch(/model up to date/);
    expect(p.takeRuns()).toEqual([]);
  });
});

describe('stream captures left by kill -9', () => {
  it('are removed by the next run, even one that does not run their stage', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  talk:
    cmd: 'echo started; echo $$ > "$MARK"; sleep 60'
    stdout: logs/talk.log
    stderr: logs/talk.err
  other:
    cmd: 'echo other > other.txt'
    outs: [other.txt]
`,
    });
    const mark = join(p.dir, '..', 'mark');
    const child = p.spawnCli(['run', 'talk'], { MARK: mark });
    const exited = exitOf(child);
    await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').trim() !== '', 45_000, 'the talk stage to start');
    leftovers.push(Number(readFileSync(mark, 'utf8').trim()));
    child.kill('SIGKILL');
    await exited;
    expect(p.exists('logs/talk.log.evidence-partial')).toBe(true);
    expect(p.exists('logs/talk.err.evidence-partial')).toBe(true);

    const r = p.cli(['run', 'other']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/talk (started|up to date|restored)/);
    expect(p.exists('logs/talk.log.evidence-partial')).toBe(false);
    expect(p.exists('logs/talk.err.evidence-partial')).toBe(false);
  });
});
