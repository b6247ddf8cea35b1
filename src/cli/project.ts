// Loads pipeline.yaml and builds its graph for a CLI verb, turning diagnostics into rendered text
// and exit code 2. The verbs stay thin by sharing this.
import { readFileSync } from 'node:fs';
import { loadPipelineCached } from '../pipeline/cached-load.js';
import { renderDiagnostics, type Diagnostic } from '../pipeline/diagnostics.js';
import { buildGraph, type Graph } from '../graph/dag.js';
import type { Pipeline } from '../pipeline/model.js';
import type { StageCatalog } from '../stage-api/index.js';

import { UsageError } from './usage-error.js';
export { UsageError } from './usage-error.js';

export interface Project {
  pipeline: Pipeline;
  graph: Graph;
  catalog: StageCatalog;
}

export type ProjectResult = { ok: true; project: Project } | { ok: false; diagnostics: Diagnostic[]; text: string };

export async function openProject(file: string, paramOverrides: Array<[string, string]>, catalog: StageCatalog): Promise<ProjectResult> {
  const loaded = await loadPipelineCached(file, paramOverrides, catalog);
  const sources = new Map<string, string>();
  if (loaded.source !== undefined) sources.set(file, loaded.source);
  if (!loaded.pipeline) return { ok: false, diagnostics: loaded.diagnostics, text: renderDiagnostics(loaded.diagnostics, sources) };
  const built = buildGraph(loaded.pipeline);
  if (!built.graph) {
    // buildGraph names the file relative to the root; map it back to the name the user gave.
    const diagnostics = built.diagnostics.map((d) => ({ ...d, file }));
    return { ok: false, diagnostics, text: renderDiagnostics(diagnostics, sources) };
  }
  return { ok: true, project: { pipeline: loaded.pipeline, graph: built.graph, catalog } };
}

export function parseParamOverride(raw: string): [string, string] {
  const i = raw.indexOf('=');
  if (i <= 0) throw new UsageError(`-p expects name=value, got '${raw}'`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
