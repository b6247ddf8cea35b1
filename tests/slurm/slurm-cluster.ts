// The real Slurm the tests of `executor: slurm` run against (tests/support/slurm-single-node.sh
// starts one on this machine): whether it is there, and what it says about a job.
import { spawnSync } from 'node:child_process';

/** Why the Slurm tests cannot run here, or undefined when a controller answers and a node is up. */
export function slurmSkipReason(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v srun && command -v sinfo'], { encoding: 'utf8' });
  if (which.status !== 0) return 'Slurm is not installed (run tests/support/slurm-single-node.sh as root)';
  const ping = spawnSync('scontrol', ['ping'], { encoding: 'utf8', timeout: 10_000 });
  if (!/is UP/.test(ping.stdout)) return `no Slurm controller answers (scontrol ping: ${(ping.stdout + ping.stderr).trim().split('\n')[0]}); run tests/support/slurm-single-node.sh`;
  const nodes = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
  if (!/^(idle|mixed|allocated)/m.test(nodes.stdout)) return `no Slurm node is up (sinfo: ${nodes.stdout.trim() || nodes.stderr.trim()})`;
  return undefined;
}

/** Fails the file in CI, where the cluster is set up by .ci/run and a skip would hide a regression. */
export function slurmOrSkip(): string | undefined {
  const skip = slurmSkipReason();
  if (skip && process.env.CI) throw new Error(`Slurm tests cannot be skipped in CI: ${skip}`);
  return skip;
}

export interface SlurmJob {
  id: string;
  state: string;
  name: string;
}

/** What scontrol says about a job (finished jobs stay for MinJobAge). */
export function jobOf(id: string): SlurmJob | undefined {
  const r = spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const field = (n: string) => new RegExp(`(?:^|\\s)${n}=(\\S*)`).exec(r.stdout)?.[1] ?? '';
  return { id, state: field('JobState'), name: field('JobName') };
}

/** The ids among `ids` that squeue still lists (pending, running or completing). */
export function queued(ids: string[]): string[] {
  if (!ids.length) return [];
  const r = spawnSync('squeue', ['-h', '-o', '%i', `--jobs=${ids.join(',')}`], { encoding: 'utf8' });
  return r.stdout.split(/\s+/).filter((id) => ids.includes(id));
}
