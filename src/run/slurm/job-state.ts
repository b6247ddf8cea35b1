// How a Slurm job ended, read from `scontrol show job -o ID` (the controller keeps finished jobs for
// MinJobAge, 300 s by default; sacct would need slurmdbd, which a small cluster often lacks), and
// what that means for the stage: Slurm's own failure states are kept as such, not folded into an
// exit code.
import type { FailureReason } from '../../stage-api/index.js';

export interface JobRecord {
  state: string;
  reason?: string;
  /** "exit:signal", as Slurm prints ExitCode. */
  exitCode?: string;
  node?: string;
}

/** Reads the one-line form; undefined when it names no job (purged, or not a job line). */
export function parseJobRecord(text: string): JobRecord | undefined {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(text)?.[1];
  const state = field('JobState');
  if (!state) return undefined;
  const reason = field('Reason');
  const node = field('NodeList') ?? field('BatchHost');
  return {
    state,
    ...(reason && reason !== 'None' ? { reason } : {}),
    ...(field('ExitCode') ? { exitCode: field('ExitCode') } : {}),
    ...(node && node !== '(null)' ? { node } : {}),
  };
}

/** A state the job can still leave: ask again before judging it. */
export function isSettled(state: string): boolean {
  return !['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING', 'SIGNALING', 'STAGE_OUT'].includes(state);
}

export interface JobVerdict {
  reason: FailureReason;
  message: string;
  exitCode: number | null;
}

/**
 * The failure a finished job stands for. `cancelledBy` is set when this runner cancelled it (an
 * interrupt or the stage's timeout), so that its own cancel is not reported as one from outside.
 */
export function verdictOf(id: string, job: JobRecord, cancelledBy?: 'interrupt' | 'timeout'): JobVerdict {
  const [exitText, signalText] = (job.exitCode ?? '').split(':');
  const exit = exitText === undefined || exitText === '' ? null : Number(exitText);
  const signal = Number(signalText ?? 0);
  const why = job.reason ? ` (${job.reason})` : '';
  const on = job.node ? ` on ${job.node}` : '';
  const state = job.state.replace(/\+$/, '');
  // Slurm prints 0 for a job it ended itself (OUT_OF_MEMORY is "0:125"): no exit code to show.
  const ended = exit ? exit : null;
  switch (state) {
    case 'OUT_OF_MEMORY':
      return { reason: 'out-of-memory', message: `Slurm job ${id}${on} ended OUT_OF_MEMORY: it went over its memory limit (resources.mem)`, exitCode: ended };
    case 'TIMEOUT':
    case 'DEADLINE':
      return { reason: 'timeout', message: `Slurm job ${id}${on} ended ${state}: it reached its time limit (resources.time)`, exitCode: ended };
    case 'CANCELLED':
      if (cancelledBy === 'timeout') return { reason: 'timeout', message: `Slurm job ${id} cancelled at the stage's timeout`, exitCode: ended };
      if (cancelledBy === 'interrupt') return { reason: 'interrupted', message: `Slurm job ${id} cancelled (interrupted)`, exitCode: ended };
      return { reason: 'cluster', message: `Slurm job ${id}${on} ended CANCELLED from outside this run${why}`, exitCode: ended };
    case 'NODE_FAIL':
    case 'PREEMPTED':
    case 'BOOT_FAIL':
      return { reason: 'cluster', message: `Slurm job ${id}${on} ended ${state}${why}: the cluster lost it, not the command`, exitCode: ended };
    case 'FAILED':
    case 'COMPLETED':
      if (signal) return { reason: 'signal', message: `Slurm job ${id}${on} ended FAILED: killed by signal ${signal}`, exitCode: null };
      return { reason: 'exit-code', message: `Slurm job ${id}${on} ended FAILED: exited with code ${exit ?? '?'}`, exitCode: exit };
    default:
      return { reason: 'cluster', message: `Slurm job ${id}${on} ended ${job.state}${why}`, exitCode: ended };
  }
}
