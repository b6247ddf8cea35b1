// `executor: slurm` against a real one-node Slurm (tests/support/slurm-single-node.sh): a sweep
// runs as one job per instance, an interrupt and a timeout cancel the job (nothing left in squeue),
// an out-of-memory and a failing job reach the blocker with their job id and state, and a runner
// killed with -9 leaves neither duplicated work, nor trusted half-written outs, nor orphan jobs.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { CLI, TestProject, logged } from '../helpers/project.js';
import { exitOf, killAll, waitFor } from '../helpers/processes.js';
import { jobOf, queued, slurmOrSkip } from './slurm-cluster.js';

const skip = slurmOrSkip();
if (skip) console.log(`Slurm tests skipped: ${skip}`);

const leftovers: number[] = [];
const jobsSeen: string[] = [];
afterEach(() => {
  killAll(leftovers.splice(0));
  // A failed test must not leave jobs holding the node for the next one.
  const left = queued(jobsSeen.splice(0));
  if (left.length) spawnSync('scancel', left);
});

function idsIn(file: string): string[] {
  if (!existsSync(file)) return [];
  const ids = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
  jobsSeen.push(...ids);
  return ids;
}

function cgroupTracking(): boolean {
  return /ProctrackType\s*=\s*proctrack\/cgroup/.test(spawnSync('scontrol', ['show', 'config'], { encoding: 'utf8' }).stdout);
}

/** Jobs named long@… waiting in the queue. */
function pendingJobs(): string[] {
  const r = spawnSync('squeue', ['-h', '-t', 'PD', '-o', '%i %j'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => / long@/.test(l)).map((l) => l.split(' ')[0]!);
}

async function gone(ids: string[]): Promise<void> {
  await waitFor(() => queued(ids).length === 0, 20_000, `jobs ${ids.join(', ')} to leave squeue`);
}

describe.skipIf(skip !== undefined)('executor: slurm', () => {
  it('runs each instance of a sweep as its own Slurm job, named after the instance', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
resources: { mem: 100M, time: "5" }
stages:
  trace:
    matrix: { config: [cubic, ortho, multi] }
    cmd: '${logged('trace', 'echo "$SLURM_JOB_ID ${item.config}" > out/${item.config}.txt; echo note >&2')}'
    outs: ["out/\${item.config}.txt"]
    stderr: "out/\${item.config}.err"
  gather:
    cmd: 'cat out/*.txt > all.txt; echo "$SLURM_JOB_ID" > gather-job.txt'
    deps: ["out/\${item.config}.txt"]
    outs: [all.txt, gather-job.txt]
    executor: local
`,
    });
    p.write('out/.keep', '');
    const r = p.cli(['run', '-j', '3']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = ['cubic', 'ortho', 'multi'].map((c) => p.read(`out/${c}.txt`).trim().split(' '));
    const ids = lines.map(([id]) => id!);
    jobsSeen.push(...ids);
    expect(new Set(ids).size).toBe(3);
    for (const [id, config] of lines) {
      expect(id).toMatch(/^[0-9]+$/);
      expect(jobOf(id!)).toMatchObject({ state: 'COMPLETED', name: `trace@${config}` });
    }
    expect(p.read('out/cubic.err')).toBe('note\n');
    // The pipeline's executor is a default for its stages; `executor: local` keeps one at home.
    expect(p.read('gather-job.txt').trim()).toBe('');
    expect(p.takeRuns()).toEqual(['trace', 'trace', 'trace']);
    // The executor is not part of the fingerprint: nothing runs again.
    const again = p.cli(['run']);
    expect(again.code, again.stdout).toBe(0);
    expect(p.takeRuns()).toEqual([]);
  });

  it('keeps at most -j jobs in flight', () => {
    // Each job counts the jobs of this sweep that Slurm holds (pending or running) while it runs.
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
stages:
  bounded:
    matrix: { n: [a, b, c, d] }
    cmd: 'squeue -h -o "%i %j" | grep -c " bounded@" > n-\${item.n}.txt; echo "$SLURM_JOB_ID" >> "$MARKS"; sleep 0.3'
    outs: ["n-\${item.n}.txt"]
`,
    });
    const file = p.path('../marks');
    const r = p.cli(['run', '-j', '2'], { MARKS: file });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(idsIn(file).length).toBe(4);
    const counts = ['a', 'b', 'c', 'd'].map((n) => Number(p.read(`n-${n}.txt`)));
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
  });

  it('cancels the running job and withdraws the queued one on Ctrl-C, leaving nothing in squeue', async () => {
    // --exclusive: each job takes the whole node, so the second waits in the queue whatever its size.
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
resources: { extra: [--exclusive] }
stages:
  long:
    matrix: { n: [one, two] }
    cmd: 'echo "$SLURM_JOB_ID" >> "$MARKS"; sleep 120; echo late > long-\${item.n}.txt'
    outs: ["long-\${item.n}.txt"]
`,
    });
    const file = p.path('../marks');
    const child = p.spawnCli(['run', '-j', '2'], { MARKS: file });
    leftovers.push(child.pid!);
    const exited = exitOf(child);
    await waitFor(() => idsIn(file).length > 0, 30_000, 'the first job to start');
    const [running] = idsIn(file);
    let waiting: string[] = [];
    await waitFor(() => (waiting = pendingJobs()).length > 0, 30_000, 'the second job to wait in the queue');
    jobsSeen.push(...waiting);
    child.kill('SIGINT');
    const e = await exited;
    expect(e.code, e.stdout + e.stderr).toBe(130);
    expect(e.stdout).toContain(`Slurm job ${running} cancelled`);
    await gone([running!, ...waiting]);
    expect(jobOf(running!)?.state).toBe('CANCELLED');
    expect(jobOf(waiting[0]!)?.state).toBe('CANCELLED');
    // The queued one never ran.
    expect(idsIn(file)).toEqual([running]);
    expect(p.exists('long-one.txt') || p.exists('long-two.txt')).toBe(false);
  });

  it("cancels the job at the stage's timeout", async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
stages:
  slow:
    cmd: 'echo "$SLURM_JOB_ID" > "$MARKS"; sleep 120; echo late > slow.txt'
    outs: [slow.txt]
    timeout: 2s
`,
    });
    const file = p.path('../marks');
    const r = p.cli(['run'], { MARKS: file });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const [id] = idsIn(file);
    expect(r.stdout).toContain('timed out after 2 s');
    expect(r.stdout).toContain(`Slurm job ${id} cancelled`);
    await gone([id!]);
    expect(jobOf(id!)?.state).toBe('CANCELLED');
  });

  it('records an out-of-memory job and a failing job in the blocker with their job ids and states', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
blocker: { uses: blocker, with: { dir: reports/blocker } }
stages:
  hungry:
    cmd: 'echo "$SLURM_JOB_ID" > "$MARKS"; python3 -c "x = bytearray(400 * 1024 * 1024); import time; time.sleep(2)"'
    outs: [h.txt]
    resources: { mem: 40M }
`,
    });
    const file = p.path('../marks');
    const r = p.cli(['run'], { MARKS: file });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const [id] = idsIn(file);
    expect(r.stdout).toContain(`Slurm job ${id}`);
    // With cgroups the kernel ends the job (OUT_OF_MEMORY); without, Slurm's poller kills it (FAILED).
    const state = cgroupTracking() ? 'OUT_OF_MEMORY' : 'FAILED';
    expect(r.stdout).toMatch(cgroupTracking() ? /ended OUT_OF_MEMORY/ : /killed over its memory limit/);
    const blocker = JSON.parse(p.read('reports/blocker/blocker.json'));
    expect(blocker).toMatchObject({ stage: 'hungry', reason: 'out-of-memory', job: { scheduler: 'slurm', id, state } });
    expect(blocker.job.stderr).toBe('.evidence/logs/hungry.stderr.log');
    expect(existsSync(p.path(blocker.job.stderr))).toBe(true);

    p.write(
      'pipeline.yaml',
      `version: 1
executor: slurm
blocker: { uses: blocker, with: { dir: reports/blocker } }
stages:
  broken:
    cmd: 'echo "$SLURM_JOB_ID" > "$MARKS"; echo "Traceback: bad input" >&2; exit 3'
    outs: [b.txt]
`,
    );
    const f = p.cli(['run'], { MARKS: file });
    expect(f.code, f.stdout + f.stderr).toBe(1);
    const [failedId] = idsIn(file);
    const b2 = JSON.parse(p.read('reports/blocker/blocker.json'));
    expect(b2).toMatchObject({ stage: 'broken', reason: 'exit-code', exitCode: 3, job: { id: failedId, state: 'FAILED' } });
    expect(readFileSync(p.path(b2.job.stderr), 'utf8')).toContain('Traceback: bad input');
  });

  it('reports a job lost to a node failure as NODE_FAIL, although srun exits 0', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
blocker: { uses: blocker, with: { dir: reports/blocker } }
stages:
  lost:
    cmd: 'hostname > "$MARKS.node"; echo "$SLURM_JOB_ID" > "$MARKS"; sleep 60; echo done > lost.txt'
    outs: [lost.txt]
`,
    });
    const file = p.path('../marks');
    const child = p.spawnCli(['run'], { MARKS: file });
    leftovers.push(child.pid!);
    const exited = exitOf(child);
    await waitFor(() => idsIn(file).length > 0 && existsSync(`${file}.node`), 30_000, 'the job to start');
    const [id] = idsIn(file);
    const node = readFileSync(`${file}.node`, 'utf8').trim();
    try {
      spawnSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=evidence-test']);
      const e = await exited;
      expect(e.code, e.stdout + e.stderr).toBe(1);
      expect(e.stdout).toContain(`Slurm job ${id} on ${node} ended NODE_FAIL`);
      expect(JSON.parse(p.read('reports/blocker/blocker.json'))).toMatchObject({ reason: 'cluster', job: { id, state: 'NODE_FAIL' } });
    } finally {
      // ReturnToService=2 brings a down node back once its slurmd answers; resume in case it did not.
      spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume']);
      await waitFor(() => /^(idle|mixed)/m.test(spawnSync('sinfo', ['-h', '-N', '-n', node, '-o', '%T'], { encoding: 'utf8' }).stdout), 30_000, 'the node to be back');
    }
  });

  it('after kill -9 of the runner, the next run cancels the orphan job, keeps finished work and redoes the half-written out', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
stages:
  first:
    cmd: '${logged('first', 'echo one > first.txt')}'
    outs: [first.txt]
  second:
    cmd: '${logged('second', 'echo "$SLURM_JOB_ID" >> "$MARKS"; echo half > second.txt; while [ ! -e "$GATE" ]; do sleep 0.1; done; echo full > second.txt')}'
    deps: [first.txt]
    outs: [second.txt]
`,
    });
    const file = p.path('../marks');
    const gate = p.path('../gate');
    const env = { MARKS: file, GATE: gate };
    const child = p.spawnCli(['run'], env);
    leftovers.push(child.pid!);
    const exited = exitOf(child);
    await waitFor(() => idsIn(file).length > 0 && p.exists('second.txt'), 30_000, 'second to start its job');
    const [orphan] = idsIn(file);
    child.kill('SIGKILL');
    await exited;
    // srun runs in a group of its own: the job outlives the runner.
    expect(queued([orphan!])).toEqual([orphan]);
    expect(p.read('second.txt')).toBe('half\n');
    expect(p.takeRuns()).toEqual(['first', 'second']);

    const next = p.spawnCli(['run'], env);
    leftovers.push(next.pid!);
    const done = exitOf(next);
    await waitFor(() => idsIn(file).length > 1, 30_000, 'second to start again');
    // By the time the new job runs, the orphan is cancelled, so it can never see the gate open.
    await gone([orphan!]);
    writeFileSync(gate, '');
    const e = await done;
    expect(e.code, e.stdout + e.stderr).toBe(0);
    expect(jobOf(orphan!)?.state).toBe('CANCELLED');
    expect(p.read('second.txt')).toBe('full\n');
    expect(p.takeRuns()).toEqual(['second']);
    const ids = idsIn(file);
    expect(ids.length).toBe(2);
    expect(queued(ids)).toEqual([]);
    expect(readdirSafe(p.path('.evidence/slurm-jobs'))).toEqual([]);
  });
});

describe.skipIf(skip !== undefined)('executor: slurm inside an allocation', () => {
  it('runs stages as steps of the allocation the runner is in, and fails a step without touching the allocation', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
stages:
  ok: { cmd: 'echo "$SLURM_JOB_ID.$SLURM_STEP_ID" > ok.txt', outs: [ok.txt] }
  bad: { cmd: 'echo after >> ok.txt; exit 3', outs: [b.txt], needs: [ok] }
`,
    });
    // salloc runs the runner inside a new allocation; the runner's exit code comes back through it.
    const r = spawnSync('salloc', ['-Q', '-n1', process.execPath, CLI, 'run'], { cwd: p.dir, env: p.env(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    const [allocation, step] = p.read('ok.txt').split('\n')[0]!.split('.');
    jobsSeen.push(allocation!);
    expect(step).toMatch(/^[0-9]+$/);
    expect(r.stdout).toMatch(new RegExp(`bad failed: Slurm step ${allocation}\\.[0-9]+ ended FAILED: exited with code 3`));
    // The allocation ended when the runner did, with the runner's exit code 1 (FAILED, as salloc
    // reports a command's non-zero exit): the failed step did not cancel it.
    expect(jobOf(allocation!)?.state).toBe('FAILED');
    expect(p.read('ok.txt')).toContain('after');
  });
});

describe.skipIf(skip !== undefined)('executor: slurm without its controller', () => {
  it('fails the stage with a clear error, not a hang, when the controller does not answer', () => {
    // A copy of this cluster's configuration whose controller port nothing listens on: the real
    // cluster stays up for the other tests.
    const conf = readFileSync(process.env.SLURM_CONF ?? '/etc/slurm/slurm.conf', 'utf8').replace(/^SlurmctldPort=.*$/m, '');
    const p = new TestProject({
      'pipeline.yaml': `version: 1
executor: slurm
blocker: { uses: blocker, with: { dir: reports/blocker } }
stages:
  s: { cmd: 'echo ran > s.txt', outs: [s.txt] }
`,
    });
    const confFile = p.path('../slurm.conf');
    writeFileSync(confFile, `${conf}\nSlurmctldPort=9\n`);
    const r = p.cli(['run'], { SLURM_CONF: confFile });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/the Slurm controller does not answer: srun: error: .*Unable to contact slurm controller/);
    expect(JSON.parse(p.read('reports/blocker/blocker.json'))).toMatchObject({ stage: 's', reason: 'cluster' });
    expect(p.exists('s.txt')).toBe(false);
  });
});

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
