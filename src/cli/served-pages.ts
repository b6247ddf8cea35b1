// Which files `evidence watch --serve` shows, chosen from the pipeline model: the primary outputs
// of the stages named with --serve-stage; else those of the watched stages whose kind writes a page
// (catalog.ts's PAGE_KINDS: the report); else every watched stage's primary output that is an
// .html file. And which paths may be served at all: the pipeline's outs, nothing else.
import type { LivePage } from '../report/live-page.js';
import type { LoadedProject } from '../watch/loop.js';
import type { Pipeline, Stage } from '../pipeline/model.js';
import { primaryOutOf } from '../pipeline/primary-out.js';
import { selectStages } from '../pipeline/select.js';
import { selectUpstream } from '../graph/dag.js';
import { PAGE_KINDS } from './catalog.js';

export type PagesChoice = { ok: true; pages: LivePage[] } | { ok: false; message: string };

export function servedPages(project: LoadedProject, targets: string[], named: string[]): PagesChoice {
  const { pipeline, graph, catalog } = project;
  const pageOf = (s: Stage): LivePage | undefined => {
    const path = primaryOutOf(s, s.uses ? catalog.kinds.get(s.uses) : undefined);
    return path ? { stage: s.name, path } : undefined;
  };
  const stages = (names: string[]) => names.map((n) => pipeline.stages.get(n)!);
  if (named.length) {
    const chosen = selectStages(pipeline, named);
    if (!chosen.ok) return { ok: false, message: `--serve-stage: ${chosen.message}` };
    const pages = stages(chosen.stages).map(pageOf);
    const without = chosen.stages.filter((_, i) => !pages[i]);
    if (without.length) return { ok: false, message: `--serve-stage: ${without.join(', ')} write(s) no out to serve` };
    return { ok: true, pages: pages as LivePage[] };
  }
  const watched = stages(selectUpstream(graph, targets.length ? targets : graph.order));
  const reports = watched.filter((s) => s.kind === 'uses' && PAGE_KINDS.has(s.uses!));
  const html = (p: LivePage | undefined): p is LivePage => p !== undefined && /\.html?$/i.test(p.path);
  return { ok: true, pages: (reports.length ? reports : watched).map(pageOf).filter(html) };
}

/** Whether a project-relative path is an out of the pipeline, or a file inside an out folder. */
export function outMatcher(pipeline: Pipeline): (path: string) => boolean {
  const outs = new Set([...pipeline.stages.values()].flatMap((s) => s.outs.map((o) => o.path)));
  return (path) => {
    for (let p = path; p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) if (outs.has(p)) return true;
    return false;
  };
}
