// Watch mode end to end: `evidence watch` as a real subprocess, files edited on disk, the run log
// saying which stage processes started, Ctrl-C at the end (exit 130).
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestProject } from '../helpers/project.js';
import { pidGone, pidsIn } from '../helpers/processes.js';
import { WatchProcess, sleep } from './harness.js';

const PIPELINE = `version: 1
stages:
  gen:
    cmd: 'echo gen >> "$RUNLOG"; cp input/a.txt out/gen.txt'
    deps: [input/a.txt]
    outs: [out/gen.txt]
  other:
    cmd: 'echo other >> "$RUNLOG"; cat input/b.txt > out/other.txt'
    deps: [input/b.txt]
    outs: [out/other.txt]
  use:
    cmd: 'echo use >> "$RUNLOG"; cat out/gen.txt out/other.txt > out/use.txt'
    deps: [out/gen.txt, out/other.txt]
    outs: [out/use.txt]
`;

/**
 * Waits for the cycle started by a change of `file` alone, and for it to finish; returns its
 * number. Watching for "nothing happens" this way needs no quiet period: the watcher gets file
 * events in order, so a cycle that should not have happened shows up before this one.
 */
async function cycleOfChange(w: WatchProcess, file: string): Promise<number> {
  const line = new RegExp(`^watch: cycle (\\d+): changed ${file.replace(/[./]/g, '\\$&')}$`, 'm');
  await w.waitFor(line);
  const n = Number(line.exec(w.output)![1]);
  await w.waitForCycle(n);
  return n;
}

let running: WatchProcess[] = [];
afterEach(() => {
  for (const w of running) w.kill();
  running = [];
});

function start(p: TestProject, args: string[] = []): WatchProcess {
  const w = new WatchProcess(p, args);
  running.push(w);
  return w;
}

function project(): TestProject {
  return new TestProject({ 'pipeline.yaml': PIPELINE, 'input/a.txt': 'alpha\n', 'input/b.txt': 'beta\n' });
}

describe('evidence watch', () => {
  it('runs once, then re-runs only the stages downstream of an edited dep, and restores from the cache when the edit is reverted', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    expect(p.takeRuns()).toEqual(['gen', 'other', 'use']);
    expect(w.cycleLine(1)).toMatch(/ran gen, other, use/);

    p.write('input/a.txt', 'alpha 2\n');
    await w.waitForCycle(2);
    expect(p.takeRuns()).toEqual(['gen', 'use']); // not the unrelated branch
    expect(w.output).toMatch(/^watch: cycle 2: changed input\/a.txt$/m);
    expect(w.cycleLine(2)).toMatch(/ran gen, use; 1 up to date/);
    expect(p.read('out/use.txt')).toBe('alpha 2\nbeta\n');

    p.write('input/a.txt', 'alpha\n');
    await w.waitForCycle(3);
    expect(p.takeRuns()).toEqual([]);
    expect(w.cycleLine(3)).toMatch(/restored gen, use/);
    expect(p.read('out/use.txt')).toBe('alpha\nbeta\n');
    expect(await w.stop()).toBe(130);
  });

  it('runs nothing when a dep is saved with identical content', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    p.takeRuns();
    p.write('input/a.txt', 'alpha\n');
    await w.waitForCycle(2);
    expect(p.takeRuns()).toEqual([]);
    expect(w.cycleLine(2)).toMatch(/nothing to do \(3 up to date\)/);
    expect(await w.stop()).toBe(130);
  });

  it('never triggers on an out, neither edited by hand nor rewritten by its own stage', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    p.takeRuns();
    p.write('out/gen.txt', 'edited by hand\n');
    p.write('.evidence/scratch.txt', 'x\n');

    // A real edit right after: the watcher gets file events in order, so had the writes above
    // started a cycle, cycle 2 would be theirs (or name them). No quiet period to wait out.
    p.write('input/b.txt', 'beta 2\n');
    await w.waitForCycle(2);
    expect(w.output).toMatch(/^watch: cycle 2: changed input\/b.txt$/m);
    expect(p.takeRuns()).toEqual(['other', 'use']);
    expect(w.cycleLine(2)).toMatch(/restored gen/); // its out was modified by hand: brought back from the cache
    expect(p.read('out/gen.txt')).toBe('alpha\n');

    // Nor do the outs that cycle 2 wrote: the next cycle is the next real edit's.
    p.write('input/a.txt', 'alpha 2\n');
    await w.waitForCycle(3);
    expect(w.output).toMatch(/^watch: cycle 3: changed input\/a.txt$/m);
    expect(p.takeRuns()).toEqual(['gen', 'use']);
    expect(await w.stop()).toBe(130);
  });

  it('turns ten saves within 50 ms into one run', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    p.takeRuns();
    // Saves 4 ms apart, spaced by spinning rather than by timers, which a loaded machine delays.
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const due = (times[0] ?? Date.now()) + 4 * i;
      while (Date.now() < due);
      p.write('input/a.txt', `save ${i}\n`);
      times.push(Date.now());
    }
    const maxGap = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    const span = times[9]! - times[0]!;
    await w.waitForCycle(2);
    // Whatever the spacing turned out to be, the last save is the one that ends up built.
    await w.waitFor(() => p.read('out/gen.txt') === 'save 9\n');
    const burstRuns = p.takeRuns();
    // The next cycle after the burst's is the next real edit's: no trailing cycle from the burst.
    p.write('input/b.txt', 'beta 2\n');
    const next = await cycleOfChange(w, 'input/b.txt');
    if (maxGap < 40 && span < 50) {
      expect(burstRuns).toEqual(['gen', 'use']);
      expect(next).toBe(3);
      expect(p.takeRuns()).toEqual(['other', 'use']);
    } else {
      // This process was descheduled longer than the debounce between two saves: not a burst any more.
      console.warn(`saves spanned ${span} ms, ${maxGap} ms apart at worst (machine overloaded); the one-run property was not tested`);
    }
    expect(await w.stop()).toBe(130);
  });

  it('always runs the last of two quick saves, whatever their spacing', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    // chokidar alone reports one change per file per 50 ms and drops the rest; 45 ms apart, the
    // second save lands after the first one's cycle started and must still get its own.
    for (const [i, gap] of [10, 45, 60, 47, 49].entries()) {
      p.write('input/a.txt', `first ${i}\n`);
      await sleep(gap);
      p.write('input/a.txt', `last ${i}\n`);
      await w.waitFor(() => p.exists('out/gen.txt') && p.read('out/gen.txt') === `last ${i}\n`);
    }
    expect(await w.stop()).toBe(130);
  }, 300_000); // five pairs of cycles: minutes on a loaded machine, seconds otherwise

  it('queues changes made during a run into exactly one follow-up run', async () => {
    const p = new TestProject({
      // Reads its input first, then waits until the test opens the gate (at most 30 s): the saves
      // below land while it runs, however slow the machine.
      'pipeline.yaml': PIPELINE.replace(
        `cp input/a.txt out/gen.txt`,
        `v=$(cat input/a.txt); i=0; while [ ! -f ../gate ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo "$v" > out/gen.txt`,
      ),
      'input/a.txt': 'v1\n',
      'input/b.txt': 'beta\n',
    });
    const gate = join(p.dir, '..', 'gate');
    writeFileSync(gate, '');
    const w = start(p);
    await w.waitForCycle(1);
    p.takeRuns();
    rmSync(gate);
    p.write('input/a.txt', 'v2\n');
    await w.waitFor(() => (w.output.match(/▶ gen started/g) ?? []).length >= 2);
    // The run of v2 is in flight, held at the gate: two more saves, well apart (two debounce periods).
    p.write('input/a.txt', 'v3\n');
    await sleep(150);
    p.write('input/a.txt', 'v4\n');
    // The watcher has no observable "change queued" signal: give its events time to arrive while
    // the run is still held (this bounds event delivery, not the stage's duration).
    await sleep(500);
    writeFileSync(gate, '');
    await w.waitForCycle(3);
    expect(p.takeRuns()).toEqual(['gen', 'gen', 'use', 'use']);
    // The next cycle is the next real edit's: the queued saves made exactly one follow-up run.
    p.write('input/b.txt', 'beta 2\n');
    expect(await cycleOfChange(w, 'input/b.txt')).toBe(4);
    expect(p.read('out/gen.txt')).toBe('v4\n');
    expect(w.output).toMatch(/^watch: cycle 3: changed input\/a.txt$/m);
    expect(w.cycleLine(2)).toMatch(/ran gen, use/);
    expect(w.cycleLine(3)).toMatch(/ran gen, use/);
    expect(await w.stop()).toBe(130);
  });

  it('keeps watching with the last valid pipeline when pipeline.yaml is saved broken, and resumes once it is fixed', async () => {
    const p = project();
    const w = start(p);
    await w.waitForCycle(1);
    p.takeRuns();
    p.write('pipeline.yaml', PIPELINE.replace('    deps: [input/b.txt]\n', '    dpes: [input/b.txt]\n'));
    await w.waitFor(/pipeline.yaml is invalid/);
    expect(w.output).toMatch(/^pipeline\.yaml:9:5: error: unknown key 'dpes'/m);
    expect(w.cycles()).toBe(1);

    // Inputs still count, judged against the last valid pipeline.
    p.write('input/a.txt', 'alpha 2\n');
    await w.waitForCycle(2);
    expect(p.takeRuns()).toEqual(['gen', 'use']);

    // Fixed, with one stage's command changed: that stage re-runs.
    p.write('pipeline.yaml', PIPELINE.replace(`cat input/b.txt > out/other.txt`, `tr a-z A-Z < input/b.txt > out/other.txt`));
    await w.waitForCycle(3);
    expect(w.output).toMatch(/pipeline.yaml reloaded/);
    expect(p.takeRuns()).toEqual(['other', 'use']);
    expect(p.read('out/use.txt')).toBe('alpha 2\nBETA\n');
    expect(await w.stop()).toBe(130);
  });

  it('does not retry a failed stage until one of its inputs changes', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  check:
    cmd: 'echo check >> "$RUNLOG"; grep -q ok input/c.txt && cp input/c.txt out/check.txt'
    deps: [input/c.txt]
    outs: [out/check.txt]
  after:
    cmd: 'echo after >> "$RUNLOG"; cat out/check.txt > out/after.txt'
    deps: [out/check.txt]
    outs: [out/after.txt]
  other:
    cmd: 'echo other >> "$RUNLOG"; cat input/b.txt > out/other.txt'
    deps: [input/b.txt]
    outs: [out/other.txt]
`,
      'input/c.txt': 'bad\n',
      'input/b.txt': 'beta\n',
    });
    const w = start(p, ['-k']);
    await w.waitForCycle(1);
    expect(p.takeRuns()).toEqual(['check', 'other']);
    expect(w.cycleLine(1)).toMatch(/failed check/);

    // An unrelated input changes: check keeps its fingerprint, so it is not retried.
    p.write('input/b.txt', 'beta 2\n');
    await w.waitForCycle(2);
    expect(p.takeRuns()).toEqual(['other']);
    expect(w.output).toMatch(/check not run: failed before; waiting for an input to change/);
    expect(w.cycleLine(2)).toMatch(/not retried until an input changes: check/);

    // Its input changes (still failing): retried once.
    p.write('input/c.txt', 'still bad\n');
    await w.waitForCycle(3);
    expect(p.takeRuns()).toEqual(['check']);

    p.write('input/c.txt', 'ok\n');
    // On a loaded machine one save can arrive as two events further apart than the debounce: the
    // second makes a cycle with nothing to do. Wait for the cycle that ran check, not for a count.
    await w.waitFor(/ran check, after/);
    expect(p.takeRuns()).toEqual(['after', 'check']);
    expect(await w.stop()).toBe(130);
  });

  it('ends a running stage on Ctrl-C and exits 130', async () => {
    const p = new TestProject({
      // The stage records its shell's and its sleep's pids beside the project (../pids.txt).
      'pipeline.yaml': `version: 1\nstages:\n  slow:\n    cmd: 'echo slow >> "$RUNLOG"; sleep 30 & echo $! >> ../pids.txt; echo $$ >> ../pids.txt; wait; echo done > out.txt'\n    deps: [in.txt]\n    outs: [out.txt]\n`,
      'in.txt': 'x\n',
    });
    const pids = join(p.dir, '..', 'pids.txt');
    const w = start(p);
    await w.waitFor(() => pidsIn(pids).length === 2);
    // 130, not the 128 of stop()'s SIGKILL fallback: watch ended by itself, long before the
    // stage's 30 s sleep would have; no wall-clock bound needed.
    expect(await w.stop()).toBe(130);
    for (const pid of pidsIn(pids)) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(w.output).toMatch(/slow failed: interrupted/);
    expect(p.exists('out.txt')).toBe(false);
  });
});
