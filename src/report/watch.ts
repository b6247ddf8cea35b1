// Renders watch mode: the stage lines of each cycle (as `run` prints them, minus the up-to-date
// noise), then a compact status per cycle — what ran, was restored or failed, and the headline of
// each stage's findings (a comparison's first divergence or "all keys match") — and the watcher's own
// news (invalid pipeline.yaml, reloads). With `json`, every event is one JSON line.
import type { EventSink, RunEvent } from '../run/events.js';
import type { WatchEvent, WatchSink } from '../watch/events.js';
import type { Style } from './style.js';
import { terminalReporter } from './terminal.js';
import { jsonLinesReporter } from './json-lines.js';
import type { StageStatus } from '../run/events.js';

export interface WatchReporterOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  style: Style;
  json: boolean;
  verbose: boolean;
}

function list(names: string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} (+${names.length - max} more)`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function watchReporter(opts: WatchReporterOptions): { run: EventSink; watch: WatchSink } {
  if (opts.json) {
    const run = jsonLinesReporter(opts.out);
    const watch: WatchSink = (e) => opts.out.write(JSON.stringify(e) + '\n');
    return { run, watch };
  }
  const c = opts.style;
  const terminal = terminalReporter({ out: opts.out, style: c, ci: false, verbose: opts.verbose });
  const run = (e: RunEvent) => {
    // Every cycle re-judges every stage; only what happens is worth a line.
    if (e.type === 'stage-up-to-date' || e.type === 'run-finished') return;
    terminal(e);
  };
  // The terminal reporter batches its lines until the event loop's check phase; deferring ours the
  // same way (setImmediate is FIFO) keeps the watch lines in order with the stage lines.
  const later = (stream: NodeJS.WritableStream, text: string) => setImmediate(() => stream.write(text));
  const say = (line: string) => later(opts.out, `${c.dim('watch:')} ${line}\n`);
  const watch: WatchSink = (e) => {
    switch (e.type) {
      case 'watch-ready':
        say(`watching ${e.inputs.length ? list(e.inputs, 6) : 'no inputs'} and ${e.pipelineFile} for ${e.stages.length} stage(s); Ctrl-C to stop`);
        break;
      case 'cycle-started':
        say(`cycle ${e.cycle}: ${e.changes.length ? `changed ${list(e.changes, 4)}` : 'initial run'}`);
        break;
      case 'cycle-finished': {
        const by = (s: StageStatus) => e.results.filter((r) => r.status === s).map((r) => r.stage);
        const ran = by('done');
        const restored = by('restored');
        const failed = by('failed');
        const upToDate = by('up-to-date').length;
        const notRun = by('not-run').filter((s) => !e.waiting.includes(s));
        const parts = [
          ran.length && `ran ${list(ran)}`,
          restored.length && `restored ${list(restored)}`,
          failed.length && c.red(`failed ${list(failed)}`),
          e.waiting.length && c.yellow(`not retried until an input changes: ${list(e.waiting)}`),
          notRun.length && `not run ${list(notRun)}`,
          upToDate && `${upToDate} up to date`,
        ].filter(Boolean);
        const what = ran.length || restored.length || failed.length ? parts.join('; ') : `nothing to do${parts.length ? ` (${parts.join('; ')})` : ''}`;
        // One write for the status and its compare lines: a reader who sees the cycle end sees it all.
        const lines = [`cycle ${e.cycle} ${e.status === 'interrupted' ? c.yellow('interrupted') : 'done'} in ${seconds(e.durationMs)}: ${what}`];
        const colour = { ok: c.green, notice: c.yellow, problem: c.red };
        for (const f of e.findings) lines.push(`${f.stage}: ${colour[f.severity](f.headline)}`);
        later(opts.out, lines.map((l) => `${c.dim('watch:')} ${l}\n`).join(''));
        break;
      }
      case 'pipeline-invalid':
        later(opts.err, e.text + '\n');
        say(c.yellow('pipeline.yaml is invalid (see above); still watching with the last valid pipeline'));
        break;
      case 'pipeline-reloaded':
        say('pipeline.yaml reloaded');
        break;
      case 'watch-error':
        later(opts.err, `${c.red('watch: error:')} ${e.message}\n`);
        break;
      case 'watch-stopped':
        say(`stopped after ${e.cycles} cycle(s)`);
        break;
    }
  };
  return { run, watch };
}
