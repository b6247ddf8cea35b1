// `evidence status`: a dry evaluation of every stage, rendered as a table with reasons.
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride, type Project } from './project.js';
import { Workspace } from '../cache/workspace.js';
import { runPipeline } from '../run/scheduler.js';
import type { RunEvent } from '../run/events.js';
import { styleFor } from '../report/style.js';
import { selectStages } from '../pipeline/select.js';
import { paramText } from '../pipeline/param-specs.js';
import type { Pipeline } from '../pipeline/model.js';

export interface StageState {
  stage: string;
  state: 'up-to-date' | 'would-run' | 'would-restore' | 'blocked';
  reasons: string[];
}

export async function collectStatus(
  file: string,
  overrides: Array<[string, string]>,
  catalog: StageCatalog,
  words: string[] = [],
): Promise<{ ok: true; states: StageState[]; pipeline: Pipeline } | { ok: false; text: string }> {
  const opened = await openProject(file, overrides, catalog);
  if (!opened.ok) return { ok: false, text: opened.text };
  const { pipeline } = opened.project;
  // Named stages (globs, instances) are shown alone; their upstream is evaluated all the same.
  const selected = selectStages(pipeline, words);
  if (!selected.ok) return { ok: false, text: `evidence status: ${selected.message}` };
  const ws = new Workspace(pipeline.root);
  const states = await evaluateStages(opened.project, ws, selected.stages);
  const shown = new Set(selected.stages);
  return { ok: true, pipeline, states: words.length ? states.filter((s) => shown.has(s.stage)) : states };
}

/**
 * A dry evaluation of `targets` and everything upstream (all stages when empty), in graph order:
 * each stage up to date, or what a run would do and why. Runs nothing; `evidence show` uses it to
 * tell a current artifact from a stale one.
 */
export async function evaluateStages(project: Project, ws: Workspace, targets: string[]): Promise<StageState[]> {
  const { pipeline, graph, catalog } = project;
  const states = new Map<string, StageState>();
  const collect = (e: RunEvent) => {
    if (e.type === 'stage-up-to-date') states.set(e.stage, { stage: e.stage, state: 'up-to-date', reasons: [] });
    else if (e.type === 'stage-would-run') states.set(e.stage, { stage: e.stage, state: e.restore ? 'would-restore' : 'would-run', reasons: e.reasons });
    else if (e.type === 'stage-not-run') states.set(e.stage, { stage: e.stage, state: 'blocked', reasons: [e.because] });
  };
  for (const problem of ws.lockProblems) process.stderr.write(`evidence: warning: evidence.lock: ${problem}; that part is ignored and rebuilt as stages run\n`);
  const outcome = await runPipeline(pipeline, graph, ws, {
    targets,
    jobs: 1,
    keepGoing: true,
    dryRun: true,
    force: false,
    graceMs: 0,
    signal: new AbortController().signal,
    catalog,
    emit: collect,
    runId: 'status',
  });
  return outcome.selected.map((s) => states.get(s) ?? { stage: s, state: 'blocked', reasons: ['not evaluated'] });
}

export async function statusVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const v = inv.values;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const result = await collectStatus(v.file as string, overrides, catalog, inv.positionals);
  if (!result.ok) {
    process.stderr.write(result.text + '\n');
    return EXIT.usage;
  }
  const stale = result.states.filter((s) => s.state !== 'up-to-date');
  if (v.json) {
    process.stdout.write(JSON.stringify({ upToDate: stale.length === 0, stages: result.states }, null, 2) + '\n');
  } else {
    const c = styleFor(process.stdout);
    const width = Math.max(...result.states.map((s) => s.stage.length));
    for (const s of result.states) {
      const label = { 'up-to-date': c.green('up to date'), 'would-run': c.yellow('would run'), 'would-restore': c.cyan('would restore'), blocked: c.dim('blocked') }[s.state];
      process.stdout.write(`${s.stage.padEnd(width)}  ${label}${s.reasons.length ? `: ${s.reasons.join('; ')}` : ''}\n`);
    }
    const specs = Object.entries(result.pipeline.paramSpecs ?? {});
    if (specs.length) {
      process.stdout.write('\n');
      for (const [name, spec] of specs) {
        const value = paramText(result.pipeline.params[name]);
        process.stdout.write(`param ${name} = ${value}${spec.choices ? ` (choices: ${spec.choices.map(paramText).join(', ')})` : ''}${spec.description ? `: ${spec.description}` : ''}\n`);
      }
    }
    if (v.check) process.stdout.write(stale.length ? `\n${stale.length} stage(s) not up to date: the evidence.lock does not match this workspace\n` : '\nevidence.lock is current\n');
  }
  return v.check && stale.length ? EXIT.failed : EXIT.ok;
}
