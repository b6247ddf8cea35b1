// The live part of the terminal view (a TTY only): the stages running now, with how long each has
// been running, in a few lines at the bottom that are redrawn in place. Every other line is
// written above them and stays; the area is erased when nothing runs, so a run ends with exactly
// the lines a plain terminal shows. Redrawn on a timer a few times a second while a stage runs,
// and along with the lines written above it; never when nothing runs.
import type { Style } from './style.js';

export interface Clock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

export interface LiveOptions {
  /** The terminal's width now (it may be resized). */
  columns(): number;
  clock?: Clock;
  /** Between redraws (default 250 ms). */
  intervalMs?: number;
  /** Running stages shown by name before the rest is counted (default 6). */
  maxLines?: number;
}

/** Elapsed time as a person reads it on a clock: 4.2 s, 1 min 05 s. */
export function elapsed(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

// Cursor to the start of the line, up n lines, erase from there to the end of the screen.
const erase = (n: number) => (n ? `\r\x1b[${n}A\x1b[J` : '');

export class LiveStatus {
  private readonly running = new Map<string, number>();
  private drawn = 0;
  private stopTimer?: () => void;
  private readonly clock: Clock;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly style: Style,
    private readonly opts: LiveOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  started(stage: string, time: number): void {
    this.running.set(stage, time);
    this.stopTimer ??= this.clock.every(this.opts.intervalMs ?? 250, () => this.out.write(this.redraw('')));
  }

  ended(stage: string): void {
    this.running.delete(stage);
    if (!this.running.size) {
      this.stopTimer?.();
      this.stopTimer = undefined;
    }
  }

  /** Writes whole lines above the area, and the area below them again, in one write. */
  write(text: string): void {
    this.out.write(this.redraw(text));
  }

  /** Erases the area for good (the run is over). */
  close(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.running.clear();
    if (this.drawn) this.out.write(this.redraw(''));
  }

  private redraw(text: string): string {
    const before = erase(this.drawn);
    const lines = this.area();
    this.drawn = lines.length;
    return before + text + lines.map((l) => l + '\n').join('');
  }

  private area(): string[] {
    if (!this.running.size) return [];
    const c = this.style;
    const now = this.clock.now();
    // A line must never wrap: the erase counts lines, not rows.
    const width = Math.max(20, this.opts.columns() - 1);
    const stages = [...this.running].sort((a, b) => a[1] - b[1]);
    const max = this.opts.maxLines ?? 6;
    const shown = stages.length > max ? stages.slice(0, max - 1) : stages;
    const nameWidth = Math.min(30, Math.max(...shown.map(([s]) => s.length)));
    const lines = shown.map(([stage, since]) => {
      const time = elapsed(now - since);
      const room = Math.max(1, width - 4 - time.length);
      const name = stage.length > room ? `${stage.slice(0, room - 1)}…` : stage.padEnd(Math.min(nameWidth, room));
      return `${c.yellow(SPINNER[Math.floor(now / 250) % SPINNER.length]!)} ${name}  ${c.dim(time)}`;
    });
    if (shown.length < stages.length) lines.push(c.dim(`  … and ${stages.length - shown.length} more running`));
    return lines;
  }
}
