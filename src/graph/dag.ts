// The DAG: edges from a stage's deps matching another stage's outs (the same file, a folder holding
// it, or a glob matching it) and from explicit `needs`. Detects cycles (naming every edge),
// duplicate outs and deps that nothing produces. Knows nothing about hashing or running. Every walk
// is iterative: a chain of thousands of stages is a valid pipeline, not a stack overflow.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import { didYouMean } from '../pipeline/diagnostics.js';
import type { Pipeline, SourceLoc, Stage } from '../pipeline/model.js';
import { OutIndex } from './out-index.js';

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

interface OutOwner {
  path: string;
  index: number;
  stage: Stage;
  loc: SourceLoc;
}

/** Cycles named in full; past these, the rest are counted (each can name thousands of edges). */
const MAX_CYCLES = 20;
/** Unknown `needs` names that get a did-you-mean hint (each compares with every stage name). */
const MAX_HINTS = 100;

export function buildGraph(pipeline: Pipeline): { graph?: Graph; diagnostics: Diagnostic[] } {
  const file = pipeline.file.startsWith(pipeline.root) ? pipeline.file.slice(pipeline.root.length + 1) : pipeline.file;
  const diag = (loc: SourceLoc, message: string, hint?: string): Diagnostic => ({ file, line: loc.line, column: loc.column, length: loc.length, message, hint });
  const diagnostics: Diagnostic[] = [];
  const stages = [...pipeline.stages.values()];

  const owners: OutOwner[] = [];
  for (const s of stages) for (const o of s.outs) owners.push({ path: o.path, stage: s, index: owners.length, loc: o.loc });
  const index = new OutIndex(owners);

  // Duplicate or overlapping outs, each reported once at the later of the two declarations: an
  // out against the first owner of its own path and against the outs of folders above it.
  const overlap = (a: OutOwner, b: OutOwner) => {
    const [first, later] = a.index < b.index ? [a, b] : [b, a];
    const same = first.stage === later.stage;
    diagnostics.push(
      diag(
        later.loc,
        same
          ? `stage '${later.stage.name}' declares out '${later.path}' twice`
          : `out '${later.path}' of stage '${later.stage.name}' is also declared by stage '${first.stage.name}' (line ${first.loc.line}: '${first.path}')`,
        same ? undefined : 'every artifact has exactly one producing stage',
      ),
    );
  };
  for (const b of owners) {
    const first = index.at(b.path)[0]!;
    if (first !== b) overlap(first, b);
    // A stage may declare a folder and a file inside it.
    const holder = index.above(b.path).find((a) => a.stage !== b.stage);
    if (holder) overlap(holder, b);
  }

  const upstream = new Map<string, Edge[]>(stages.map((s) => [s.name, []]));
  const downstream = new Map<string, Edge[]>(stages.map((s) => [s.name, []]));
  const edgeKeys = new Set<string>();
  const addEdge = (e: Edge) => {
    const key = `${e.to}\0${e.from}\0${e.via}`;
    if (edgeKeys.has(key)) return;
    edgeKeys.add(key);
    upstream.get(e.to)!.push(e);
    downstream.get(e.from)!.push(e);
  };
  const exists = new Map<string, boolean>();
  const existsOnDisk = (rel: string) => {
    let e = exists.get(rel);
    if (e === undefined) exists.set(rel, (e = existsSync(resolve(pipeline.root, rel))));
    return e;
  };
  const hints = new Map<string, string | undefined>();
  const hintFor = (name: string) => {
    if (!hints.has(name)) hints.set(name, hints.size < MAX_HINTS ? didYouMean(name, pipeline.stages.keys()) : undefined);
    return hints.get(name);
  };

  for (const s of stages) {
    for (const n of s.needs) {
      if (!pipeline.stages.has(n.stage)) {
        const hint = hintFor(n.stage);
        diagnostics.push(diag(n.loc, `stage '${s.name}' needs '${n.stage}', which is not a stage`, hint ? `did you mean '${hint}'?` : undefined));
      } else if (n.stage === s.name) {
        diagnostics.push(diag(n.loc, `stage '${s.name}' needs itself`));
      } else addEdge({ from: n.stage, to: s.name, via: 'needs' });
    }
    for (const dep of s.deps) {
      let produced = false;
      for (const o of dep.isGlob ? index.globConsumers(dep.pattern) : index.consumers(dep.pattern)) {
        produced = true;
        if (o.stage !== s) addEdge({ from: o.stage.name, to: s.name, via: dep.pattern });
      }
      if (!produced && !dep.isGlob && !existsOnDisk(dep.pattern)) {
        diagnostics.push(diag(dep.loc, `dep '${dep.pattern}' of stage '${s.name}' does not exist and no stage produces it`, 'create the file, fix the path, or add the stage that writes it'));
      }
    }
  }

  // Cycles: DFS with colours (an explicit stack); report each cycle once with every edge.
  const colour = new Map<string, 0 | 1 | 2>();
  const path: Edge[] = [];
  /** Where each stage on the current path was entered (its edge's index in `path`). */
  const onPath = new Map<string, number>();
  const reported = new Set<string>();
  let unnamedCycles = 0;
  const reportCycle = (e: Edge) => {
    if (reported.size >= MAX_CYCLES) {
      unnamedCycles++;
      return;
    }
    const start = onPath.get(e.to) ?? path.length;
    const cycle = [...path.slice(start), e];
    const key = cycle.map((x) => x.from).sort().join(',');
    if (reported.has(key)) return;
    reported.add(key);
    const text = cycle.map((x) => `${x.from} → ${x.to} (${x.via === 'needs' ? 'needs' : `dep '${x.via}'`})`).join(', ');
    diagnostics.push(diag(pipeline.stages.get(e.to)!.loc, `cycle between stages: ${text}`, 'a stage cannot depend, directly or not, on its own outs'));
  };
  for (const s of stages) {
    if (colour.get(s.name)) continue;
    colour.set(s.name, 1);
    onPath.set(s.name, 0);
    const frames: Array<{ name: string; next: number }> = [{ name: s.name, next: 0 }];
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const out = downstream.get(frame.name)!;
      if (frame.next === out.length) {
        colour.set(frame.name, 2);
        onPath.delete(frame.name);
        frames.pop();
        path.pop();
        continue;
      }
      const e = out[frame.next++]!;
      const c = colour.get(e.to) ?? 0;
      if (c === 0) {
        colour.set(e.to, 1);
        onPath.set(e.to, path.length + 1);
        path.push(e);
        frames.push({ name: e.to, next: 0 });
      } else if (c === 1) reportCycle(e);
    }
  }
  if (unnamedCycles) {
    diagnostics.push(diag(stages[0]!.loc, `${unnamedCycles} more edge(s) close a cycle beyond the ${MAX_CYCLES} cycles named above`, 'break the cycles named above first; evidence validate then names the rest'));
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
