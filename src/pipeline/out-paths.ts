// The rule that an out stays inside the project: not absolute, no '..' escape, no symlink on the
// way that resolves outside the root.
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { normalizeRel } from './paths.js';

/** Checks that an out path stays inside the project, including through symlinks. */
export function checkOutPath(path: string, root: string): string | undefined {
  if (isAbsolute(path)) return `out '${path}' is an absolute path; outs must be relative to the project root`;
  const norm = normalizeRel(path);
  if (norm === '..' || norm.startsWith('../')) return `out '${path}' escapes the project root`;
  if (norm === '.') return `out '${path}' is the project root itself`;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  // Walk down from the root: the first existing component that resolves outside is the problem.
  const parts = norm.split('/');
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    if (!existsSync(current)) break;
    let real: string;
    try {
      real = realpathSync(current);
    } catch {
      break;
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      return `out '${path}' goes through a symlink that points outside the project (${current} → ${real})`;
    }
  }
  return undefined;
}

