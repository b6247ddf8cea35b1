// The DAG: edges from a stage's deps matching another stage's outs (the same file, a folder holding
// it, or a glob matching it) and from explicit `needs`. Detects cycles (naming every edge),
// duplicate outs and deps that nothing produces. Knows nothing about hashing or running. Every walk
// is iterative: a chain of thousands of stages is a valid pipeline, not a stack overflow.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import { didYouMean } from '../pipeline/diagnostics.js';
import type { DepSpec, Pipeline, SourceLoc, Stage } from '../pipeline/model.js';

export interface Edge {
  from: string;
  to: string;
  /** Why: the dep that matched an out, or 'needs'. */
  via: string;
}

export interface Graph {
  /** Every stage, in a deterministic topological order (ties broken by declaration order). */
  order: string[];
  upstream: Map<string, Edge[]>;
  downstream: Map<string, Edge[]>;
}

type Matcher = (path: string) => boolean;
const require = createRequire(import.meta.url);

function globMatcher(pattern: string): Matcher {
  const picomatch = require('picomatch') as (p: string, o?: object) => Matcher;
  return picomatch(pattern, { dot: true });
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

/** Whether a dep consumes an out: same path, the dep is a folder holding the out, the out is a folder holding the dep, or a glob match (also of files inside an out folder). */
export function depConsumesOut(dep: DepSpec, out: string, matcher?: Matcher): boolean {
  if (dep.isGlob) {
    const m = matcher ?? globMatcher(dep.pattern);
    return m(out) || out.split('/').some((_, i, parts) => m(parts.slice(0, i + 1).join('/'))) || globReachesInto(dep.pattern, out);
  }
  const d = dep.pattern;
  return d === out || d === '.' || out.startsWith(d + '/') || d.startsWith(out + '/');
}

/**
 * Finds the outs a plain (non-glob) dep consumes without comparing it with every out: the same
 * path, an out folder holding the dep, or outs inside the dep's folder. 200-stage pipelines have
 * 200 × deps comparisons otherwise, on every start.
 */
class OutIndex {
  private readonly exact = new Map<string, OutOwner[]>();
  private readonly under = new Map<string, OutOwner[]>();

  constructor(owners: OutOwner[]) {
    for (const o of owners) {
      push(this.exact, o.path, o);
      const parts = o.path.split('/');
      for (let i = 1; i < parts.length; i++) push(this.under, parts.slice(0, i).join('/'), o);
    }
  }

  consumers(dep: string): OutOwner[] {
    if (dep === '.') return [...this.exact.values()].flat();
    const found = new Set<OutOwner>(this.exact.get(dep) ?? []);
    for (const o of this.under.get(dep) ?? []) found.add(o);
    const parts = dep.split('/');
    for (let i = 1; i < parts.length; i++) for (const o of this.exact.get(parts.slice(0, i).join('/')) ?? []) found.add(o);
    return [...found];
  }
}

interface OutOwner {
  path: string;
  stage: Stage;
  loc: SourceLoc;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}


export function buildGraph(pipeline: Pipeline): { graph?: Graph; diagnostics: Diagnostic[] } {
  const file = pipeline.file.startsWith(pipeline.root) ? pipeline.file.slice(pipeline.root.length + 1) : pipeline.file;
  const diag = (loc: SourceLoc, message: string, hint?: string): Diagnostic => ({ file, line: loc.line, column: loc.column, length: loc.length, message, hint });
  const diagnostics: Diagnostic[] = [];
  const stages = [...pipeline.stages.values()];

  // Duplicate or overlapping outs.
  const outOwners: OutOwner[] = [];
  for (const s of stages) for (const o of s.outs) outOwners.push({ path: o.path, stage: s, loc: o.loc });
  const index = new OutIndex(outOwners);
  const reportedPairs = new Set<string>();
  const ownerIndex = new Map(outOwners.map((o, i) => [o, i]));
  outOwners.forEach((b, j) => {
    for (const a of index.consumers(b.path)) {
      const i = ownerIndex.get(a)!;
      if (i >= j || reportedPairs.has(`${i}:${j}`)) continue;
      reportedPairs.add(`${i}:${j}`);
      const same = a.stage === b.stage;
      if (same && a.path !== b.path) continue; // a stage may declare a folder and a file inside it
      diagnostics.push(
        diag(
          b.loc,
          same
            ? `stage '${b.stage.name}' declares out '${b.path}' twice`
            : `out '${b.path}' of stage '${b.stage.name}' is also declared by stage '${a.stage.name}' (line ${a.loc.line}: '${a.path}')`,
          same ? undefined : 'every artifact has exactly one producing stage',
        ),
      );
    }
  });

  const globConsumers = (dep: DepSpec) => {
    const matcher = globMatcher(dep.pattern);
    return outOwners.filter((o) => depConsumesOut(dep, o.path, matcher));
  };
  const upstream = new Map<string, Edge[]>(stages.map((s) => [s.name, []]));
  const downstream = new Map<string, Edge[]>(stages.map((s) => [s.name, []]));
  const addEdge = (e: Edge) => {
    if (upstream.get(e.to)!.some((x) => x.from === e.from && x.via === e.via)) return;
    upstream.get(e.to)!.push(e);
    downstream.get(e.from)!.push(e);
  };

  for (const s of stages) {
    for (const n of s.needs) {
      if (!pipeline.stages.has(n.stage)) {
        const hint = didYouMean(n.stage, pipeline.stages.keys());
        diagnostics.push(diag(n.loc, `stage '${s.name}' needs '${n.stage}', which is not a stage`, hint ? `did you mean '${hint}'?` : undefined));
      } else if (n.stage === s.name) {
        diagnostics.push(diag(n.loc, `stage '${s.name}' needs itself`));
      } else addEdge({ from: n.stage, to: s.name, via: 'needs' });
    }
    for (const dep of s.deps) {
      let produced = false;
      for (const o of dep.isGlob ? globConsumers(dep) : index.consumers(dep.pattern)) {
        produced = true;
        if (o.stage !== s) addEdge({ from: o.stage.name, to: s.name, via: dep.pattern });
      }
      if (!produced && !dep.isGlob && !existsSync(resolve(pipeline.root, dep.pattern))) {
        diagnostics.push(diag(dep.loc, `dep '${dep.pattern}' of stage '${s.name}' does not exist and no stage produces it`, 'create the file, fix the path, or add the stage that writes it'));
      }
    }
  }

  // Cycles: DFS with colours (an explicit stack); report each cycle once with every edge.
  const colour = new Map<string, 0 | 1 | 2>();
  const path: Edge[] = [];
  const reported = new Set<string>();
  const reportCycle = (e: Edge) => {
    const start = path.findIndex((x) => x.from === e.to);
    const cycle = [...(start >= 0 ? path.slice(start) : []), e];
    const key = cycle.map((x) => x.from).sort().join(',');
    if (reported.has(key)) return;
    reported.add(key);
    const text = cycle.map((x) => `${x.from} → ${x.to} (${x.via === 'needs' ? 'needs' : `dep '${x.via}'`})`).join(', ');
    diagnostics.push(diag(pipeline.stages.get(e.to)!.loc, `cycle between stages: ${text}`, 'a stage cannot depend, directly or not, on its own outs'));
  };
  for (const s of stages) {
    if (colour.get(s.name)) continue;
    colour.set(s.name, 1);
    const frames: Array<{ name: string; next: number }> = [{ name: s.name, next: 0 }];
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const out = downstream.get(frame.name)!;
      if (frame.next === out.length) {
        colour.set(frame.name, 2);
        frames.pop();
        path.pop();
        continue;
      }
      const e = out[frame.next++]!;
      const c = colour.get(e.to) ?? 0;
      if (c === 0) {
        colour.set(e.to, 1);
        path.push(e);
        frames.push({ name: e.to, next: 0 });
      } else if (c === 1) reportCycle(e);
    }
  }

  if (diagnostics.length) return { diagnostics };

  // Kahn's algorithm, declaration order for ties, so output and scheduling are deterministic.
  const indeg = new Map(stages.map((s) => [s.name, new Set(upstream.get(s.name)!.map((e) => e.from)).size]));
  const order: string[] = [];
  const position = new Map(stages.map((s, i) => [s.name, i]));
  const ready = new MinHeap<string>((a, b) => position.get(a)! - position.get(b)!);
  for (const s of stages) if (indeg.get(s.name) === 0) ready.push(s.name);
  while (ready.size) {
    const n = ready.pop()!;
    order.push(n);
    for (const to of new Set(downstream.get(n)!.map((e) => e.to))) {
      indeg.set(to, indeg.get(to)! - 1);
      if (indeg.get(to) === 0) ready.push(to);
    }
  }
  return { graph: { order, upstream, downstream }, diagnostics };
}

/** The targets and everything upstream of them, in topological order. */
export function selectUpstream(graph: Graph, targets: string[]): string[] {
  const keep = new Set<string>(targets);
  const todo = [...keep];
  while (todo.length) {
    for (const e of graph.upstream.get(todo.pop()!) ?? []) {
      if (keep.has(e.from)) continue;
      keep.add(e.from);
      todo.push(e.from);
    }
  }
  return graph.order.filter((n) => keep.has(n));
}

/** Every stage downstream of `name` (not including it). */
export function downstreamOf(graph: Graph, name: string): Set<string> {
  const seen = new Set<string>();
  const todo = [name];
  while (todo.length) {
    for (const e of graph.downstream.get(todo.pop()!) ?? []) {
      if (seen.has(e.to)) continue;
      seen.add(e.to);
      todo.push(e.to);
    }
  }
  return seen;
}

export function directUpstream(graph: Graph, name: string): string[] {
  return [...new Set((graph.upstream.get(name) ?? []).map((e) => e.from))];
}

/** A binary heap: the ready stages of Kahn's algorithm, earliest declared first, in O(log n) each. */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.before(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
