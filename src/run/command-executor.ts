// Runs a cmd stage: the resolved shell string or argv in its own process group, streams straight
// to files (src/run/process.ts). Kept on node's own spawn rather than execa: streams go to file
// descriptors with no pumping through node, and a stage start is on every cold run's critical path.
import type { Execution, ExecutionResult, Executor } from './executor.js';
import { failed } from './executor.js';
import { runProcess } from './process.js';
import { PARTIAL_SUFFIX } from '../fs/atomic-write.js';
import { openScratch } from './scratch.js';

// Loaded only by a run that asked for live output.
let tailModule: Promise<typeof import('./output-tail.js')> | undefined;

export const commandExecutor: Executor = {
  captures: true,
  async execute(x: Execution): Promise<ExecutionResult> {
    if (x.stage.workdir !== 'scratch') return run(x, x.cwd);
    const scratch = openScratch(x.root, x.stage);
    try {
      const result = await run(x, scratch.cwd);
      // Outs it did not write stay missing in the project: the scheduler's out check names them.
      if (result.ok) scratch.collect();
      return result;
    } finally {
      scratch.dispose();
    }
  },
};

async function run(x: Execution, cwd: string): Promise<ExecutionResult> {
  const { stage } = x;
  const output = x.output;
  const tailer = output && (await (tailModule ??= import('./output-tail.js')));
  const running = runProcess({
    cmd: stage.cmd!,
    cwd,
    env: { ...process.env, ...stage.env },
    stdoutFile: x.stdoutFile,
    stderrFile: x.stderrFile,
    timeoutMs: stage.timeoutMs,
    signal: x.signal,
    graceMs: x.graceMs,
  });
  // The captures are open once runProcess has started; the tail follows them under the name
  // process.ts writes them to (stdout and stderr may share one file).
  const tail = tailer
    ? tailer.tailFiles(
        [...new Set([x.stdoutFile, x.stderrFile])].map((f) => ({ stream: f === x.stdoutFile ? ('stdout' as const) : ('stderr' as const), writing: f + PARTIAL_SUFFIX, final: f })),
        output,
      )
    : undefined;
  let res;
  try {
    res = await running;
  } finally {
    await tail?.stop();
  }
  if (res.spawnError) return failed('exit-code', `could not start: ${res.spawnError}`);
  if (res.timedOut) return failed('timeout', `timed out after ${stage.timeoutMs! / 1000} s`, res.exitCode, res.signal);
  if (res.aborted) return failed('interrupted', 'interrupted', res.exitCode, res.signal);
  if (res.lost) return failed('exit-code', `its end could not be observed: ${res.lost}`);
  if (res.signal) return failed('signal', `killed by ${res.signal}`, null, res.signal);
  if (res.exitCode !== 0) return failed('exit-code', `exited with code ${res.exitCode}`, res.exitCode);
  return { ok: true };
}
