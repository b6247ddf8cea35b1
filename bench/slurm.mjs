// The cost of `executor: slurm`: a cold run of N trivial stages, -j 2, as Slurm jobs and as local
// processes, against the baselines measured in the same run: bare `srun true` and `sh -c true`, one
// after another. Needs a Slurm that answers (tests/support/slurm-single-node.sh); skipped otherwise.
//   node bench/slurm.mjs [N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');

function timed(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function slurmAvailable() {
  return /is UP/.test(spawnSync('scontrol', ['ping'], { encoding: 'utf8' }).stdout ?? '');
}

export function benchSlurm(n = 10) {
  const reps = 5;
  const srunMs = median(Array.from({ length: reps }, () => timed(() => spawnSync('srun', ['-Q', 'true']))));
  const shMs = median(Array.from({ length: reps }, () => timed(() => spawnSync('sh', ['-c', 'true']))));
  const run = (executor) => {
    const dir = mkdtempSync(join(tmpdir(), `evidence-bench-slurm-${executor}-`));
    const stages = Array.from({ length: n }, (_, i) => `  s${i}: { cmd: 'echo ${i} > o${i}.txt', outs: [o${i}.txt] }`).join('\n');
    writeFileSync(join(dir, 'pipeline.yaml'), `version: 1\nexecutor: ${executor}\nstages:\n${stages}\n`);
    const ms = timed(() => {
      const r = spawnSync(process.execPath, [CLI, 'run', '-j', '2', '-q'], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`evidence run (${executor}) failed: ${r.stdout}${r.stderr}`);
    });
    rmSync(dir, { recursive: true, force: true });
    return ms;
  };
  const localMs = run('local');
  const slurmMs = run('slurm');
  return { n, srunMs, shMs, localMs, slurmMs, perStageOverheadMs: (slurmMs - localMs) / (n / 2) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!slurmAvailable()) {
    console.log('Slurm bench skipped: no Slurm controller answers (run tests/support/slurm-single-node.sh)');
  } else {
    const r = benchSlurm(Number(process.argv[2] ?? 10));
    console.log(`srun true: ${r.srunMs.toFixed(0)} ms (${(r.srunMs / r.shMs).toFixed(0)}× sh -c true, ${r.shMs.toFixed(1)} ms)`);
    console.log(`cold run, ${r.n} stages, -j 2: slurm ${r.slurmMs.toFixed(0)} ms, local ${r.localMs.toFixed(0)} ms (${(r.slurmMs / r.localMs).toFixed(2)}×)`);
    console.log(`Slurm overhead per stage on each of the 2 slots: ${r.perStageOverheadMs.toFixed(0)} ms`);
  }
}
