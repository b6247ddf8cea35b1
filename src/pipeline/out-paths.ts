// The rule that an out stays inside the project: not absolute, no '..' escape, no symlink on the
// way that resolves outside the root. Real paths are memoised per folder: a pipeline's outs share
// a few folders, and this check runs on every start.
import { realpathSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { normalizeRel } from './paths.js';

const realpaths = new Map<string, string | null>();

function realOrNull(p: string): string | null {
  let r = realpaths.get(p);
  if (r === undefined) {
    try {
      r = realpathSync.native(p);
    } catch {
      r = null;
    }
    realpaths.set(p, r);
  }
  return r;
}

/** Forgets memoised real paths: each load of a pipeline judges the file system as it is then. */
export function forgetRealpaths(): void {
  realpaths.clear();
}

/** Checks that an out path stays inside the project, including through symlinks. */
export function checkOutPath(path: string, root: string): string | undefined {
  if (isAbsolute(path)) return `out '${path}' is an absolute path; outs must be relative to the project root`;
  const norm = normalizeRel(path);
  if (norm === '..' || norm.startsWith('../')) return `out '${path}' escapes the project root`;
  if (norm === '.') return `out '${path}' is the project root itself`;
  const realRoot = realOrNull(root);
  if (realRoot === null) return undefined;
  // Walk down from the root: the first existing component that resolves outside is the problem.
  let current = root;
  for (const part of norm.split('/')) {
    current = join(current, part);
    const real = realOrNull(current);
    if (real === null) break;
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      return `out '${path}' goes through a symlink that points outside the project (${current} → ${real})`;
    }
  }
  return undefined;
}
