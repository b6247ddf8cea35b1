// `evidence watch [STAGE...]`: loads the project, hands it to the watch loop (src/watch) with a
// reporter (src/report/watch.ts), and turns Ctrl-C into the end of watching: exit 130.
import { executorsFor } from './executors.js';
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride, UsageError } from './project.js';
import { parseJobs } from './run.js';
import { watchProject } from '../watch/loop.js';
import { watchReporter } from '../report/watch.js';
import { reportPathsOf } from '../report/ci.js';
import { styleFor } from '../report/style.js';
import { abortOnInterrupt, parseGraceMs } from './interrupts.js';

export const DEFAULT_DEBOUNCE_MS = 40;

export async function watchVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const v = inv.values;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const jobs = parseJobs(v.jobs);
  const debounceMs = v.debounce === undefined ? DEFAULT_DEBOUNCE_MS : Number(v.debounce);
  if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new UsageError(`--debounce expects milliseconds, got '${v.debounce}'`);
  const graceMs = parseGraceMs(v.grace);
  const file = v.file as string;

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

  const reporter = watchReporter({ out: process.stdout, err: process.stderr, style: styleFor(process.stdout), json: Boolean(v.json), verbose: Boolean(v.verbose) });
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  try {
    await watchProject(opened.project, {
      load: () => openProject(file, overrides, catalog),
      targets: selected.stages,
      jobs,
      keepGoing: Boolean(v['keep-going']),
      debounceMs,
      graceMs,
      neverTrigger: (p) => Object.values(reportPathsOf(p)),
      signal: controller.signal,
      emit: reporter.watch,
      runEmit: reporter.run,
      output: Boolean(v.verbose),
      executorsFor,
    });
  } finally {
    stopListening();
  }
  return EXIT.interrupted;
}
