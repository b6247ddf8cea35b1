// Renders run events as one line each for a person (or, with `ci`, for a CI log: no colour unless
// forced, every line timestamped). With `verbose`, each stage's command line, where its full log
// lives, and its output as it arrives, line by line, prefixed with its name. With `quiet`, only
// failures and the closing line. With `live` (a TTY), the running stages and their elapsed time
// stay at the bottom, redrawn in place (live-status.ts); the lines above are the same either way.
import type { RunEvent } from '../run/events.js';
import type { Style } from './style.js';
import { OutputLines } from './output-lines.js';
import { formatByteSize } from '../pipeline/byte-size.js';
import { LiveStatus, type LiveOptions } from './live-status.js';

export interface TerminalOptions {
  out: NodeJS.WritableStream;
  style: Style;
  ci: boolean;
  verbose?: boolean;
  quiet?: boolean;
  /** A TTY that can redraw: show the running stages in place. */
  live?: LiveOptions;
}

export type TerminalReporter = ((e: RunEvent) => void) & {
  /** Writes what is pending and erases the live area (also when the run ended early). */
  close(): void;
};

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Events a quiet run still shows: what went wrong, and the closing line. */
const QUIET: ReadonlySet<RunEvent['type']> = new Set(['stage-failed', 'blocker-done', 'blocker-failed', 'gate-met', 'run-finished']);

/** How a failure ended, when its message does not already say it (a timeout's signal, say). */
function endedBy(e: Extract<RunEvent, { type: 'stage-failed' }>): string {
  if (e.reason === 'exit-code' || e.reason === 'signal') return '';
  return e.exitCode !== null ? ` (exit code ${e.exitCode})` : e.signal ? ` (${e.signal})` : '';
}

export function terminalReporter(opts: TerminalOptions): TerminalReporter {
  const { out, style: c } = opts;
  const live = opts.live ? new LiveStatus(out, c, opts.live) : undefined;
  const output = new OutputLines();
  let nameWidth = 0;
  let dryRun = false;
  // Lines are batched per event-loop turn: a no-op run of a large pipeline emits hundreds of
  // events at once, and one write per line was a measurable share of its run time.
  let pending: string[] = [];
  const flush = () => {
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    if (live) live.write(text);
    else out.write(text);
  };
  const write = (time: number, line: string) => {
    const stamp = opts.ci ? `${new Date(time).toISOString()} ` : '';
    if (!pending.length) setImmediate(flush);
    pending.push(`${stamp}${line}\n`);
  };
  const outputLine = (time: number, stage: string, stream: 'stdout' | 'stderr', line: string) =>
    write(time, `${c.dim(stage.padEnd(nameWidth))} ${stream === 'stdout' ? c.dim('|') : c.yellow('!')} ${line}`);
  /** A stage's unfinished output lines, before the line that says it ended. */
  const endOutput = (time: number, stage: string) => {
    for (const { stream, line } of output.end(stage)) outputLine(time, stage, stream, line);
  };

  const render = (e: RunEvent) => {
    switch (e.type) {
      case 'run-started':
        dryRun = e.dryRun;
        nameWidth = Math.min(24, Math.max(0, ...e.stages.map((s) => s.length)));
        if (e.dryRun) write(e.time, c.dim(`dry run: nothing will be executed`));
        break;
      case 'stage-up-to-date':
        write(e.time, `${c.dim('•')} ${e.stage} ${c.dim(`up to date`)}`);
        break;
      case 'stage-restored':
        write(e.time, `${c.cyan('↺')} ${e.stage} restored from ${e.from === 'remote' ? 'remote' : 'cache'}`);
        break;
      case 'stage-would-run':
        write(e.time, `${c.yellow('?')} ${e.stage} ${e.restore ? 'would restore' : 'would run'}: ${e.reasons.join('; ')}`);
        break;
      case 'stage-started':
        live?.started(e.stage, e.time);
        write(e.time, `${c.yellow('▶')} ${e.stage} started${e.reasons.length ? c.dim(` (${e.reasons.slice(0, 3).join('; ')}${e.reasons.length > 3 ? '; …' : ''})`) : ''}`);
        if (opts.verbose) {
          write(e.time, c.dim(`  $ ${e.command}`));
          if (e.logs?.length) write(e.time, c.dim(`  log: ${e.logs.join(', ')}`));
        }
        break;
      case 'stage-log':
        write(e.time, `  ${c.dim(`${e.stage}:`)} ${e.level === 'warn' ? c.yellow(e.message) : e.message}`);
        break;
      case 'stage-output':
        for (const line of output.add(e.stage, e.stream, e.text)) outputLine(e.time, e.stage, e.stream, line);
        break;
      case 'stage-done':
        live?.ended(e.stage);
        endOutput(e.time, e.stage);
        write(e.time, `${c.green('✓')} ${e.stage} done in ${seconds(e.durationMs)}`);
        break;
      case 'stage-failed': {
        live?.ended(e.stage);
        endOutput(e.time, e.stage);
        const first = e.message.split('\n')[0]!;
        write(e.time, `${c.red('✗')} ${e.stage} failed: ${first}${endedBy(e)}`);
        // The tail of what the stage wrote; with -v it was shown as it came. A stage whose streams
        // are not captured has its message as its "stderr": its first line was just said.
        const tail = opts.verbose && e.logs?.length ? [] : e.stderrTail.split('\n').filter((l) => l !== first);
        if (tail.some((l) => l.trim())) for (const l of tail) write(e.time, c.dim(`  │ ${l}`));
        if (e.logs?.length) write(e.time, c.dim(`  full log: ${e.logs.join(', ')}`));
        break;
      }
      case 'stage-not-run':
        write(e.time, `${c.dim('-')} ${e.stage} ${c.dim(`not run: ${e.because}`)}`);
        break;
      case 'cache-corrupt':
        write(e.time, `${c.red('!')} ${e.stage}: cached object for '${e.path}' is corrupt (sha256 ${e.hash.slice(0, 12)}…); not restored, the stage re-runs`);
        break;
      case 'warning':
        write(e.time, `${c.yellow('!')} ${e.stage ? `${e.stage}: ` : ''}${e.message}`);
        break;
      case 'blocker-done':
        write(e.time, `${c.yellow('⚑')} blocker recorded the failure of ${e.stage}: ${e.artifacts.join(', ')}`);
        break;
      case 'blocker-failed':
        write(e.time, `${c.red('⚑')} blocker failed for ${e.stage}: ${e.message}`);
        break;
      case 'gate-met':
        write(e.time, `${c.red('⛔')} ${e.stage}: ${e.verdict ? `verdict ${e.verdict} meets` : 'meets'} ${e.rule}${e.detail ? ` (${e.detail})` : ''}`);
        break;
      case 'findings': {
        const colour = { ok: c.green, notice: c.yellow, problem: c.red }[e.severity];
        write(e.time, `${colour('▸')} ${e.stage}: ${e.verdict ? `${colour(e.verdict)}: ` : ''}${e.headline}`);
        break;
      }
      case 'cache-collected':
        if (e.freed.objects + e.freed.records || e.overBudget) {
          const over = e.overBudget && e.maxSize !== undefined ? c.yellow(`; still above max_size ${formatByteSize(e.maxSize)}: what evidence.lock names is never removed`) : '';
          write(e.time, `${c.dim('cache:')} freed ${e.freed.objects} object(s) and ${e.freed.records} run record(s), ${formatByteSize(e.freed.bytes)} (pipeline.yaml cache:); ${formatByteSize(e.kept.bytes)} kept${over}`);
        }
        break;
      case 'shard-selected': {
        const shown = e.items.length > 8 ? `${e.items.slice(0, 8).join(', ')}, …` : e.items.join(', ');
        write(e.time, `${c.cyan('◧')} shard ${e.shard}/${e.of}: ${e.items.length} of ${e.allItems} item(s)${e.items.length ? ` (${shown})` : ''}, ${e.instances} stage instance(s)`);
        for (const l of e.left) write(e.time, `${c.dim('-')} ${l.stage} ${c.dim(`not run in a shard: ${l.why}`)}`);
        break;
      }
      case 'remote-pushed':
        write(e.time, `${c.cyan('⇡')} pushed ${e.stages} stage${e.stages === 1 ? '' : 's'} to ${e.url} (${e.objects} new object${e.objects === 1 ? '' : 's'})`);
        break;
      case 'reports-written':
        write(e.time, `${c.dim('reports:')} ${e.paths.join(', ')}`);
        break;
      case 'run-finished': {
        const n = e.counts;
        const dry = e.dryRun ?? dryRun;
        // In a dry run nothing ran: `done` and `restored` count what would happen.
        const parts = [
          n.done && (dry ? `would run ${n.done}` : `${n.done} ran`),
          n.restored && (dry ? `would restore ${n.restored}` : `${n.restored} restored`),
          n['up-to-date'] && `${n['up-to-date']} up to date`,
          n.failed && `${n.failed} failed`,
          n['not-run'] && `${n['not-run']} not run`,
        ].filter(Boolean);
        const label = dry && e.status === 'success' ? c.dim('dry run') : { success: c.green('ok'), failed: c.red('FAILED'), interrupted: c.yellow('interrupted'), gate: c.red('gate failed') }[e.status];
        const v = e.verdict;
        const verdict = v ? `; verdict ${{ ok: c.green, notice: c.yellow, problem: c.red }[v.severity](v.verdict)} (${v.stage})` : '';
        write(e.time, `${label}: ${parts.join(', ') || 'nothing to do'} in ${seconds(e.durationMs)}${verdict}`);
        flush();
        live?.close();
        break;
      }
    }
  };
  const reporter = (e: RunEvent) => {
    if (opts.quiet && !QUIET.has(e.type)) return;
    render(e);
  };
  return Object.assign(reporter, {
    close() {
      flush();
      live?.close();
    },
  });
}
