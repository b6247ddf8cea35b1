// The executors a pipeline names (`executor: slurm`), made here so that the scheduler only sees
// the Executor interface and a pipeline without them never loads a cluster's code.
import type { Pipeline } from '../pipeline/model.js';
import type { Executor, Executors } from '../run/executor.js';

export async function executorsFor(pipeline: Pipeline): Promise<Partial<Executors> | undefined> {
  const names = new Set([...pipeline.stages.values()].flatMap((s) => (s.executor ? [s.executor] : [])));
  if (!names.size) return undefined;
  const named = new Map<string, Executor>();
  if (names.has('slurm')) named.set('slurm', (await import('../run/slurm-executor.js')).slurmExecutor());
  return { named };
}
