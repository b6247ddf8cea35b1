// `evidence run --shard I/N`: a deterministic share of a sweep, for a CI matrix of N jobs.
//
// The unit of sharing is an item: a group of matrix instances connected by edges between them
// (config cubic-default through c_trace → parse → compare → summarize), so that a shard's work is
// self-contained and no instance runs in two shards. Items are sorted by their first instance name
// and dealt round-robin: item k goes to shard (k mod N) + 1, which keeps the shards within one
// item of each other. The deal depends only on the pipeline (with its -p), never on the cache, so
// every job of a CI matrix computes the same partition.
//
// A stage that needs every instance (a non-matrix stage downstream of any instance, like a sweep
// report, and anything downstream of it) is never run in a shard: a full run assembles it. Other
// stages run in a shard only as the upstream of its instances (the builds). Knows nothing about
// running or the cache.
import type { Pipeline } from '../pipeline/model.js';
import { itemText } from '../pipeline/select.js';
import { downstreamOf, selectUpstream, type Graph } from './dag.js';

export interface ShardSpec {
  index: number;
  count: number;
}

export interface Shard {
  /** The instances this shard runs (their upstream comes with them), in graph order. */
  targets: string[];
  /** Labels of this shard's items, and how many items the sweep has. */
  items: string[];
  allItems: number;
  /** Stages a shard run leaves out, and why. */
  left: Array<{ stage: string; why: string }>;
}

/** `I/N` with 1 ≤ I ≤ N, or an error message. */
export function parseShard(raw: string): ShardSpec | string {
  const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
  if (!m) return `--shard expects I/N (this job's share of N, e.g. 2/4), got '${raw}'`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `--shard ${raw}: N must be at least 1`;
  if (index < 1 || index > count) return `--shard ${raw}: I must be between 1 and ${count}`;
  return { index, count };
}

/** What the instances of one item share: `config=cubic-default`, else the first instance's name. */
function labelOf(pipeline: Pipeline, members: string[]): string {
  const items = members.map((n) => pipeline.stages.get(n)!.instance!.item);
  const common = Object.entries(items[0]!).filter(([axis, value]) => items.every((it) => Object.hasOwn(it, axis) && itemText(it[axis]) === itemText(value)));
  return common.length ? common.map(([axis, value]) => `${axis}=${itemText(value)}`).join(',') : members[0]!;
}

export function shardOf(pipeline: Pipeline, graph: Graph, spec: ShardSpec, selected?: string[]): Shard {
  const isInstance = (n: string) => pipeline.stages.get(n)?.instance !== undefined;
  // Stages that need every instance: gatherers and all that follows them.
  const needsAll = new Set<string>();
  for (const name of graph.order) {
    if (isInstance(name) || needsAll.has(name)) continue;
    if ((graph.upstream.get(name) ?? []).some((e) => isInstance(e.from) || needsAll.has(e.from))) {
      needsAll.add(name);
      for (const d of downstreamOf(graph, name)) needsAll.add(d);
    }
  }
  // Items: connected groups of the remaining instances (union-find over their edges).
  const parent = new Map<string, string>();
  const find = (n: string): string => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r)!;
    for (let c = n; c !== r; ) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  const shardable = graph.order.filter((n) => isInstance(n) && !needsAll.has(n));
  for (const n of shardable) parent.set(n, n);
  for (const n of shardable) {
    for (const e of graph.upstream.get(n) ?? []) {
      if (!parent.has(e.from)) continue;
      const a = find(n);
      const b = find(e.from);
      if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const groups = new Map<string, string[]>();
  for (const n of shardable) {
    const root = find(n);
    groups.set(root, [...(groups.get(root) ?? []), n]);
  }
  const items = [...groups.values()].map((members) => ({ members, first: [...members].sort()[0]! }));
  items.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const mine = items.filter((_, k) => k % spec.count === spec.index - 1);

  const wanted = selected ? new Set(selectUpstream(graph, selected)) : undefined;
  const chosen = new Set(mine.flatMap((i) => i.members).filter((n) => !wanted || wanted.has(n)));
  const targets = graph.order.filter((n) => chosen.has(n));
  const runs = new Set(selectUpstream(graph, targets));
  const feedsItems = new Set(selectUpstream(graph, shardable));
  const left: Shard['left'] = [];
  for (const name of graph.order) {
    if (runs.has(name) || isInstance(name) || (wanted && !wanted.has(name))) continue;
    const why = needsAll.has(name) ? 'it needs every instance; a run without --shard assembles it' : feedsItems.has(name) ? 'no item of this shard needs it' : 'it is not part of any item';
    left.push({ stage: name, why });
  }
  return {
    targets,
    items: mine.filter((i) => i.members.some((n) => chosen.has(n))).map((i) => labelOf(pipeline, i.members)),
    allItems: items.length,
    left,
  };
}
