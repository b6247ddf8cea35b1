// Where an out really lands, judged on the file system as it is at run time. The loader checks outs
// when pipeline.yaml loads, but an upstream stage can plant a symlink afterwards (`ln -s /elsewhere
// reports`), and a stage can make its out a link to a file outside: either would let the runner
// write, hash, store and record content outside the project. Every symlink on the way is followed
// by hand (lstat + readlink, not realpath), so a dangling link, which realpath cannot resolve but
// a write follows, is judged too. Knows nothing about stages or the cache.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { isRunnerTempName } from '../fs/atomic-write.js';

/** The kernel's own limit on links followed in one lookup (Linux MAXSYMLINKS). */
const MAX_LINKS = 40;
/** Folders the hasher never descends into: what it does not hash, it does not store either. */
const SKIP_DIRS = new Set(['.git', '.evidence', 'node_modules']);

export interface Escape {
  /** Project-relative path that leads outside (the out, or a file inside a folder out). */
  path: string;
  /** The first symlink on the way, project-relative. */
  link: string;
  /** Where the path ends up, or why it cannot be resolved. */
  target: string;
}

interface Resolved {
  path?: string;
  firstLink?: string;
}

/** Follows every symlink of `rel` below the real root; `path` is undefined for a link loop. */
function resolveBelow(realRoot: string, rel: string): Resolved {
  const todo = rel.split('/').filter((p) => p && p !== '.');
  let cur = realRoot;
  let hops = 0;
  let firstLink: string | undefined;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      cur = dirname(cur);
      continue;
    }
    const next = join(cur, part);
    let st;
    try {
      // Without an Error per missing path: before a stage runs, its outs usually do not exist.
      st = lstatSync(next, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    // Nothing exists here, so nothing below can be a link: the rest is plain names.
    if (!st) return { path: join(next, ...todo), firstLink };
    const isLink = st.isSymbolicLink();
    if (!isLink) {
      cur = next;
      continue;
    }
    firstLink ??= next;
    if (++hops > MAX_LINKS) return { firstLink };
    const target = readlinkSync(next);
    // `cur` is fully resolved, so '..' in the target can be applied to it as a plain name.
    if (isAbsolute(target)) cur = sep;
    todo.unshift(...target.split(sep).filter((p) => p && p !== '.'));
  }
  return { path: cur, firstLink };
}

function inside(realRoot: string, p: string): boolean {
  return p === realRoot || p.startsWith(realRoot + sep);
}

function realRootOf(root: string): string {
  try {
    return realpathSync.native(root);
  } catch {
    return root;
  }
}

function escapeOf(realRoot: string, rel: string): Escape | undefined {
  const r = resolveBelow(realRoot, rel);
  if (r.path !== undefined && inside(realRoot, r.path)) return undefined;
  const shown = (p: string | undefined) => (p === undefined ? rel : inside(realRoot, p) ? relative(realRoot, p) || '.' : p);
  return { path: rel, link: shown(r.firstLink), target: r.path ?? 'a loop of symlinks' };
}

/** Symlinks anywhere inside a folder out (the hasher follows them, so they are content too). */
function linksUnder(realRoot: string, rel: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(join(realRoot, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (SKIP_DIRS.has(e.name) || isRunnerTempName(e.name)) continue;
    const child = `${rel}/${e.name}`;
    if (e.isSymbolicLink()) out.push(child);
    else if (e.isDirectory()) linksUnder(realRoot, child, out);
  }
}

/**
 * The first of these project-relative outs that resolves outside the project. With `deep`, also
 * every symlink inside a folder out (after a stage ran; before, only the way to each out matters).
 */
export function escapingOut(root: string, outs: string[], deep: boolean): Escape | undefined {
  const realRoot = realRootOf(root);
  for (const rel of outs) {
    const found = escapeOf(realRoot, rel);
    if (found) return found;
    if (!deep) continue;
    const resolved = resolveBelow(realRoot, rel).path!;
    let isDir = false;
    try {
      isDir = lstatSync(resolved, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      continue;
    }
    if (!isDir) continue;
    const links: string[] = [];
    linksUnder(realRoot, relative(realRoot, resolved), links);
    for (const link of links.sort()) {
      const inner = escapeOf(realRoot, link);
      // Name the file as the stage declared it: under the out's own path.
      if (inner) return { ...inner, path: `${rel}${link.slice(relative(realRoot, resolved).length)}` };
    }
  }
  return undefined;
}

export function describeEscape(e: Escape): string {
  const via = e.link === e.path ? '' : `${e.link} → `;
  return `out '${e.path}' resolves outside the project (${via}${e.target})`;
}
