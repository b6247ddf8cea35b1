// The srun command line of one stage instance: a job named after the stage, in the stage's cwd, its
// streams written by Slurm straight into the capture files (which is why the filesystem must be
// shared), the stage's resources as srun options, then the command itself.
import type { Resources, Stage } from '../../pipeline/model.js';

export interface SrunFiles {
  stdout: string;
  /** The same path as stdout when both streams go to one file. */
  stderr: string;
}

export function srunArgs(stage: Stage, cwd: string, files: SrunFiles): string[] {
  const args = [
    // -v: srun names the job id ("srun: jobid 12: nodes(1) ...") once granted, so that a cancel can
    // name it; srun's own messages go to its stderr, never into the stage's captures.
    '--verbose',
    `--job-name=${stage.name}`,
    '--ntasks=1',
    `--chdir=${cwd}`,
    `--output=${slurmFilename(files.stdout)}`,
    ...(files.stderr === files.stdout ? [] : [`--error=${slurmFilename(files.stderr)}`]),
    ...resourceArgs(stage.resources ?? {}),
  ];
  const cmd = stage.cmd!;
  return [...args, ...(typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd)];
}

export function resourceArgs(r: Resources): string[] {
  const out: string[] = [];
  if (r.cpus !== undefined) out.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem !== undefined) out.push(`--mem=${r.mem}`);
  if (r.time !== undefined) out.push(`--time=${r.time}`);
  if (r.partition !== undefined) out.push(`--partition=${r.partition}`);
  if (r.gpus !== undefined) out.push(`--gpus=${r.gpus}`);
  out.push(...(r.extra ?? []));
  return out;
}

/** Slurm expands %j, %N, ... in file names; %% is a literal %. */
export function slurmFilename(path: string): string {
  return path.replaceAll('%', '%%');
}
