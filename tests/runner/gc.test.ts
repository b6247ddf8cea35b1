// `evidence gc` on real projects: it keeps what evidence.lock names and what the last N runs made
// or used, evicts the least recently used down to --max-size, deletes nothing on --dry-run, stays
// out of a run's way (refuses, or waits with --wait), and leaves a store that later runs restore
// from and skip with correctly. pipeline.yaml's cache: bound applies as a run ends.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestProject, logged } from '../helpers/project.js';
import { exitOf, waitFor } from '../helpers/processes.js';

const PIPELINE = `version: 1
stages:
  make:
    cmd: ${logged('make', `mkdir -p out && cat in.txt > out/a.txt && yes "$(cat in.txt)" | head -c 10000 > out/big.bin`)}
    deps: [in.txt]
    outs: [out/a.txt, out/big.bin]
  count:
    cmd: ${logged('count', 'wc -c < out/a.txt > out/count.txt')}
    deps: [out/a.txt]
    outs: [out/count.txt]
`;

function project(extra = ''): TestProject {
  return new TestProject({ 'pipeline.yaml': PIPELINE + extra, 'in.txt': 'v1\n' });
}

/** Every file of the store (objects and run records), with its size. */
function storeFiles(p: TestProject): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else files.set(abs.slice(p.dir.length + 1), statSync(abs).size);
    }
  };
  walk(p.path('.evidence/cache/objects'));
  walk(p.path('.evidence/cache/runs'));
  return files;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const stored = (p: TestProject, content: string) => p.exists(`.evidence/cache/objects/${sha(content).slice(0, 2)}/${sha(content).slice(2)}`);
/** The content `make` writes to out/big.bin for an input. */
const bigOf = (input: string) => (input.repeat(Math.ceil(10000 / input.length))).slice(0, 10000);

/** Runs the pipeline once per input, in order; returns the stages that ran. */
function runEach(p: TestProject, inputs: string[]): void {
  for (const input of inputs) {
    p.write('in.txt', input);
    const r = p.cli(['run', '-q']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  p.takeRuns();
}

function gcJson(p: TestProject, args: string[]) {
  const r = p.cli(['gc', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { freed: { objects: number; records: number; bytes: number }; kept: { objects: number; records: number; bytes: number }; live: { bytes: number }; overBudget: boolean };
}

describe('evidence gc', () => {
  it('keeps what evidence.lock names, frees the rest, and later runs restore and re-run correctly', () => {
    const p = project();
    runEach(p, ['v1\n', 'version two\n']);
    expect(stored(p, 'v1\n') && stored(p, bigOf('v1\n'))).toBe(true);
    const before = storeFiles(p);

    const r = p.cli(['gc', '--keep-last', '0']);
    expect(r.code, r.stderr).toBe(0);
    const after = storeFiles(p);
    // The first run's three outs (a.txt, big.bin, count.txt) and its two run records are gone.
    expect(before.size - after.size).toBe(5);
    expect(r.stdout).toMatch(/gc: freed 3 objects and 2 run records/);
    expect(stored(p, 'v1\n')).toBe(false);
    expect(stored(p, bigOf('v1\n'))).toBe(false);
    expect(stored(p, 'version two\n')).toBe(true);
    expect(stored(p, bigOf('version two\n'))).toBe(true);

    // Everything the lock names still restores, without running a stage.
    p.remove('out');
    const restored = p.cli(['run']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(restored.stdout.match(/restored from cache/g)).toHaveLength(2);
    expect(p.read('out/a.txt')).toBe('version two\n');
    expect(p.read('out/count.txt').trim()).toBe(String('version two\n'.length));
    expect(p.cli(['run']).stdout).toMatch(/nothing to do|up to date/);
    expect(p.takeRuns()).toEqual([]);

    // What gc freed is made again by running, never restored from a record whose content is gone.
    p.write('in.txt', 'v1\n');
    const again = p.cli(['run']);
    expect(again.code, again.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['count', 'make']);
    expect(again.stdout).not.toMatch(/corrupt|restored/);
  });

  it('--dry-run reports what it would free and deletes nothing', () => {
    const p = project();
    runEach(p, ['v1\n', 'v2 longer\n', 'v3\n']);
    const before = storeFiles(p);
    const history = p.read('.evidence/history.jsonl');
    const dry = gcJson(p, ['--keep-last', '0', '--dry-run']);
    expect(dry.freed.objects).toBeGreaterThan(0);
    expect(storeFiles(p)).toEqual(before);
    expect(p.read('.evidence/history.jsonl')).toBe(history);
    const text = p.cli(['gc', '-n', '--keep-last', '0']);
    expect(text.stdout).toMatch(/would free .*\(dry run: nothing was deleted\)/);
    const real = gcJson(p, ['--keep-last', '0']);
    expect(real.freed).toEqual(dry.freed);
    const freedBytes = [...before].filter(([f]) => !storeFiles(p).has(f)).reduce((n, [, size]) => n + size, 0);
    expect(real.freed.bytes).toBe(freedBytes);
  });

  it('removes what the store set aside as corrupt, and says so (a dry run only counts it)', () => {
    const p = project();
    runEach(p, ['v1\n', 'v2\n']);
    const big = `.evidence/cache/objects/${sha(bigOf('v1\n')).slice(0, 2)}/${sha(bigOf('v1\n')).slice(2)}`;
    p.write(big, 'not what its name says');
    runEach(p, ['v1\n']); // the restore finds the object corrupt, sets it aside, and runs make
    const aside = () => (existsSync(p.path('.evidence/cache/corrupt')) ? readdirSync(p.path('.evidence/cache/corrupt')) : []);
    expect(aside()).toHaveLength(1);
    const dry = p.cli(['gc', '-n']);
    expect(dry.stdout).toMatch(/gc: would remove 1 file set aside as corrupt/);
    expect(aside()).toHaveLength(1);
    const real = p.cli(['gc', '--json']);
    expect(JSON.parse(real.stdout).corrupt).toEqual({ files: 1, bytes: 'not what its name says'.length });
    expect(aside()).toHaveLength(0);
    expect(p.cli(['run', '-q']).code).toBe(0);
  });

  it('--keep-last N keeps what the last N runs made or used, and history lists only what is kept', () => {
    const p = project();
    runEach(p, ['v1\n', 'v2 longer\n', 'v3\n']);
    const r = p.cli(['gc', '--keep-last', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/retention: what the last 2 of 3 runs made or used/);
    expect(stored(p, 'v1\n')).toBe(false);
    expect(stored(p, 'v2 longer\n')).toBe(true);
    const history = p.cli(['history', 'out/a.txt']);
    expect(history.stdout).toContain(sha('v2 longer\n').slice(0, 12));
    expect(history.stdout).not.toContain(sha('v1\n').slice(0, 12));

    p.write('in.txt', 'v2 longer\n');
    const back = p.cli(['run']);
    expect(back.code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(back.stdout).toMatch(/make restored from cache/);
    p.write('in.txt', 'v1\n');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['count', 'make']);
  });

  it('--max-size evicts the least recently used first and never what evidence.lock names', () => {
    const p = project();
    runEach(p, ['v1\n', 'v2 longer\n', 'v3\n']);
    const live = gcJson(p, ['--keep-last', '0', '--dry-run']).live.bytes;
    // Room for one earlier version (big.bin alone is 10,000 bytes) but not for two.
    const budget = live + 15000;
    const r = gcJson(p, ['--max-size', String(budget)]);
    expect(r.kept.bytes).toBeLessThanOrEqual(budget);
    expect(r.overBudget).toBe(false);
    expect(stored(p, bigOf('v1\n'))).toBe(false);
    expect(stored(p, bigOf('v2 longer\n'))).toBe(true);
    expect(stored(p, bigOf('v3\n'))).toBe(true);

    // A bound below what the lock names: everything else goes, the lock's outs stay and restore.
    const tight = p.cli(['gc', '--max-size', '1K']);
    expect(tight.code).toBe(0);
    expect(tight.stdout).toMatch(/warning: the store still takes .* above --max-size 1\.0 KiB: what evidence\.lock names is never removed/);
    expect(stored(p, bigOf('v3\n'))).toBe(true);
    p.remove('out');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(p.read('out/big.bin')).toBe(bigOf('v3\n'));
  });

  it('evicts by last use, not by age: a version restored recently outlives a newer one', () => {
    const p = project();
    runEach(p, ['v1\n', 'v2 longer\n', 'v1\n', 'v3\n']);
    // v1 was made first but restored by the third run: v2 is now the least recently used.
    const live = gcJson(p, ['--keep-last', '0', '--dry-run']).live.bytes;
    gcJson(p, ['--max-size', String(live + 15000)]);
    expect(stored(p, bigOf('v1\n'))).toBe(true);
    expect(stored(p, bigOf('v2 longer\n'))).toBe(false);
  });

  it('rejects a bad size or count with a usage error', () => {
    const p = project();
    for (const [args, message] of [
      [['--max-size', '12Q'], /--max-size expects a size such as 500M, 2G or 1048576 .*got '12Q'/],
      [['--max-size', ''], /--max-size expects a size/],
      [['--keep-last=-1'], /--keep-last expects a whole number of runs ≥ 0, got '-1'/],
      [['--keep-last', 'two'], /--keep-last expects a whole number/],
      [['stray'], /gc takes no arguments/],
    ] as const) {
      const r = p.cli(['gc', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('refuses while a run holds the project, and with --wait waits for it, then keeps what that run recorded', async () => {
    const p = new TestProject({
      'pipeline.yaml': `${PIPELINE}  slow:
    cmd: ${logged('slow', 'while [ ! -f go ]; do sleep 0.05; done; cat slow.txt > out/slow.txt')}
    deps: [slow.txt]
    outs: [out/slow.txt]
`,
      'in.txt': 'v1\n',
      'slow.txt': 's1\n',
      go: '',
    });
    runEach(p, ['v1\n', 'v2 longer\n']);
    p.remove('go');
    p.write('slow.txt', 's2\n');
    const run = p.spawnCli(['run']);
    const runExit = exitOf(run);
    await waitFor(() => p.exists('.evidence/run.lock') && existsSync(p.runLog), 30_000, 'the slow stage to start');
    const before = storeFiles(p);

    const busy = p.cli(['gc', '--keep-last', '0']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/the project is busy: evidence run pid \d+.* holds .*run\.lock; nothing was deleted/);
    expect(storeFiles(p)).toEqual(before);

    const waiting = p.spawnCli(['gc', '--keep-last', '0', '--wait']);
    const gcExit = exitOf(waiting);
    let gcErr = '';
    waiting.stderr!.on('data', (d: Buffer) => (gcErr += d.toString()));
    await waitFor(() => /waiting for evidence run pid/.test(gcErr), 30_000, 'gc to wait');
    expect(waiting.exitCode).toBe(null);
    expect(storeFiles(p)).toEqual(before);
    p.write('go', '');
    const [ran, collected] = await Promise.all([runExit, gcExit]);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toMatch(/gc: freed [1-9]\d* objects? and [1-9]\d* run records?/);
    p.takeRuns();

    // What the run recorded while gc waited survives: every stage restores without running.
    p.remove('out');
    const restored = p.cli(['run']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(p.read('out/slow.txt')).toBe('s2\n');
  }, 60_000);

  it('applies pipeline.yaml cache: { keep_last } as a run ends', () => {
    const p = project('cache: { keep_last: 0 }\n');
    runEach(p, ['v1\n']);
    p.write('in.txt', 'v2 longer\n');
    const r = p.cli(['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cache: freed 3 object\(s\) and 2 run record\(s\)/);
    expect(stored(p, 'v1\n')).toBe(false);
    expect(stored(p, 'v2 longer\n')).toBe(true);
    p.takeRuns();
    p.remove('out');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
  });

  it('applies cache: { max_size } as a run ends, and locates a bad size in pipeline.yaml', () => {
    const p = project('cache:\n  max_size: 12K\n');
    runEach(p, ['v1\n', 'v2 longer\n']);
    // One big.bin (10,000 bytes) fits in 12 KiB with the small files; two do not.
    expect(stored(p, bigOf('v1\n'))).toBe(false);
    expect(stored(p, bigOf('v2 longer\n'))).toBe(true);

    const bad = project('cache:\n  max_size: lots\n');
    const r = bad.cli(['validate']);
    expect(r.code).toBe(2);
    const line = (PIPELINE + 'cache:\n  max_size: lots\n').split('\n').findIndex((l) => l.includes('max_size')) + 1;
    expect(r.stderr).toMatch(new RegExp(`pipeline\\.yaml:${line}:13: error: cache\\.max_size: 'lots' is not a size`));
    expect(r.stderr).toMatch(/expected a size such as 500M, 2G/);
    const schema = project('cache: { keep_last: -2 }\n').cli(['validate']);
    expect(schema.code).toBe(2);
    expect(schema.stderr).toMatch(/pipeline\.yaml:\d+:\d+: error: .*keep_last/);
  });
});
