// The terminal reporter as a unit: events in, the screen a person sees out (replayed through a
// minimal terminal), with a fake clock driving the live status area. The subprocess side (a real
// TTY through `script`, pipes, -q, -v) is in tests/runner/live-output.test.ts.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { terminalReporter } from '../../src/report/terminal.js';
import { styleFor } from '../../src/report/style.js';
import type { Clock } from '../../src/report/live-status.js';
import { elapsed } from '../../src/report/live-status.js';
import { screenOf } from '../helpers/screen.js';

class FakeClock implements Clock {
  t = 0;
  readonly timers = new Set<{ ms: number; fn: () => void }>();
  now() {
    return this.t;
  }
  every(ms: number, fn: () => void) {
    const timer = { ms, fn };
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }
  advance(ms: number) {
    this.t += ms;
    for (const timer of [...this.timers]) timer.fn();
  }
}

function sink() {
  const chunks: string[] = [];
  const out = { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream;
  return { out, text: () => chunks.join(''), writes: () => chunks.length };
}

const plain = styleFor({ isTTY: false } as NodeJS.WriteStream, {});
const turn = () => new Promise((r) => setImmediate(r));
const counts = { 'up-to-date': 0, restored: 0, done: 0, failed: 0, 'not-run': 0 };

function started(stage: string, time: number, logs?: string[]): RunEvent {
  return { type: 'stage-started', time, stage, command: `run ${stage}`, reasons: [], logs };
}

describe('terminal reporter: the live status area', () => {
  it('shows each running stage with its elapsed time, redraws it in place on the clock, and leaves only the plain lines at the end', async () => {
    const clock = new FakeClock();
    const tty = sink();
    const live = terminalReporter({ out: tty.out, style: plain, ci: false, live: { columns: () => 80, clock } });
    const piped = sink();
    const lines = terminalReporter({ out: piped.out, style: plain, ci: false });
    const both = (e: RunEvent) => (live(e), lines(e));

    both({ type: 'run-started', runId: 'r', time: 0, stages: ['trace', 'build'], jobs: 2, dryRun: false });
    both(started('trace', 0));
    await turn();
    expect(screenOf(tty.text())).toEqual(['▶ trace started', expect.stringMatching(/^\S trace  0\.0 s$/)]);

    clock.advance(1500);
    both(started('build', 1500));
    await turn();
    clock.advance(250);
    const screen = screenOf(tty.text());
    expect(screen.slice(0, 2)).toEqual(['▶ trace started', '▶ build started']);
    // One line per running stage, oldest first, updated in place (not appended).
    expect(screen.slice(2)).toEqual([expect.stringMatching(/^\S trace  1\.8 s$/), expect.stringMatching(/^\S build  0\.3 s$/)]);

    clock.advance(65_000);
    expect(screenOf(tty.text()).slice(2)).toEqual([expect.stringMatching(/trace  1 min 06 s$/), expect.stringMatching(/build  1 min 05 s$/)]);

    both({ type: 'stage-done', time: clock.t, stage: 'trace', durationMs: clock.t, outs: [] });
    both({ type: 'stage-done', time: clock.t, stage: 'build', durationMs: clock.t - 1500, outs: [] });
    await turn();
    // Nothing runs: the timer stops and the area is gone.
    expect(clock.timers.size).toBe(0);
    both({ type: 'run-finished', time: clock.t, runId: 'r', status: 'success', durationMs: clock.t, counts: { ...counts, done: 2 } });
    expect(screenOf(tty.text())).toEqual(screenOf(piped.text()));
    expect(screenOf(tty.text()).at(-1)).toBe('ok: 2 ran in 66.8 s');
  });

  it('never lets a status line wrap: long names are cut to the terminal width', async () => {
    const clock = new FakeClock();
    const tty = sink();
    const r = terminalReporter({ out: tty.out, style: plain, ci: false, live: { columns: () => 30, clock } });
    const name = 'a_stage_with_a_very_long_name_indeed';
    r(started(name, 0));
    await turn();
    clock.advance(250);
    const status = screenOf(tty.text()).at(-1)!;
    expect(status.length).toBeLessThan(30);
    expect(status).toMatch(/…  0\.3 s$/);
    r.close();
    expect(screenOf(tty.text())).toEqual([`▶ ${name} started`]);
  });

  it('counts the running stages beyond the few it names', async () => {
    const clock = new FakeClock();
    const tty = sink();
    const r = terminalReporter({ out: tty.out, style: plain, ci: false, live: { columns: () => 80, clock, maxLines: 3 } });
    for (const [i, s] of ['a', 'b', 'c', 'd', 'e'].entries()) r(started(s, i));
    await turn();
    expect(screenOf(tty.text()).slice(5)).toEqual([expect.stringMatching(/ a /), expect.stringMatching(/ b /), '  … and 3 more running']);
    r.close();
  });

  it('formats elapsed time as a clock reads', () => {
    expect([elapsed(0), elapsed(4_249), elapsed(59_949), elapsed(60_000), elapsed(242_000)]).toEqual(['0.0 s', '4.2 s', '59.9 s', '1 min 00 s', '4 min 02 s']);
  });
});

describe('terminal reporter: output, failures, quiet, dry runs', () => {
  it('prints a stage’s output line by line with its name, holding partial lines until their newline or the stage’s end', async () => {
    const s = sink();
    const r = terminalReporter({ out: s.out, style: plain, ci: false, verbose: true });
    r({ type: 'run-started', runId: 'r', time: 0, stages: ['trace', 'b'], jobs: 1, dryRun: false });
    r(started('trace', 0, ['.evidence/logs/trace.stdout.log', '.evidence/logs/trace.stderr.log']));
    const out = (stream: 'stdout' | 'stderr', text: string) => r({ type: 'stage-output', time: 1, stage: 'trace', stream, text });
    out('stdout', 'hel');
    out('stderr', 'warning: x\n');
    out('stdout', 'lo\nwor');
    out('stdout', 'ld\n10%\r50%\r');
    out('stdout', '100%\r\nno newline');
    r({ type: 'stage-done', time: 2, stage: 'trace', durationMs: 2, outs: [] });
    await turn();
    expect(s.text().split('\n').filter(Boolean)).toEqual([
      '▶ trace started',
      '  $ run trace',
      '  log: .evidence/logs/trace.stdout.log, .evidence/logs/trace.stderr.log',
      'trace ! warning: x',
      'trace | hello',
      'trace | world',
      'trace | 100%',
      'trace | no newline',
      '✓ trace done in 0.00 s',
    ]);
  });

  it('says a failure once: no exit code twice, no first line repeated, and where the full log is', async () => {
    const s = sink();
    const r = terminalReporter({ out: s.out, style: plain, ci: false });
    const base = { type: 'stage-failed', time: 0, durationMs: 5 } as const;
    r({ ...base, stage: 'a', reason: 'exit-code', message: 'exited with code 1', exitCode: 1, signal: null, stderrTail: 'oops', logs: ['.evidence/logs/a.stdout.log', '.evidence/logs/a.stderr.log'] });
    r({ ...base, stage: 'b', reason: 'exception', message: 'boom', exitCode: null, signal: null, stderrTail: 'boom' });
    r({ ...base, stage: 'c', reason: 'timeout', message: 'timed out after 1 s', exitCode: null, signal: 'SIGTERM', stderrTail: '', logs: ['out/c.log'] });
    await turn();
    expect(s.text().split('\n').filter(Boolean)).toEqual([
      '✗ a failed: exited with code 1',
      '  │ oops',
      '  full log: .evidence/logs/a.stdout.log, .evidence/logs/a.stderr.log',
      '✗ b failed: boom',
      '✗ c failed: timed out after 1 s (SIGTERM)',
      '  full log: out/c.log',
    ]);
  });

  it('with quiet, keeps only what went wrong and the closing line', async () => {
    const s = sink();
    const r = terminalReporter({ out: s.out, style: plain, ci: false, quiet: true });
    r({ type: 'run-started', runId: 'r', time: 0, stages: ['a', 'b'], jobs: 1, dryRun: false });
    r(started('a', 0));
    r({ type: 'stage-done', time: 1, stage: 'a', durationMs: 1, outs: [] });
    r({ type: 'warning', time: 1, message: 'something odd' });
    r({ type: 'findings', time: 1, stage: 'a', verdict: 'MATCH', severity: 'ok', headline: 'all keys match' });
    r({ type: 'stage-failed', time: 1, stage: 'b', reason: 'exit-code', message: 'exited with code 2', exitCode: 2, signal: null, stderrTail: 'bad', logs: ['x.log'] });
    r({ type: 'run-finished', time: 2, runId: 'r', status: 'failed', durationMs: 2, counts: { ...counts, done: 1, failed: 1 }, verdict: { stage: 'a', verdict: 'MATCH', severity: 'ok' } });
    expect(s.text().split('\n').filter(Boolean)).toEqual(['✗ b failed: exited with code 2', '  │ bad', '  full log: x.log', 'FAILED: 1 ran, 1 failed in 0.00 s; verdict MATCH (a)']);
  });

  it('ends a dry run with what would happen, never with what ran', () => {
    const s = sink();
    const r = terminalReporter({ out: s.out, style: plain, ci: false });
    r({ type: 'run-started', runId: 'r', time: 0, stages: ['a'], jobs: 1, dryRun: true });
    r({ type: 'run-finished', time: 0, runId: 'r', status: 'success', durationMs: 10, counts: { ...counts, done: 5, restored: 1, 'up-to-date': 2 }, dryRun: true });
    expect(s.text().trim().split('\n').at(-1)).toBe('dry run: would run 5, would restore 1, 2 up to date in 0.01 s');
    expect(s.text()).not.toMatch(/\bran\b/);
  });
});
