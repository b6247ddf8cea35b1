// The lock's journal through the CLI, with real processes: a finished stage is one line in
// .evidence/lock.journal and evidence.lock is written when the run ends or is interrupted; a run
// killed with -9 loses nothing that finished (the next run, status and watch read lock + journal),
// a torn line is ignored, and the journal obeys the lock's no-secret rule.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TestProject, logged } from '../helpers/project.js';
import { exitOf, killAll, waitFor } from '../helpers/processes.js';
import { WatchProcess } from '../watch/harness.js';

const leftovers: number[] = [];
afterEach(() => {
  killAll(leftovers.splice(0));
});

const JOURNAL = '.evidence/lock.journal';
const SECRETS = ['sk-LIVE-4242', 'hunter2'];

/**
 * A chain s1 → s2 → s3 → s4. s3 writes its pid to $MARK, then waits until the file $GATE exists:
 * the test decides when it finishes. Secrets sit in the env and in s1's command line.
 */
function chain(): TestProject {
  const cp = (name: string, from: string) => `'${logged(name, `cp ${from} o/${name}.txt`)}'`;
  return new TestProject({
    'pipeline.yaml': `version: 1
env: { API_KEY: sk-LIVE-4242 }
stages:
  s1: { cmd: '${logged('s1', 'echo --password=hunter2 > /dev/null; mkdir -p o; cp in.txt o/s1.txt')}', deps: [in.txt], outs: [o/s1.txt] }
  s2: { cmd: ${cp('s2', 'o/s1.txt')}, deps: [o/s1.txt], outs: [o/s2.txt] }
  s3: { cmd: '${logged('s3', 'echo $$ > "$MARK"; while [ ! -e "$GATE" ]; do sleep 0.05; done; cp o/s2.txt o/s3.txt')}', deps: [o/s2.txt], outs: [o/s3.txt] }
  s4: { cmd: ${cp('s4', 'o/s3.txt')}, deps: [o/s3.txt], outs: [o/s4.txt] }
`,
    'in.txt': 'v1\n',
  });
}

function journalStages(p: TestProject): string[] {
  return p.read(JOURNAL).split('\n').filter(Boolean).map((l) => JSON.parse(l).stage);
}

function lockedStages(p: TestProject): string[] {
  return Object.keys(parse(p.read('evidence.lock')).stages).sort();
}

function statusOf(p: TestProject): Record<string, string> {
  const r = p.cli(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(r.stdout).stages as Array<{ stage: string; state: string }>).map((s) => [s.stage, s.state]));
}

/** Starts `evidence run` and returns once s1 and s2 finished and s3 is waiting at its gate. */
async function runUntilS3Waits(p: TestProject) {
  const mark = join(p.dir, '..', 'mark');
  rmSync(mark, { force: true });
  const child = p.spawnCli(['run', '-j', '1'], { MARK: mark, GATE: join(p.dir, '..', 'closed-gate') });
  const exited = exitOf(child);
  await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').trim() !== '', 30_000, 's3 to start');
  const stagePid = Number(readFileSync(mark, 'utf8').trim());
  leftovers.push(stagePid);
  return { child, exited, stagePid };
}

/** Env for a run whose s3 passes its gate at once. */
function openGate(p: TestProject): NodeJS.ProcessEnv {
  const gate = join(p.dir, '..', 'open-gate');
  writeFileSync(gate, '');
  return { MARK: join(p.dir, '..', 'mark-open'), GATE: gate };
}

/** A complete run with in.txt v1, then in.txt v2 and a run killed with -9 while s3 waits. */
async function killedAfterTwoStages(p: TestProject) {
  const first = p.cli(['run'], openGate(p));
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(p.exists(JOURNAL), 'a finished run leaves no journal').toBe(false);
  expect(p.takeRuns()).toEqual(['s1', 's2', 's3', 's4']);
  const lockBefore = p.read('evidence.lock');

  p.write('in.txt', 'v2\n');
  const { child, exited } = await runUntilS3Waits(p);
  // Two stages finished: two journal lines, and evidence.lock not rewritten.
  expect(journalStages(p)).toEqual(['s1', 's2']);
  expect(p.read('evidence.lock')).toBe(lockBefore);
  // status, while the run holds the project, reads the journal too.
  expect(statusOf(p)).toEqual({ s1: 'up-to-date', s2: 'up-to-date', s3: 'would-run', s4: 'would-run' });
  child.kill('SIGKILL');
  expect((await exited).signal).toBe('SIGKILL');
  p.takeRuns();
  return lockBefore;
}

describe('the lock journal', () => {
  it('after kill -9, the next run skips exactly the stages that finished, ignoring a torn last line, and compacts the journal', async () => {
    const p = chain();
    const lockBefore = await killedAfterTwoStages(p);
    expect(p.read('evidence.lock')).toBe(lockBefore);
    // What a kill in the middle of an append leaves.
    const lines = p.read(JOURNAL).split('\n');
    writeFileSync(p.path(JOURNAL), p.read(JOURNAL) + lines[0]!.slice(0, 120));

    const st = p.cli(['status']);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stderr).toBe('');
    expect(st.stdout).toMatch(/s1\s+up to date/);
    expect(st.stdout).toMatch(/s2\s+up to date/);
    expect(st.stdout).toMatch(/s3\s+would run: dep 'o\/s2\.txt' changed/);

    const r = p.cli(['run'], openGate(p));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The only warnings are about the dead run's lock and stage, none about the torn line.
    expect(r.stdout).not.toMatch(/evidence\.lock|journal/);
    expect(r.stdout).toMatch(/s1 up to date/);
    expect(r.stdout).toMatch(/s2 up to date/);
    expect(p.takeRuns()).toEqual(['s3', 's4']);
    expect(p.read('o/s4.txt')).toBe('v2\n');
    expect(p.exists(JOURNAL)).toBe(false);
    expect(lockedStages(p)).toEqual(['s1', 's2', 's3', 's4']);
    expect(p.read('evidence.lock')).not.toBe(lockBefore);

    const again = p.cli(['run'], openGate(p));
    expect(again.stdout.match(/^• s\d up to date$/gm)).toHaveLength(4);
    expect(p.takeRuns()).toEqual([]);
  });

  it('warns about a journal line that fails its checksum and judges that stage without it', async () => {
    const p = chain();
    await killedAfterTwoStages(p);
    const [s1Line, ...rest] = p.read(JOURNAL).split('\n');
    // A change that keeps the line valid JSON: only its checksum can tell.
    const tampered = s1Line!.replace(/"size":3/, '"size":4');
    expect(tampered).not.toBe(s1Line);
    writeFileSync(p.path(JOURNAL), [tampered, ...rest].join('\n'));

    const st = p.cli(['status']);
    expect(st.code).toBe(0);
    expect(st.stderr).toMatch(/warning: evidence\.lock: lock\.journal line 1 fails its checksum/);
    // Its entry falls back to the lock's (in.txt v1); the killed run's outs are in the run cache.
    expect(st.stdout).toMatch(/s1\s+would restore/);

    const r = p.cli(['run'], openGate(p));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lock\.journal line 1 fails its checksum/);
    expect(r.stdout).toMatch(/s1 restored from cache/);
    // s2's journal line is intact and still matches its inputs.
    expect(r.stdout).toMatch(/s2 up to date/);
    expect(p.takeRuns()).toEqual(['s3', 's4']);
    expect(p.exists(JOURNAL)).toBe(false);
  });

  it('Ctrl-C folds the journal into evidence.lock; the journal holds no secret', async () => {
    const p = chain();
    const { child, exited } = await runUntilS3Waits(p);
    const journal = p.read(JOURNAL);
    expect(journalStages(p)).toEqual(['s1', 's2']);
    for (const s of SECRETS) expect(journal, s).not.toContain(s);
    expect(journal).toMatch(/"API_KEY":"sha256:[0-9a-f]{16} \(secret\)"/);
    expect(p.exists('evidence.lock')).toBe(false);

    child.kill('SIGINT');
    const r = await exited;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(p.exists(JOURNAL)).toBe(false);
    expect(lockedStages(p)).toEqual(['s1', 's2']);
    for (const s of SECRETS) expect(p.read('evidence.lock'), s).not.toContain(s);
    expect(statusOf(p)).toEqual({ s1: 'up-to-date', s2: 'up-to-date', s3: 'would-run', s4: 'would-run' });
  });

  it('watch, after kill -9, starts from lock + journal and compacts them', async () => {
    const p = chain();
    await killedAfterTwoStages(p);
    // The watch harness passes the test's own env on: the gate goes through it.
    const saved = { MARK: process.env.MARK, GATE: process.env.GATE };
    Object.assign(process.env, openGate(p));
    let w: WatchProcess;
    try {
      w = new WatchProcess(p, []);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      await w.waitForCycle(1, 60_000);
    } finally {
      expect(await w.stop()).toBe(130);
    }
    expect(w.output).toMatch(/cycle 1 done in .*: ran s3, s4; 2 up to date/);
    expect(p.takeRuns()).toEqual(['s3', 's4']);
    expect(p.exists(JOURNAL)).toBe(false);
    expect(lockedStages(p)).toEqual(['s1', 's2', 's3', 's4']);
  });
});
