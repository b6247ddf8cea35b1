// `evidence watch [STAGE...]`: loads the project, hands it to the watch loop (src/watch) with a
// reporter (src/report/watch.ts), and turns Ctrl-C into the end of watching: exit 130. With
// --serve, a live page (src/report/live-server.ts) listens before the first cycle and hears the
// same watch events as the reporter.
import { executorsFor } from './executors.js';
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride, UsageError } from './project.js';
import { parseJobs } from './run.js';
import { watchProject, type LoadedProject } from '../watch/loop.js';
import type { WatchEvent } from '../watch/events.js';
import type { LiveServer } from '../report/live-server.js';
import { watchReporter } from '../report/watch.js';
import { reportPathsOf } from '../report/ci.js';
import { styleFor } from '../report/style.js';
import { abortOnInterrupt, parseGraceMs } from './interrupts.js';

export const DEFAULT_DEBOUNCE_MS = 40;
export const DEFAULT_SERVE_PORT = 4178;

interface ServeRequest {
  host: string;
  port: number;
  stages: string[];
}

function parseServe(v: Invocation['values']): ServeRequest | undefined {
  const stages = (v['serve-stage'] as string[] | undefined) ?? [];
  const serve = Boolean(v.serve) || stages.length > 0;
  for (const flag of ['port', 'host']) if (v[flag] !== undefined && !serve) throw new UsageError(`--${flag} applies only with --serve`);
  const rawPort = v.port === undefined ? String(DEFAULT_SERVE_PORT) : String(v.port);
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) throw new UsageError(`--port expects a port number from 0 to 65535 (0 picks a free one), got '${rawPort}'`);
  const host = v.host === undefined ? '127.0.0.1' : String(v.host);
  if (!host) throw new UsageError('--host expects an address, e.g. 127.0.0.1');
  return serve ? { host, port: Number(rawPort), stages } : undefined;
}

export async function watchVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const v = inv.values;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const jobs = parseJobs(v.jobs);
  const debounceMs = v.debounce === undefined ? DEFAULT_DEBOUNCE_MS : Number(v.debounce);
  if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new UsageError(`--debounce expects milliseconds, got '${v.debounce}'`);
  const graceMs = parseGraceMs(v.grace);
  const file = v.file as string;
  const serve = parseServe(v);

  const opened = await openProject(file, overrides, catalog);
  if (!opened.ok) {
    // With no valid pipeline yet there is nothing to keep watching with.
    process.stderr.write(opened.text + '\n');
    return EXIT.usage;
  }
  const { pipeline } = opened.project;
  const { selectStages } = await import('../pipeline/select.js');
  const selected = selectStages(pipeline, inv.positionals);
  if (!selected.ok) throw new UsageError(selected.message);

  const style = styleFor(process.stdout);
  const reporter = watchReporter({ out: process.stdout, err: process.stderr, style, json: Boolean(v.json), verbose: Boolean(v.verbose) });
  // The project the loop works with: a reload it accepts is announced by 'pipeline-reloaded'.
  let current: LoadedProject = opened.project;
  let lastLoaded: LoadedProject | undefined;
  let live: LiveServer | undefined;
  const emit = (e: WatchEvent) => {
    if (e.type === 'pipeline-reloaded' && lastLoaded) current = lastLoaded;
    reporter.watch(e);
    live?.watch(e);
  };
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  // Open pages must not hold the process once Ctrl-C ends watching.
  controller.signal.addEventListener('abort', () => void live?.close(), { once: true });
  try {
    if (serve) live = await startServing(serve, () => current, selected.stages, Boolean(v.json), style);
    await watchProject(opened.project, {
      load: async () => {
        const loaded = await openProject(file, overrides, catalog);
        if (loaded.ok) lastLoaded = loaded.project;
        return loaded;
      },
      targets: selected.stages,
      jobs,
      keepGoing: Boolean(v['keep-going']),
      debounceMs,
      graceMs,
      neverTrigger: (p) => Object.values(reportPathsOf(p)),
      signal: controller.signal,
      emit,
      runEmit: reporter.run,
      output: Boolean(v.verbose),
      executorsFor,
    });
  } finally {
    stopListening();
    await live?.close();
  }
  return EXIT.interrupted;
}

/** Listens before the first cycle, so that a port in use stops the command before anything runs. */
async function startServing(req: ServeRequest, project: () => LoadedProject, targets: string[], json: boolean, style: ReturnType<typeof styleFor>): Promise<LiveServer> {
  const { servedPages, outMatcher } = await import('./served-pages.js');
  const first = servedPages(project(), targets, req.stages);
  if (!first.ok) throw new UsageError(first.message);
  // Memoised per loaded project: each request asks, and a reload replaces the project object.
  let seen: LoadedProject | undefined;
  let pages = first.pages;
  let isOut = outMatcher(project().pipeline);
  const refresh = () => {
    const p = project();
    if (p === seen) return;
    seen = p;
    const chosen = servedPages(p, targets, req.stages);
    pages = chosen.ok ? chosen.pages : [];
    isOut = outMatcher(p.pipeline);
  };
  const { startLiveServer } = await import('../report/live-server.js');
  const listening = await startLiveServer({
    root: project().pipeline.root,
    host: req.host,
    port: req.port,
    pages: () => (refresh(), pages),
    isOut: (path) => (refresh(), isOut(path)),
  });
  if (!listening.ok) throw new UsageError(listening.message);
  const { url } = listening.server;
  if (json) process.stdout.write(JSON.stringify({ type: 'serve-ready', time: Date.now(), url, pages: first.pages }) + '\n');
  else {
    const what = first.pages.length
      ? first.pages.map((p) => `${p.path} (${p.stage})`).join(', ')
      : 'no watched stage writes a report yet (a uses: report stage, or an .html primary output)';
    process.stdout.write(`${style.dim('watch:')} serving ${url} — ${what}; the page reloads after each cycle that changes it\n`);
    if (!['127.0.0.1', 'localhost', '::1'].includes(req.host)) {
      process.stdout.write(`${style.dim('watch:')} ${style.yellow(`listening on ${req.host}: anyone who can reach this machine's port ${listening.server.address.port} can read the pipeline's outs`)}\n`);
    }
  }
  return listening.server;
}
