// The pipeline's outs indexed by path, so that finding what a dep consumes costs the dep's depth,
// not the number of outs: a 5,000-stage pipeline compared every dep (and every glob) with every
// out on each start. A plain dep consumes the out at its own path, the outs inside it (a folder
// dep) and an out folder holding it. A glob can only reach outs below its literal leading folders
// (`reports/*/trace.json` → `reports`) or a folder above them, so only those are matched against it.
// Knows nothing about stages: an out is a path and its place in the pipeline.
import { createRequire } from 'node:module';

export type Matcher = (path: string) => boolean;

export interface IndexedOut {
  path: string;
  /** Declaration order over the whole pipeline (edges and diagnostics follow it). */
  index: number;
}

const require = createRequire(import.meta.url);
const matchers = new Map<string, Matcher>();

/** picomatch's matcher for a pattern, compiled once per process (a compile costs tens of µs). */
export function globMatcher(pattern: string): Matcher {
  let m = matchers.get(pattern);
  if (!m) {
    const picomatch = require('picomatch') as (p: string, o?: object) => Matcher;
    m = picomatch(pattern, { dot: true });
    matchers.set(pattern, m);
  }
  return m;
}

/** A segment picomatch reads literally: no wildcard, class, brace, extglob, negation or escape. */
const LITERAL_SEGMENT = /^[^*?[\]{}()!+@\\]+$/;

/** The leading segments of a glob that match only themselves ('' when the first one is a pattern). */
export function literalBase(pattern: string): string {
  const segs = pattern.split('/');
  let n = 0;
  while (n < segs.length - 1 && LITERAL_SEGMENT.test(segs[n]!)) n++;
  return segs.slice(0, n).join('/');
}

/** `a/b/c` → `a`, `a/b` (the folders above a path, outermost first). */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/**
 * Whether a glob can match a path inside the folder `out`: each of the out's segments matches the
 * glob's segment at that depth and the glob goes deeper, or reaches a `**` first.
 */
function globReachesInto(pattern: string, out: string): boolean {
  const globSegs = pattern.split('/');
  const outSegs = out.split('/');
  for (let i = 0; i < outSegs.length; i++) {
    const seg = globSegs[i];
    if (seg === undefined) return false;
    if (seg === '**') return true;
    if (!globMatcher(seg)(outSegs[i]!)) return false;
  }
  return globSegs.length > outSegs.length;
}

/** Whether a glob consumes an out: it matches the out or a folder above it, or reaches into the out folder. */
export function globConsumesOut(pattern: string, out: string): boolean {
  const m = globMatcher(pattern);
  if (m(out)) return true;
  for (const folder of ancestorsOf(out)) if (m(folder)) return true;
  return globReachesInto(pattern, out);
}

export class OutIndex<O extends IndexedOut> {
  /** path → its owners (more than one only in a pipeline with duplicate outs). */
  private readonly exact = new Map<string, Array<O>>();
  /** folder → the outs strictly inside it. */
  private readonly under = new Map<string, Array<O>>();

  constructor(readonly owners: ReadonlyArray<O>) {
    for (const o of owners) {
      push(this.exact, o.path, o);
      for (const folder of ancestorsOf(o.path)) push(this.under, folder, o);
    }
  }

  /** The owners of exactly this path, in declaration order. */
  at(path: string): ReadonlyArray<O> {
    return this.exact.get(path) ?? [];
  }

  /** Outs of folders above `path`, innermost last. */
  above(path: string): Array<O> {
    const out: Array<O> = [];
    for (const folder of ancestorsOf(path)) for (const o of this.exact.get(folder) ?? []) out.push(o);
    return out;
  }

  /** The outs a plain dep consumes: its own path, the outs inside it, an out folder holding it. */
  consumers(dep: string): Array<O> {
    if (dep === '.') return [...this.owners];
    return [...this.at(dep), ...(this.under.get(dep) ?? []), ...this.above(dep)];
  }

  /** The outs a glob dep consumes, in declaration order. */
  globConsumers(pattern: string): Array<O> {
    const base = literalBase(pattern);
    const candidates = base === '' ? this.owners : [...this.at(base), ...(this.under.get(base) ?? []), ...this.above(base)].sort((a, b) => a.index - b.index);
    return candidates.filter((o) => globConsumesOut(pattern, o.path));
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
