// A running `evidence watch` for tests: the compiled CLI as a real subprocess, its output collected
// so a test can wait (with a bound) for a line, count cycles, and stop it with Ctrl-C (SIGINT).
import type { ChildProcess } from 'node:child_process';
import { TestProject } from '../helpers/project.js';

export const CYCLE_DONE = /^watch: cycle (\d+) (?:done|interrupted) in /gm;

export class WatchProcess {
  readonly child: ChildProcess;
  output = '';
  private exited: Promise<number | null>;

  constructor(
    readonly project: TestProject,
    args: string[] = [],
  ) {
    this.child = project.spawnCli(['watch', ...args]);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  }

  /** Number of cycles that have finished. */
  cycles(): number {
    return [...this.output.matchAll(CYCLE_DONE)].length;
  }

  /** The compact status line of cycle n. */
  cycleLine(n: number): string | undefined {
    return new RegExp(`^watch: cycle ${n} (?:done|interrupted) in .*$`, 'm').exec(this.output)?.[0];
  }

  /**
   * A bound on waiting, not on speed: generous, so that on a loaded machine (two cores shared with
   * builds, where one cycle of real processes has taken over 10 s) a test is slow, never failing.
   */
  async waitFor(what: RegExp | (() => boolean), timeoutMs = 45_000): Promise<void> {
    const test = typeof what === 'function' ? what : () => what.test(this.output);
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.child.exitCode !== null) throw new Error(`evidence watch exited (${this.child.exitCode}) while waiting for ${what}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output so far:\n${this.output}`);
      await sleep(10);
    }
  }

  waitForCycle(n: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.cycles() >= n, timeoutMs);
  }

  /** Ctrl-C; resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
