// Renders run events as one line each for a person (or, with `ci`, for a CI log: no colour unless
// forced, every line timestamped).
import type { RunEvent } from '../run/events.js';
import type { Style } from './style.js';

export interface TerminalOptions {
  out: NodeJS.WritableStream;
  style: Style;
  ci: boolean;
  verbose?: boolean;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function terminalReporter(opts: TerminalOptions): (e: RunEvent) => void {
  const { out, style: c } = opts;
  // Lines are batched per event-loop turn: a no-op run of a large pipeline emits hundreds of
  // events at once, and one write per line was a measurable share of its run time.
  let pending: string[] = [];
  const flush = () => {
    if (pending.length) out.write(pending.join(''));
    pending = [];
  };
  const write = (time: number, line: string) => {
    const stamp = opts.ci ? `${new Date(time).toISOString()} ` : '';
    if (!pending.length) setImmediate(flush);
    pending.push(`${stamp}${line}\n`);
  };
  return (e) => {
    switch (e.type) {
      case 'run-started':
        if (e.dryRun) write(e.time, c.dim(`dry run: nothing will be executed`));
        break;
      case 'stage-up-to-date':
        write(e.time, `${c.dim('•')} ${e.stage} ${c.dim(`up to date`)}`);
        break;
      case 'stage-restored':
        write(e.time, `${c.cyan('↺')} ${e.stage} restored from cache`);
        break;
      case 'stage-would-run':
        write(e.time, `${c.yellow('?')} ${e.stage} ${e.restore ? 'would restore' : 'would run'}: ${e.reasons.join('; ')}`);
        break;
      case 'stage-started':
        write(e.time, `${c.yellow('▶')} ${e.stage} started${e.reasons.length ? c.dim(` (${e.reasons.slice(0, 3).join('; ')}${e.reasons.length > 3 ? '; …' : ''})`) : ''}`);
        if (opts.verbose) write(e.time, c.dim(`  $ ${e.command}`));
        break;
      case 'stage-log':
        write(e.time, `  ${c.dim(`${e.stage}:`)} ${e.level === 'warn' ? c.yellow(e.message) : e.message}`);
        break;
      case 'stage-done':
        write(e.time, `${c.green('✓')} ${e.stage} done in ${seconds(e.durationMs)}`);
        break;
      case 'stage-failed': {
        const code = e.exitCode !== null ? ` (exit code ${e.exitCode})` : e.signal ? ` (${e.signal})` : '';
        write(e.time, `${c.red('✗')} ${e.stage} failed: ${e.message.split('\n')[0]}${code}`);
        if (e.stderrTail.trim()) for (const l of e.stderrTail.split('\n')) write(e.time, c.dim(`  │ ${l}`));
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
      case 'reports-written':
        write(e.time, `${c.dim('reports:')} ${e.paths.join(', ')}`);
        break;
      case 'run-finished': {
        const n = e.counts;
        const parts = [
          n.done && `${n.done} ran`,
          n.restored && `${n.restored} restored`,
          n['up-to-date'] && `${n['up-to-date']} up to date`,
          n.failed && `${n.failed} failed`,
          n['not-run'] && `${n['not-run']} not run`,
        ].filter(Boolean);
        const label = { success: c.green('ok'), failed: c.red('FAILED'), interrupted: c.yellow('interrupted'), gate: c.red('gate failed') }[e.status];
        const v = e.verdict;
        const verdict = v ? `; verdict ${{ ok: c.green, notice: c.yellow, problem: c.red }[v.severity](v.verdict)} (${v.stage})` : '';
        write(e.time, `${label}: ${parts.join(', ') || 'nothing to do'} in ${seconds(e.durationMs)}${verdict}`);
        flush();
        break;
      }
    }
  };
}
