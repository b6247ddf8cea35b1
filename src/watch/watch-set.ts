// Which paths watch mode looks at and which changes matter: the deps (files, folders, globs) and
// uses-scripts of every stage in the targeted subgraph, and pipeline.yaml. The outs of every stage,
// the runner's own files (.evidence/, evidence.lock, temp files of atomic writes) and .git never
// count, so a run can never trigger itself. Pure path logic: knows nothing about chokidar.
import { createRequire } from 'node:module';
import { basename, relative, sep } from 'node:path';
import type { Stats } from 'node:fs';
import type { Pipeline } from '../pipeline/model.js';
import { isScriptReference, normalizeRel } from '../pipeline/load.js';
import { selectUpstream, type Graph } from '../graph/dag.js';

const require = createRequire(import.meta.url);

export interface WatchSet {
  root: string;
  /** pipeline.yaml, project-relative. */
  pipelineFile: string;
  /** The inputs as written (deps, scripts), sorted, for messages. */
  inputs: string[];
  stages: string[];
  /** Identity of what is watched: when it changes the watcher must be rebuilt. */
  signature: string;
  /** For chokidar's `ignored`: true for paths that are neither inputs nor folders leading to one. */
  ignores(abs: string, stats?: Stats): boolean;
  /** What a change of this path means, or undefined when it cannot make anything out of date. */
  classify(abs: string): 'pipeline' | 'input' | undefined;
}

// Temp names of src/fs/atomic-write.ts and of the stages' streaming writers: `.NAME.PID.HEX.tmp`.
const ATOMIC_TEMP = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;
const STATE = new Set(['.evidence', '.git']);

function within(rel: string, base: string): boolean {
  return base === '.' || rel === base || rel.startsWith(base + '/');
}

export function buildWatchSet(pipeline: Pipeline, graph: Graph, targets: string[], neverTrigger: string[] = []): WatchSet {
  const root = pipeline.root;
  const pipelineFile = normalizeRel(relative(root, pipeline.file).split(sep).join('/'));
  const stages = selectUpstream(graph, targets.length ? targets : graph.order);
  const paths = new Set<string>();
  const globs: Array<{ pattern: string; base: string; match: (p: string) => boolean }> = [];
  const picomatch = require('picomatch') as ((p: string, o?: object) => (s: string) => boolean) & { scan(p: string): { base: string } };
  for (const name of stages) {
    const stage = pipeline.stages.get(name)!;
    for (const dep of stage.deps) {
      if (dep.isGlob) globs.push({ pattern: dep.pattern, base: normalizeRel(picomatch.scan(dep.pattern).base || '.'), match: picomatch(dep.pattern, { dot: true }) });
      else paths.add(dep.pattern);
    }
    if (stage.kind === 'uses' && stage.uses && isScriptReference(stage.uses)) paths.add(normalizeRel(stage.uses));
  }
  const outs = [...pipeline.stages.values()].flatMap((s) => s.outs.map((o) => o.path));
  const excludedPaths = [...outs, ...neverTrigger.map(normalizeRel), 'evidence.lock'];
  const targetsList = [...paths, pipelineFile];

  const excluded = (rel: string): boolean => {
    const parts = rel.split('/');
    if (parts.some((p) => STATE.has(p))) return true;
    if (ATOMIC_TEMP.test(parts[parts.length - 1]!)) return true;
    if (excludedPaths.some((o) => within(rel, o))) return true;
    // Like the hasher, folders and globs never reach into node_modules; a dep naming a path inside it does.
    if (parts.includes('node_modules') && !targetsList.some((t) => t.split('/').includes('node_modules') && (within(rel, t) || t.startsWith(rel + '/')))) return true;
    return false;
  };
  const isInput = (rel: string): boolean => [...paths].some((t) => within(rel, t)) || globs.some((g) => within(rel, g.base) && g.match(rel));
  const toRel = (abs: string): string | undefined => {
    const r = relative(root, abs).split(sep).join('/');
    if (r === '') return '.';
    if (r === '..' || r.startsWith('../')) return undefined;
    return r;
  };

  return {
    root,
    pipelineFile,
    // Deps that are another stage's outs are not watched: their producer's run updates them.
    inputs: [...new Set([...[...paths].filter((p) => !excluded(p)), ...globs.map((g) => g.pattern)])].sort(),
    stages,
    signature: JSON.stringify([[...paths].sort(), globs.map((g) => g.pattern).sort(), [...excludedPaths].sort(), pipelineFile]),
    ignores(abs, stats) {
      const rel = toRel(abs);
      if (rel === undefined) return true;
      if (rel === '.') return false;
      if (excluded(rel)) return true;
      if (rel === pipelineFile || isInput(rel)) return false;
      // A folder on the way to an input, or one inside a glob's base that may hold matches.
      if (targetsList.some((t) => t === '.' || t.startsWith(rel + '/'))) return false;
      if (globs.some((g) => g.base === '.' || g.base === rel || g.base.startsWith(rel + '/'))) return false;
      if (globs.some((g) => within(rel, g.base))) return Boolean(stats?.isFile());
      return true;
    },
    classify(abs) {
      const rel = toRel(abs);
      if (rel === undefined || rel === '.') return undefined;
      if (rel === pipelineFile) return 'pipeline';
      if (excluded(rel)) return undefined;
      return isInput(rel) ? 'input' : undefined;
    },
  };
}

/** For messages: a path as the user knows it. */
export function displayPath(set: WatchSet, abs: string): string {
  const r = relative(set.root, abs).split(sep).join('/');
  return r || basename(abs);
}
