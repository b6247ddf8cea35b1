// The paths a pipeline names besides deps and outs, with the rule each must keep (out-paths.ts): a
// stage's cwd, the `with:` fields its kind declares as paths (StageKind.inputPaths/outputPaths,
// relative to the stage's cwd; a user script's `with.output`, which the runner takes for its primary
// output) and the reports' files. The loader checks them when pipeline.yaml
// loads; the model cache repeats the file-system part (symlinks) on a hit.
import type { StageCatalog, StageKind } from '../stage-api/index.js';
import { interpolateText } from './interpolate.js';
import { isScriptReference } from './paths.js';
import type { PathRule } from './out-paths.js';
import type { PathSeg } from './yaml-locator.js';

export interface NamedPath {
  path: string;
  rule: PathRule;
  /** Where it is written in pipeline.yaml, below the stage (or the document). */
  at: PathSeg[];
}

export function stringsIn(value: unknown, at: PathSeg[]): Array<{ path: string; at: PathSeg[] }> {
  if (typeof value === 'string') return [{ path: value, at }];
  if (Array.isArray(value)) return value.flatMap((v, i) => (typeof v === 'string' ? [{ path: v, at: [...at, i] }] : []));
  return [];
}

export type PathFields = Pick<StageKind, 'inputPaths' | 'outputPaths' | 'appendedPaths'>;

/**
 * The path fields of a `uses:` stage: its kind's; for a script, those its stage declares under
 * `paths:`, and `output` (which primary-out.ts reads) unless it declares outputs itself.
 */
export function pathFieldsOf(uses: string, catalog: StageCatalog, declared?: { inputs?: string[]; outputs?: string[] }): PathFields | undefined {
  if (!isScriptReference(uses)) return catalog.kinds.get(uses);
  return { inputPaths: declared?.inputs ?? [], outputPaths: declared?.outputs ?? ['output'] };
}

/** The `with:` paths a kind declares, relative to the stage's cwd ('.' for the blocker). */
export function withPaths(kind: PathFields | undefined, withValue: Record<string, unknown>, cwd: string, owner: string): NamedPath[] {
  if (!kind) return [];
  const out: NamedPath[] = [];
  for (const [fields, written] of [[kind.inputPaths, false], [kind.outputPaths, true]] as const) {
    for (const field of fields ?? []) {
      if (!Object.hasOwn(withValue, field)) continue;
      for (const p of stringsIn(withValue[field], ['with', field])) {
        out.push({ path: p.path, at: p.at, rule: { what: `with.${field} of ${owner}`, allowRoot: true, followLinks: written, base: cwd } });
      }
    }
  }
  return out;
}

/** reports.dir, reports.junit and reports.manifest, with params resolved as the reporters resolve them. */
export function reportsPaths(reports: Record<string, unknown>, params: Record<string, unknown>): NamedPath[] {
  const out: NamedPath[] = [];
  for (const key of ['dir', 'junit', 'manifest']) {
    const value = reports[key];
    if (typeof value !== 'string') continue;
    out.push({ path: interpolateText(value, { params }), at: ['reports', key], rule: { what: `reports.${key}`, allowRoot: key === 'dir', followLinks: true } });
  }
  return out;
}
