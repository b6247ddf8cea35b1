// A controllable stand-in for the command executor, for in-process scheduler tests: it records
// which stages started and how many ran at once, writes each stage's outs as the stage's "work",
// and finishes a stage only when the test says so (or at once, in `auto` mode). Order and effect
// are asserted, never milliseconds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Execution, ExecutionResult, Executor } from '../../src/run/executor.js';

let executions = 0;

interface Pending {
  x: Execution;
  finish(result: ExecutionResult): void;
}

export class ControlledExecutor implements Executor {
  readonly captures = false;
  readonly started: string[] = [];
  running = 0;
  maxRunning = 0;
  /** What each stage writes into its outs (default: new content at every execution, in any executor). */
  content: (stage: string) => string = (stage) => `${stage} ${++executions}\n`;
  private readonly pending = new Map<string, Pending>();
  private readonly waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  /** auto: finish every stage on the next turn of the event loop; else wait for finish(). */
  constructor(private readonly auto = false) {}

  async execute(x: Execution): Promise<ExecutionResult> {
    const name = x.stage.name;
    this.started.push(name);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const result = await new Promise<ExecutionResult>((resolve) => {
      this.pending.set(name, { x, finish: resolve });
      this.wake();
      if (this.auto) setImmediate(() => this.finish(name));
    });
    this.running--;
    return result;
  }

  /** Ends a started stage: ok writes its outs first; a failure writes nothing. */
  finish(name: string, result: ExecutionResult = { ok: true }): void {
    const p = this.pending.get(name);
    if (!p) throw new Error(`stage ${name} is not running`);
    this.pending.delete(name);
    if (result.ok) {
      for (const o of p.x.stage.outs) {
        const file = join(p.x.root, o.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, this.content(name));
      }
    }
    p.finish(result);
  }

  /** Resolves once the condition holds (checked whenever a stage starts). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  untilStarted(...names: string[]): Promise<void> {
    return this.until(() => names.every((n) => this.pending.has(n)));
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (!w.test()) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}
