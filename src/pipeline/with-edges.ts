// The `with:` paths of a uses-stage as deps and outs. A built-in declares which of its `with:`
// fields it reads and writes (StageKind.inputPaths/outputPaths), a script stage declares them under
// `paths:`; each such path becomes an edge of the DAG as if written under deps or outs, so that
// `with: { input: a.log }` alone makes the stage wait for whatever writes a.log. Paths are relative
// to the stage's cwd there and project-relative here.
import { normalizeRel } from './paths.js';
import { stringsIn, type PathFields } from './named-paths.js';
import type { PathSeg } from './yaml-locator.js';

export interface WithEdge {
  /** Project-relative. */
  path: string;
  /** Where it is written, below the stage. */
  at: PathSeg[];
  /** For an out: the stage appends to it (never restored from the cache). */
  appended?: boolean;
}

export function withEdges(fields: PathFields | undefined, withValue: Record<string, unknown>, cwd: string): { deps: WithEdge[]; outs: WithEdge[] } {
  const deps: WithEdge[] = [];
  const outs: WithEdge[] = [];
  if (!fields) return { deps, outs };
  const rel = (p: string) => normalizeRel(cwd === '.' ? p : `${cwd}/${p}`);
  for (const field of fields.inputPaths ?? []) {
    if (!Object.hasOwn(withValue, field)) continue;
    for (const p of stringsIn(withValue[field], ['with', field])) deps.push({ path: rel(p.path), at: p.at });
  }
  for (const field of fields.outputPaths ?? []) {
    if (!Object.hasOwn(withValue, field)) continue;
    const appended = fields.appendedPaths?.includes(field) || undefined;
    for (const p of stringsIn(withValue[field], ['with', field])) outs.push({ path: rel(p.path), at: p.at, appended });
  }
  return { deps, outs };
}

/** Whether `pattern` (a dep: file, folder or glob) already names `path`. Globs are not expanded: a duplicate is harmless. */
export function covers(pattern: string, path: string): boolean {
  return pattern === path || pattern === '.' || path.startsWith(`${pattern}/`);
}
