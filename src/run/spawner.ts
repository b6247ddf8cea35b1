// Starts stage processes through evidence-spawner (src/native/spawner.c), a small helper process
// started once per run, instead of node's own spawn. node forks its whole process for every child:
// measured here, 5.8 ms of the main thread per spawn from a bare node and more from the runner's
// heap, plus copy-on-write faults on whatever the runner touches until the child has exec'd. A
// fork from the helper costs well under 1 ms and none of it on the runner's thread.
//
// The helper is compiled by `npm run build` where a C compiler exists. Without it (or with
// EVIDENCE_SPAWNER=node, or when it cannot be started) stages start through node's spawn, with the
// same behaviour: a session and process group of their own, stdin from /dev/null, the streams
// written to the given files, the exit code or signal reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { toolRoot } from '../tool-root.js';

export interface LaunchSpec {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Paths the helper opens (truncating) for the child's stdout and stderr; equal paths share one file. */
  stdoutPath: string;
  stderrPath: string;
  /** The log of started process groups (process-group.ts) the helper appends this one to, before it answers. */
  recordFile?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The helper went away before it could report this process's end. */
  lost?: string;
}

/**
 * Started; could not start; the helper never worked (start it another way); or the helper went
 * away after it had worked, before it answered: the process may have started, so it must not be
 * started again.
 */
export type Launched = { pid: number; exit: Promise<Exit>; recorded?: boolean } | { error: string } | { unavailable: string } | { lost: string };

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));
const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/**
 * The helper's path when it was built and may be used, else undefined. EVIDENCE_SPAWNER=node
 * switches it off; an absolute path names another build of it (to try one, and in tests).
 */
export function spawnerBinary(): string | undefined {
  const chosen = process.env.EVIDENCE_SPAWNER;
  if (chosen === 'node' || process.platform === 'win32') return undefined;
  const file = chosen && isAbsolute(chosen) ? chosen : join(toolRoot(), 'dist', 'native', 'evidence-spawner');
  try {
    accessSync(file, fsConstants.X_OK);
    return file;
  } catch {
    return undefined;
  }
}

function encode(spec: LaunchSpec): Buffer {
  const env: string[] = [];
  for (const [k, v] of Object.entries(spec.env)) if (v !== undefined) env.push(`${k}=${v}`);
  const fields = [spec.recordFile ?? '', spec.cwd, spec.stdoutPath, spec.stderrPath, String(spec.args.length + 1), spec.file, ...spec.args, String(env.length), ...env];
  for (const f of fields) {
    // A NUL would split the field: node's own spawn refuses these too.
    if (f.includes('\0')) throw new TypeError('arguments, paths and environment must not contain NUL bytes');
  }
  return Buffer.from(fields.join('\0') + '\0');
}

class Helper {
  readonly child: ChildProcess;
  /** Start replies arrive in request order. */
  private readonly starting: Array<(reply: { pid: number } | { errno: number } | { gone: 'never answered' | 'after answering' }) => void> = [];
  /** It answered a request: it works, and a request in flight when it dies may have started. */
  private answered = false;
  private readonly running = new Map<number, (exit: Exit) => void>();
  private rest = '';
  dead: string | undefined;

  constructor(binary: string) {
    // Its own session: a Ctrl-C at the terminal is the runner's to handle, not the helper's.
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.child.on('error', (err) => this.fail(`evidence-spawner: ${err.message}`));
    this.child.on('exit', (code, sig) => this.fail(`evidence-spawner ended (${sig ?? `exit ${code}`})`));
    this.child.stdin!.on('error', () => {
      // A helper that died mid-write: its exit event says so.
    });
    this.child.stdout!.setEncoding('latin1');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.idle();
  }

  /** Holds the event loop open only while something of ours is in flight. */
  private idle(): void {
    if (this.starting.length === 0 && this.running.size === 0) {
      this.child.unref();
      (this.child.stdout as unknown as { unref?: () => void }).unref?.();
      (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    }
  }

  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
  }

  private onData(chunk: string): void {
    this.rest += chunk;
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, nl);
      this.rest = this.rest.slice(nl + 1);
      const f = line.split(' ');
      if (f[0] === 'S' || f[0] === 'E') this.answered = true;
      if (f[0] === 'S') this.starting.shift()?.({ pid: Number(f[1]) });
      else if (f[0] === 'E') this.starting.shift()?.({ errno: Number(f[1]) });
      else if (f[0] === 'X') {
        const pid = Number(f[1]);
        const n = Number(f[3]);
        const exit: Exit = f[2] === 's' ? { code: null, signal: signalNames.get(n) ?? (`SIG${n}` as NodeJS.Signals) } : { code: n, signal: null };
        // Registered when its S line was handled: the helper writes S before it can reap.
        this.running.get(pid)?.(exit);
        this.running.delete(pid);
      }
    }
    this.idle();
  }

  private fail(why: string): void {
    if (this.dead) return;
    this.dead = why;
    const gone = this.answered ? 'after answering' : 'never answered';
    for (const s of this.starting.splice(0)) s({ gone });
    for (const [pid, done] of this.running) done({ code: null, signal: null, lost: `${why} while process ${pid} was running` });
    this.running.clear();
  }

  launch(spec: LaunchSpec): Promise<Launched> {
    let request: Buffer;
    try {
      request = encode(spec);
    } catch (err) {
      return Promise.resolve({ error: (err as Error).message });
    }
    this.busy();
    return new Promise((resolve) => {
      this.starting.push((reply) => {
        if ('gone' in reply) {
          const why = this.dead ?? 'evidence-spawner ended';
          if (reply.gone === 'never answered') resolve({ unavailable: why });
          else resolve({ lost: `${why} before it said whether the process had started` });
          return;
        }
        if ('errno' in reply) {
          resolve({ error: `spawn ${spec.file} ${errnoNames.get(reply.errno) ?? `errno ${reply.errno}`}` });
          return;
        }
        const { pid } = reply;
        const exit = new Promise<Exit>((done) => {
          if (this.dead) done({ code: null, signal: null, lost: this.dead });
          else this.running.set(pid, done);
        });
        resolve({ pid, exit, recorded: spec.recordFile !== undefined });
      });
      this.child.stdin!.write(request);
    });
  }
}

let helper: Helper | undefined;
let unavailable = false;

/**
 * Starts a process through the helper, or returns undefined when the helper is not available
 * (not built, switched off, or it died: then the caller uses node's spawn).
 */
export function launchThroughHelper(spec: LaunchSpec): Promise<Launched> | undefined {
  if (unavailable || helper?.dead) return undefined;
  if (!helper) {
    const binary = spawnerBinary();
    if (!binary) {
      unavailable = true;
      return undefined;
    }
    helper = new Helper(binary);
  }
  return helper.launch(spec);
}

/** The helper's pid while one is running (for tests and diagnostics). */
export function spawnerPid(): number | undefined {
  return helper && !helper.dead ? helper.child.pid : undefined;
}

/** Ends the helper (its stdin closes, it exits) and forgets what was decided about it. */
export function stopSpawner(): void {
  helper?.child.stdin?.end();
  helper = undefined;
  unavailable = false;
}
