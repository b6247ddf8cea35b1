// Whether a file a stage reads is among its declared deps, as the runner hashes them (a file, a
// folder holding it, or a glob matching it). A stage that reads a file outside its deps would not
// re-run when that file changes, and a restored copy of what it wrote could describe another one.
import picomatch from 'picomatch';

const isGlob = (p: string) => picomatch.scan(p).isGlob;

/** A project-relative file (or folder) is covered by a dep equal to it, a folder holding it, or a glob matching it. */
export function pathIsCovered(path: string, deps: readonly string[]): boolean {
  return deps.some((d) => (isGlob(d) ? picomatch(d, { dot: true })(path) : d === '.' || path === d || path.startsWith(d + '/')));
}

/** A glob is covered by the same glob, or by a folder dep holding everything it can match. */
export function globIsCovered(glob: string, deps: readonly string[]): boolean {
  const base = picomatch.scan(glob).base;
  return deps.some((d) => d === glob || (!isGlob(d) && (d === '.' || base === d || base.startsWith(d + '/'))));
}

/** The patterns (project-relative files, folders or globs) that `deps` do not cover. */
export function uncovered(patterns: readonly string[], deps: readonly string[]): string[] {
  return patterns.filter((p) => !(isGlob(p) ? globIsCovered(p, deps) : pathIsCovered(p, deps)));
}
