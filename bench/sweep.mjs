// Benchmarks of sweeps: a matrix stage of N instances (each a trivial command writing one file per
// instance), gathered by one aggregate stage. Figures: `validate` of a 1,000-instance sweep (the
// matrix expanded from the YAML, no model cache) and a no-op run of it, each against a bare node
// start measured in the same run, and the time per instance of a cold run at 10, 100 and 1,000
// instances (flat means the per-instance overhead does not grow with the sweep). Used by
// `npm run bench`; alone: node bench/sweep.mjs
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './runner.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');
const ENV = { ...process.env, NO_COLOR: '1', CI: '' };


function timed(args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { cwd, env: ENV, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).slice(-400)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A project whose `trace` stage has an axis of n values and whose `all` stage gathers them. */
function sweepProject(n) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-sweep-'));
  mkdirSync(join(dir, '.evidence'));
  writeFileSync(join(dir, 'in.txt'), 'x\n');
  const values = Array.from({ length: n }, (_, i) => `c${i}`);
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    `version: 1
params: { configs: [${values.join(', ')}] }
stages:
  trace:
    matrix: { config: "\${params.configs}" }
    cmd: echo \${item.config} > o/\${item.config}.txt
    deps: [in.txt]
    outs: ["o/\${item.config}.txt"]
  all:
    cmd: cat o/*.txt > all.txt
    deps: ["o/\${item.config}.txt"]
    outs: [all.txt]
`,
  );
  mkdirSync(join(dir, 'o'));
  return dir;
}

export function benchSweep({ reps = 5 } = {}) {
  const node = process.execPath;
  const dir = sweepProject(1000);
  const validate = [];
  const bare = [];
  for (let i = 0; i < reps; i++) {
    rmSync(join(dir, '.evidence', 'pipeline-model.json'), { force: true });
    bare.push(timed([node, '-e', '0'], dir));
    validate.push(timed([node, CLI, 'validate'], dir));
  }
  const cold = [];
  for (const n of [10, 100, 1000]) {
    const d = n === 1000 ? dir : sweepProject(n);
    const ms = timed([node, CLI, 'run', '-j', '2'], d);
    cold.push({ n, ms, perInstanceMs: ms / n });
    if (d !== dir) rmSync(d, { recursive: true, force: true });
  }
  spawnSync('sleep', ['1.2']);
  timed([node, CLI, 'run'], dir);
  const noop = [];
  for (let i = 0; i < reps; i++) {
    bare.push(timed([node, '-e', '0'], dir));
    noop.push(timed([node, CLI, 'run'], dir));
  }
  rmSync(dir, { recursive: true, force: true });
  return { validateMs: median(validate), noopMs: median(noop), bareMs: median(bare), cold };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(JSON.stringify(benchSweep(), null, 2));
