// A sweep: the comparisons of one pipeline over many configurations (instances of a matrix stage),
// read side by side. Per instance: its verdict, headline finding with its diagnosis, the worst
// relative difference beyond round-off, and the keys that diverge. Then instances grouped by their
// headline, and the keys that diverge anywhere with each instance's status. Nothing is inferred
// across instances beyond grouping identical headlines: each instance's evidence is its own.
import { posix } from 'node:path';
import type { PipelineView } from '../../../src/stage-api/index.js';
import type { Comparison } from '../comparison.js';
import { findingVerdictOf, formatRel } from '../findings/format.js';
import { worseStatus, type Status } from '../status.js';
import { itemAt, roundOffAt, statusAt } from '../compact.js';

export interface SweepInstance {
  /** The stage that wrote the comparison (e.g. compare@ortho-beam), or the file when no stage did. */
  stage: string;
  comparison: string;
  /** The summary made from this comparison, when a summarize stage reads it. */
  summary?: string;
  verdict: string;
  headline: { key: string; status: string; rel: number | null; diagnosis?: string } | null;
  /** The largest relative difference among items beyond round-off. */
  worstRel: number | null;
  /** Key groups with an item beyond round-off, in the reference's order. */
  divergentKeys: string[];
}

export interface Sweep {
  format: 'evidence-sweep/1';
  instances: SweepInstance[];
  /** Instances with the same headline (key and diagnosis), largest group first. */
  groups: Array<{ headline: string; instances: string[] }>;
  /** Keys beyond round-off in at least one instance: each instance's worst status for it. */
  keys: Array<{ key: string; statuses: Record<string, string> }>;
}

function producerOf(pipeline: PipelineView, path: string, kind?: string): string | undefined {
  return pipeline.stages.find((s) => (!kind || s.uses === kind) && s.outs.includes(path))?.name;
}

export function instanceOf(pipeline: PipelineView, file: string, c: Comparison): SweepInstance {
  const stage = producerOf(pipeline, file) ?? file;
  const summary = pipeline.stages.find((s) => s.uses === 'summarize' && s.deps.includes(file))?.outs[0];
  const f = c.findings?.[0];
  // Positions among all compared items: in a compact comparison c.items holds only the detailed ones.
  const item = f ? itemAt(c, f.index) : undefined;
  const beyond = c.divergences.map((i) => itemAt(c, i)).filter((i): i is NonNullable<typeof i> => i !== undefined && !i.roundOff);
  const rels = beyond.map((i) => i.rel).filter((r): r is number => typeof r === 'number');
  return {
    stage,
    comparison: file,
    ...(summary ? { summary } : {}),
    verdict: findingVerdictOf(c),
    headline: f ? { key: f.name, status: f.status, rel: item?.rel ?? null, ...(f.diagnoses[0] ? { diagnosis: f.diagnoses[0].message } : {}) } : null,
    worstRel: rels.length ? Math.max(...rels) : null,
    divergentKeys: [...new Set(beyond.map((i) => i.key))],
  };
}

/** How a headline reads in a group: the key and the diagnosis, without the numbers that vary. */
export function headlineText(i: SweepInstance): string {
  if (!i.headline) return i.verdict === 'MATCH' ? 'no finding: every key matches within round-off' : `no finding (${i.verdict})`;
  return `${i.headline.key}: ${i.headline.diagnosis ?? 'no known pattern fits'}`;
}

export function collectSweep(instances: SweepInstance[], comparisons: Comparison[]): Sweep {
  const groups = new Map<string, string[]>();
  for (const i of instances) groups.set(headlineText(i), [...(groups.get(headlineText(i)) ?? []), i.stage]);
  const keyOrder: string[] = [];
  const statuses = new Map<string, Record<string, string>>();
  instances.forEach((inst, n) => {
    for (const { key } of itemsOf(comparisons[n]!)) {
      if (!inst.divergentKeys.includes(key)) continue;
      if (!statuses.has(key)) {
        statuses.set(key, {});
        keyOrder.push(key);
      }
    }
  });
  // Each instance's worst status per listed key, MATCH where it has the key and no divergence.
  instances.forEach((inst, n) => {
    const all = itemsOf(comparisons[n]!);
    for (const key of keyOrder) {
      const items = all.filter((i) => i.key === key);
      if (!items.length) continue;
      const beyond = items.filter((i) => i.status !== 'MATCH' && !i.roundOff);
      statuses.get(key)![inst.stage] = beyond.length ? worstOf(beyond.map((i) => i.status)) : items.some((i) => i.roundOff) ? 'round-off' : 'MATCH';
    }
  });
  return {
    format: 'evidence-sweep/1',
    instances,
    groups: [...groups].map(([headline, names]) => ({ headline, instances: names })).sort((a, b) => b.instances.length - a.instances.length),
    keys: keyOrder.map((key) => ({ key, statuses: statuses.get(key)! })),
  };
}

/** Every compared item's key, status and round-off flag, from either form of a comparison. */
function itemsOf(c: Comparison): Array<{ key: string; status: Status; roundOff: boolean }> {
  if (!c.compact) return c.items.map((i) => ({ key: i.key, status: i.status, roundOff: i.roundOff === true }));
  const { keys, key } = c.compact;
  return Array.from({ length: c.compact.items }, (_, i) => ({ key: keys[key[i]!]!, status: statusAt(c, i), roundOff: roundOffAt(c, i) }));
}

function worstOf(statuses: Status[]): Status {
  return statuses.reduce(worseStatus);
}

/** An instance's label in tables: its matrix values (the part after '@'), else the stage name. */
export function labelOf(stage: string): string {
  const at = stage.indexOf('@');
  return at > 0 ? stage.slice(at + 1) : stage;
}

export function relText(rel: number | null): string {
  return rel === null ? '—' : formatRel(rel);
}

/** A link from the sweep's Markdown file to another project file. */
export function linkFrom(markdownFile: string, target: string): string {
  return posix.relative(posix.dirname(markdownFile), target) || target;
}
