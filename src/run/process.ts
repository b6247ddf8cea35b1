// Runs one cmd-stage process in its own process group, streams going straight to files (no pumping
// through node, and no hang when a grandchild keeps a pipe open). On abort or timeout the whole
// group gets SIGTERM, then SIGKILL after a grace period, so no grandchild outlives the stage.
//
// The limit of a group kill: a descendant that leaves the group is not reached. One that calls
// `setsid` (or setpgid, as `set -m` job control does for background jobs) has a group of its own
// and outlives its stage, an interrupt and a kill -9 takeover alike, writing wherever it writes.
// Not tracked, because it is not cheap: the kernel names no ancestry once the parent is gone, so
// finding such processes means scanning /proc at every stage end: their session (which catches
// setpgid, not setsid, since setsid starts a new one) from /proc/*/stat, measured ~8 ms per scan
// here with 100 processes, or an environment marker from /proc/*/environ (catches both, unless
// the env is cleared), ~15 ms. A stage that starts a daemon on purpose owns its end; the README's
// safety section says so.
//
// Stage commands stay on node's spawn rather than execa (which the tool uses for snapshot tools and
// forensics git calls): execa signals only the direct child, not the group, and measured ~1.5 ms
// more per spawn plus ~130 ms to load it on the runner's hot path.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupRecordFile, registerGroup, signalGroup, terminateGroup, unregisterGroup } from './process-group.js';
import { launchThroughHelper, type Exit, type Launched, type LaunchSpec } from './spawner.js';
import { PARTIAL_SUFFIX } from '../fs/atomic-write.js';

export interface ProcessSpec {
  /** Shell string (run by /bin/sh -c) or argv. */
  cmd: string | string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Absolute files receiving the streams (written to a temp name, renamed when the process ends). */
  stdoutFile: string;
  stderrFile: string;
  timeoutMs?: number;
  signal: AbortSignal;
  graceMs: number;
  /** Called with the child's pid once it started (for orphan-free interrupts and tests). */
  onSpawn?: (pid: number) => void;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** The spawn itself failed (command not found for argv, bad cwd). */
  spawnError?: string;
  /** The process started, but its end could not be observed (the spawner helper died). */
  lost?: string;
  durationMs: number;
}

function tempFor(file: string): string {
  return `${file}${PARTIAL_SUFFIX}`;
}

/** node's own spawn: the fallback where the spawner helper is not available. */
function launchWithNode(spec: LaunchSpec): Promise<Launched> {
  const outFd = openSync(spec.stdoutPath, 'w');
  const errFd = spec.stderrPath === spec.stdoutPath ? outFd : openSync(spec.stderrPath, 'w');
  let child;
  try {
    child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', outFd, errFd],
      detached: true, // its own process group: we signal -pid to reach grandchildren
    });
  } catch (err) {
    // Some failures (E2BIG: an environment variable over the kernel's 128 kB) throw here rather
    // than arrive as an 'error' event: the same spawn error either way, as from the helper.
    return Promise.resolve({ error: (err as Error).message });
  } finally {
    // The child holds its own copies once spawn returned.
    closeSync(outFd);
    if (errFd !== outFd) closeSync(errFd);
  }
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid !== undefined) return Promise.resolve({ pid: child.pid, exit });
  return new Promise((resolve) => child.on('error', (err) => resolve({ error: err.message })));
}

/** Makes sure a capture file exists (the child may have failed before opening it). */
function touch(file: string): void {
  closeSync(openSync(file, 'a'));
}

export async function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  const started = Date.now();
  const outDir = dirname(spec.stdoutFile);
  mkdirSync(outDir, { recursive: true });
  if (dirname(spec.stderrFile) !== outDir) mkdirSync(dirname(spec.stderrFile), { recursive: true });
  const shared = spec.stderrFile === spec.stdoutFile;
  const outTmp = tempFor(spec.stdoutFile);
  const errTmp = shared ? outTmp : tempFor(spec.stderrFile);
  const [file, args] = typeof spec.cmd === 'string' ? ['/bin/sh', ['-c', spec.cmd]] : [spec.cmd[0]!, spec.cmd.slice(1)];
  const launch: LaunchSpec = { file, args, cwd: spec.cwd, env: spec.env, stdoutPath: outTmp, stderrPath: errTmp };
  let launched = await (launchThroughHelper({ ...launch, recordFile: groupRecordFile() }) ?? launchWithNode(launch));
  if ('unavailable' in launched) launched = await launchWithNode(launch);
  const finish = () => {
    renameSync(outTmp, spec.stdoutFile);
    if (!shared) renameSync(errTmp, spec.stderrFile);
  };
  if (!('pid' in launched)) {
    touch(outTmp);
    if (!shared) touch(errTmp);
    finish();
    const failure = 'lost' in launched ? { lost: launched.lost } : { spawnError: 'error' in launched ? launched.error : launched.unavailable };
    return { exitCode: null, signal: null, timedOut: false, aborted: spec.signal.aborted, ...failure, durationMs: Date.now() - started };
  }

  const pgid = launched.pid;
  registerGroup(pgid, launched.recorded);
  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  let killDeadline: number | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const terminate = () => {
    if (killDeadline !== undefined) return;
    signalGroup(pgid, 'SIGTERM');
    killDeadline = Date.now() + spec.graceMs;
    killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), spec.graceMs);
  };
  const onAbort = () => {
    aborted = true;
    terminate();
  };
  if (spec.signal.aborted) onAbort();
  else spec.signal.addEventListener('abort', onAbort, { once: true });
  if (spec.timeoutMs) {
    timeoutTimer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, spec.timeoutMs);
  }
  spec.onSpawn?.(pgid);
  const exit = await launched.exit;
  clearTimeout(timeoutTimer);
  spec.signal.removeEventListener('abort', onAbort);
  // Whatever the stage left running in its group goes with it, and the stage is not over until
  // it has: a grandchild that ignores SIGTERM must not outlive the run as an orphan.
  const grace = killDeadline === undefined ? spec.graceMs : Math.max(0, killDeadline - Date.now());
  await terminateGroup(pgid, grace);
  clearTimeout(killTimer);
  unregisterGroup(pgid);
  finish();
  return { exitCode: exit.code, signal: exit.signal, timedOut, aborted, lost: exit.lost, durationMs: Date.now() - started };
}

/** The last `maxBytes` of a file as text (whole lines where possible). */
export function tailOf(file: string, maxBytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    let text = buf.toString('utf8');
    if (len < size) text = text.slice(text.indexOf('\n') + 1);
    return text;
  } finally {
    closeSync(fd);
  }
}

export function lastLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

export function removeQuietly(file: string): void {
  rmSync(file, { force: true });
}
