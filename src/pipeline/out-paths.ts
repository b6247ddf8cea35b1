// The rule that a path the pipeline names stays inside the project: not absolute, no '..' escape,
// and, for paths written to (outs, a stage's cwd, `with:` outputs, reports), no symlink on the way
// that resolves outside the root. Real paths are memoised per folder: a pipeline's outs share a
// few folders, and this check runs on every start.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { normalizeRel } from './paths.js';

const realpaths = new Map<string, string | null>();

/**
 * The real path of `p` (null when it does not exist), built from its folder's: one lstat per path,
 * and realpath only for a symlink. realpath(3) on every out re-walked the whole absolute path, and
 * threw (a costly Error) for each out not written yet: ~0.1 s of a 5,000-stage start.
 */
function realOrNull(p: string): string | null {
  let r = realpaths.get(p);
  if (r !== undefined) return r;
  const parent = dirname(p);
  if (parent === p) r = p;
  else {
    const parentReal = realOrNull(parent);
    let st;
    try {
      st = parentReal === null ? undefined : lstatSync(p, { throwIfNoEntry: false });
    } catch {
      st = undefined; // ENOTDIR and the like: nothing there to follow
    }
    if (!st) r = null;
    else if (!st.isSymbolicLink()) {
      const name = p.slice(parent.length + (parent.endsWith(sep) ? 0 : 1));
      r = parentReal!.endsWith(sep) ? parentReal + name : parentReal + sep + name;
    } else {
      try {
        r = realpathSync.native(p);
      } catch {
        r = null;
      }
    }
  }
  realpaths.set(p, r);
  return r;
}

/** Below this many paths asked about in one folder, an lstat each costs less than listing it. */
const LIST_FROM = 16;

/**
 * Learns the real paths of many project paths at once: a folder that holds many of them is listed
 * once (its entries' types say which are symlinks) instead of an lstat per path. Only symlinks are
 * then resolved one by one. A 5,000-stage pipeline's outs share a folder or a few.
 */
export function primeRealpaths(root: string, paths: Iterable<string>): void {
  const byFolder = new Map<string, string[]>();
  for (const p of paths) {
    if (isAbsolute(p) || p === '.' || p === '..' || p.startsWith('../')) continue;
    const abs = join(root, p);
    const folder = dirname(abs);
    const names = byFolder.get(folder);
    if (names) names.push(abs);
    else byFolder.set(folder, [abs]);
  }
  for (const [folder, files] of byFolder) {
    if (files.length < LIST_FROM) continue;
    const real = realOrNull(folder);
    if (real === null) continue;
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      continue;
    }
    const kinds = new Map(entries.map((e) => [e.name, e.isSymbolicLink()]));
    for (const abs of files) {
      if (realpaths.has(abs)) continue;
      const name = abs.slice(folder.length + (folder.endsWith(sep) ? 0 : 1));
      const isLink = kinds.get(name);
      if (isLink === undefined) realpaths.set(abs, null);
      else if (!isLink) realpaths.set(abs, real.endsWith(sep) ? real + name : real + sep + name);
    }
  }
}

/** Forgets memoised real paths: each load of a pipeline judges the file system as it is then. */
export function forgetRealpaths(): void {
  realpaths.clear();
}

/** Checks that an out path stays inside the project, including through symlinks. */
export function checkOutPath(path: string, root: string): string | undefined {
  return checkProjectPath(path, root, { what: 'out', allowRoot: false, followLinks: true });
}

export interface PathRule {
  /** How the path is named in the message: `out`, `cwd`, `with.output of stage 'x'`. */
  what: string;
  /** Whether the root itself is acceptable (a cwd or an output folder; not an out). */
  allowRoot: boolean;
  /** Whether a symlink on the way may not lead outside (paths written to). */
  followLinks: boolean;
  /** The stage's cwd the path is relative to (project-relative), when not the root. */
  base?: string;
}

/** Checks that a path (relative to the root, or to `rule.base`) stays inside the project. */
export function checkProjectPath(path: string, root: string, rule: PathRule): string | undefined {
  const shown = `${rule.what} '${path}'`;
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path)) return `${shown} is an absolute path; it must lie inside the project`;
  const norm = normalizeRel(rule.base && rule.base !== '.' ? `${rule.base}/${path}` : path);
  const against = rule.base && rule.base !== '.' ? ` (from cwd '${rule.base}')` : '';
  if (norm === '..' || norm.startsWith('../')) return `${shown} escapes the project root${against}`;
  if (norm === '.') return rule.allowRoot ? undefined : `${shown} is the project root itself`;
  if (!rule.followLinks) return undefined;
  const realRoot = realOrNull(root);
  if (realRoot === null) return undefined;
  // Walk down from the root: the first existing component that resolves outside is the problem.
  let current = root;
  for (const part of norm.split('/')) {
    // `norm` is normalised (no '.', '..' or empty parts): on POSIX, concatenation is what join() gives.
    current = sep !== '/' ? join(current, part) : current.endsWith('/') ? current + part : `${current}/${part}`;
    const real = realOrNull(current);
    if (real === null) break;
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      return `${shown} goes through a symlink that points outside the project (${current} → ${real})`;
    }
  }
  return undefined;
}
