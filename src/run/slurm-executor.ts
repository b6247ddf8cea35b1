// `executor: slurm`: each stage instance is one Slurm job, run in the foreground with srun (a round
// trip of ~0.2-0.4 s on an idle node, where `sbatch --wait` polls every ~10 s). Slurm writes the
// job's streams straight into the stage's capture files, so the project must be on a filesystem
// the compute nodes share (as Snakemake and Nextflow assume too). The scheduler's -j bounds the
// jobs in flight, since each one holds an execution slot while srun waits.
//
// Faults: an interrupt or the stage's timeout cancels the job (scancel, or srun's own cancel while
// the job id is not known yet); a failed job is read back from scontrol so that OUT_OF_MEMORY,
// TIMEOUT, NODE_FAIL, PREEMPTED and CANCELLED reach the report and the blocker as such; jobs left
// by a runner killed with -9 are cancelled by the next run (slurm/job-ledger.ts). Loaded only by a
// pipeline that names the executor: the core never imports it.
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Execution, ExecutionResult, Executor } from './executor.js';
import { failed } from './executor.js';
import { PARTIAL_SUFFIX } from '../fs/atomic-write.js';
import { registerGroup, signalGroup, unregisterGroup } from './process-group.js';
import { openScratch } from './scratch.js';
import { srunArgs } from './slurm/srun-args.js';
import { isSettled, parseJobRecord, verdictOf, type JobRecord } from './slurm/job-state.js';
import { JobLedger } from './slurm/job-ledger.js';
import type { JobInfo } from '../stage-api/index.js';

export interface SlurmCommands {
  srun: string;
  scancel: string;
  scontrol: string;
  squeue: string;
}

/** A Slurm client command gives up after this long (a controller that does not answer). */
const CLIENT_TIMEOUT_MS = 15_000;
/** How long a failed job may take to reach a final state in scontrol after srun returned. */
const SETTLE_MS = 5_000;

let tailModule: Promise<typeof import('./output-tail.js')> | undefined;

export function slurmExecutor(commands: Partial<SlurmCommands> = {}): Executor {
  const cmds: SlurmCommands = { srun: 'srun', scancel: 'scancel', scontrol: 'scontrol', squeue: 'squeue', ...commands };
  let swept: Promise<void> | undefined;
  return {
    captures: true,
    async execute(x: Execution): Promise<ExecutionResult> {
      const ledger = new JobLedger(join(x.root, '.evidence'));
      await (swept ??= cancelLeftovers(ledger, cmds, x.log));
      if (x.stage.workdir !== 'scratch') return runJob(x, x.cwd, ledger, cmds);
      const scratch = openScratch(x.root, x.stage);
      try {
        const result = await runJob(x, scratch.cwd, ledger, cmds);
        if (result.ok) scratch.collect();
        return result;
      } finally {
        scratch.dispose();
      }
    },
  };
}

async function cancelLeftovers(ledger: JobLedger, cmds: SlurmCommands, log: Execution['log']): Promise<void> {
  const left = ledger.leftovers();
  if (!left.size) return;
  // Only the jobs still queued or running: the others ended with their srun (the run's cleanup of
  // process groups left by a killed runner ends srun, and srun its job) or on their own.
  const queued = await client(cmds.squeue, ['-h', '-o', '%i', `--jobs=${[...left.keys()].join(',')}`]);
  const alive = queued.code === 0 ? new Set(queued.stdout.split(/\s+/).filter((id) => left.has(id))) : new Set(left.keys());
  if (alive.size) {
    const res = await client(cmds.scancel, [...alive]);
    const named = [...alive].map((id) => `${id} (${left.get(id)})`).join(', ');
    if (res.code === 0) log('warn', `cancelled Slurm jobs left running by an earlier run that was killed: ${named}`);
    else log('warn', `could not cancel Slurm jobs left by an earlier run (${named}): ${res.stderr.trim() || `scancel exited ${res.code}`}`);
  }
  for (const id of left.keys()) ledger.remove(id);
}

async function runJob(x: Execution, cwd: string, ledger: JobLedger, cmds: SlurmCommands): Promise<ExecutionResult> {
  const { stage } = x;
  const shared = x.stdoutFile === x.stderrFile;
  const outTmp = x.stdoutFile + PARTIAL_SUFFIX;
  const errTmp = shared ? outTmp : x.stderrFile + PARTIAL_SUFFIX;
  for (const f of new Set([outTmp, errTmp])) {
    mkdirSync(dirname(f), { recursive: true });
    rmSync(f, { force: true });
  }
  const tailer = x.output && (await (tailModule ??= import('./output-tail.js')));
  const env = { ...process.env, ...stage.env };
  // Inside an allocation (the runner itself started by salloc or sbatch) srun starts a step of it,
  // and the job id it names is the allocation's, the runner's own: only the step may be cancelled.
  const inAllocation = Boolean(env.SLURM_JOB_ID);
  const child = spawn(cmds.srun, srunArgs(stage, cwd, { stdout: outTmp, stderr: errTmp }), {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own group: a terminal's Ctrl-C reaches the runner, which cancels the job itself, rather
    // than srun (whose first SIGINT only prints the job's state).
    detached: true,
  });
  const pgid = child.pid;
  if (pgid !== undefined) registerGroup(pgid);
  const tail = tailer
    ? tailer.tailFiles(
        [...new Set([outTmp, errTmp])].map((f) => ({ stream: f === outTmp ? ('stdout' as const) : ('stderr' as const), writing: f, final: f === outTmp ? x.stdoutFile : x.stderrFile })),
        x.output!,
      )
    : undefined;

  let jobId: string | undefined;
  let cancelledBy: 'interrupt' | 'timeout' | undefined;
  const srunErrors: string[] = [];
  let pending = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) readSrunLine(line);
  });
  const readSrunLine = (line: string) => {
    const id = inAllocation ? /StepId=([0-9_]+\.[0-9]+)/.exec(line) : /^srun: (?:jobid (\d+):|job (\d+) queued)/.exec(line);
    if (id && !jobId && inAllocation) {
      jobId = id[1]!;
      if (cancelledBy) void client(cmds.scancel, [jobId]);
    } else if (id && !jobId) {
      jobId = id[1] ?? id[2]!;
      ledger.add(jobId, stage.name);
      if (cancelledBy) void client(cmds.scancel, [jobId]);
    } else if (/^(?:srun|slurmstepd\S*): (?:error|fatal):|Force Terminated|Job step aborted|Exceeded job memory limit|\*\*\* .*CANCELLED/.test(line)) {
      srunErrors.push(line.trim());
    }
  };

  let killTimer: NodeJS.Timeout | undefined;
  const cancel = (cause: 'interrupt' | 'timeout') => {
    if (cancelledBy) return;
    cancelledBy = cause;
    // With the id, the controller ends the job (and srun with it); before it, srun withdraws its own
    // request when signalled. Either way srun is killed if it lingers past the grace period.
    if (jobId) void client(cmds.scancel, [jobId]);
    else if (pgid !== undefined) signalGroup(pgid, 'SIGTERM');
    killTimer = setTimeout(() => {
      if (jobId) void client(cmds.scancel, [jobId, '--signal=KILL', '--full']);
      if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
    }, x.graceMs + 5_000);
  };
  const onAbort = () => cancel('interrupt');
  if (x.signal.aborted) onAbort();
  else x.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutTimer = stage.timeoutMs ? setTimeout(() => cancel('timeout'), stage.timeoutMs) : undefined;

  const exit = await new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timeoutTimer);
  clearTimeout(killTimer);
  x.signal.removeEventListener('abort', onAbort);
  if (pending) readSrunLine(pending);
  if (pgid !== undefined) unregisterGroup(pgid);
  await tail?.stop();
  // Slurm makes the files only once the job starts: a job that never ran leaves empty captures.
  for (const [tmp, final] of shared ? [[outTmp, x.stdoutFile]] : [[outTmp, x.stdoutFile], [errTmp, x.stderrFile]]) {
    if (existsSync(tmp!)) renameSync(tmp!, final!);
    else writeFileSync(final!, '');
  }

  if (exit.error) return failed('exit-code', `could not start srun: ${exit.error} (is Slurm installed on this machine?)`);
  const said = srunErrors.length ? `: ${srunErrors.slice(-3).join(' / ')}` : '';
  // srun exits 0 after a node failure too ("srun: error: Node failure on vm"): a clean exit is
  // trusted only when srun said nothing wrong; else the job's own record decides.
  if (exit.code === 0 && !cancelledBy && !srunErrors.length) {
    if (jobId) ledger.remove(jobId);
    return { ok: true };
  }
  if (inAllocation) {
    if (exit.code === 0 && !cancelledBy && !srunErrors.some((l) => /Node failure|Out Of Memory|CANCELLED|PREEMPT/i.test(l))) return { ok: true };
    return stepFailure(jobId, exit, cancelledBy, srunErrors, stage.timeoutMs);
  }
  const record = jobId ? await settledRecord(jobId, cmds) : undefined;
  if (exit.code === 0 && !cancelledBy && (!record || record.state === 'COMPLETED')) {
    if (jobId) ledger.remove(jobId);
    return { ok: true };
  }
  if (jobId) ledger.remove(jobId);
  const job: JobInfo | undefined = jobId ? { scheduler: 'slurm', id: jobId, state: record?.state ?? 'UNKNOWN', ...(record?.reason ? { detail: record.reason } : {}), ...(record?.node ? { node: record.node } : {}) } : undefined;
  if (cancelledBy === 'timeout') return failed('timeout', `timed out after ${stage.timeoutMs! / 1000} s; ${jobId ? `Slurm job ${jobId} cancelled` : 'its Slurm request withdrawn'}`, null, null, job);
  if (cancelledBy === 'interrupt') return failed('interrupted', `interrupted; ${jobId ? `Slurm job ${jobId} cancelled` : 'its Slurm request withdrawn'}`, null, null, job);
  if (srunErrors.some((l) => /Unable to contact slurm controller|Slurm controller not responding|Socket timed out/i.test(l))) {
    return failed('cluster', `the Slurm controller does not answer${said}`, exit.code, null, job);
  }
  // Without cgroups Slurm's accounting poller kills a job over its memory: FAILED by signal 9, and
  // only slurmstepd's words say why.
  if (jobId && record && srunErrors.some((l) => /exceeded (?:job )?memory limit/i.test(l))) {
    return failed('out-of-memory', `Slurm job ${jobId}${record.node ? ` on ${record.node}` : ''} was killed over its memory limit (resources.mem)${said}`, null, null, job);
  }
  if (jobId && record) {
    const v = verdictOf(jobId, record);
    return failed(v.reason, v.message + (v.reason === 'exit-code' ? '' : said), v.exitCode, null, job);
  }
  // No job (refused at submission: a bad partition, more memory than any node has) or no record.
  return failed(jobId ? 'cluster' : 'exit-code', `srun exited with code ${exit.code ?? exit.signal}${said}`, exit.code, exit.signal, job);
}

/**
 * A step of the runner's own allocation: steps leave no record once they end, so srun's own words
 * ("task 0: Out Of Memory") and its exit code tell how it ended.
 */
function stepFailure(stepId: string | undefined, exit: { code: number | null; signal: string | null }, cancelledBy: 'interrupt' | 'timeout' | undefined, srunErrors: string[], timeoutMs?: number): ExecutionResult {
  const name = stepId ? `Slurm step ${stepId}` : 'the Slurm step';
  const job = (state: string): JobInfo | undefined => (stepId ? { scheduler: 'slurm', id: stepId, state } : undefined);
  if (cancelledBy === 'timeout') return failed('timeout', `timed out after ${timeoutMs! / 1000} s; ${name} cancelled`, null, null, job('CANCELLED'));
  if (cancelledBy === 'interrupt') return failed('interrupted', `interrupted; ${name} cancelled`, null, null, job('CANCELLED'));
  const said = srunErrors.length ? `: ${srunErrors.slice(-3).join(' / ')}` : '';
  if (srunErrors.some((l) => /Out Of Memory|exceeded (?:job )?memory limit/i.test(l))) return failed('out-of-memory', `${name} ended OUT_OF_MEMORY${said}`, exit.code, null, job('OUT_OF_MEMORY'));
  if (srunErrors.some((l) => /Node failure/i.test(l))) return failed('cluster', `${name} ended NODE_FAIL${said}`, null, null, job('NODE_FAIL'));
  const code = /Exited with exit code (\d+)/.exec(srunErrors.join('\n'))?.[1];
  if (code !== undefined) return failed('exit-code', `${name} ended FAILED: exited with code ${code}`, Number(code), null, job('FAILED'));
  return failed('cluster', `srun exited with code ${exit.code ?? exit.signal}${said}`, exit.code, exit.signal, job('FAILED'));
}

/** The job's record once it left the running states, or the last one seen within SETTLE_MS. */
async function settledRecord(id: string, cmds: SlurmCommands): Promise<JobRecord | undefined> {
  const deadline = Date.now() + SETTLE_MS;
  let last: JobRecord | undefined;
  for (;;) {
    const res = await client(cmds.scontrol, ['show', 'job', '-o', id]);
    last = res.code === 0 ? (parseJobRecord(res.stdout) ?? last) : last;
    if ((last && isSettled(last.state)) || Date.now() > deadline || res.code !== 0) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function client(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: CLIENT_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && !stderr ? err.message : '') });
    });
  });
}
