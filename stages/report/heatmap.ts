// The sweep's heatmap: one row per instance (grouped by headline, the sweep's groups in order), one
// column per compared item, the colour log10 of the relative difference. A cell exists for every
// instance and every column: an instance that does not print a key gets an "absent" cell, so the
// grid is whole and its cells count as instances × keys. Columns are item names; past MAX_COLUMNS
// distinct names they are the item keys (record groups and vectors), each cell the largest Δ rel of
// the instance's items of that key, and the page says so.
import { itemAt, relAt, statusAt } from '../trace/compact.js';
import type { Comparison } from '../trace/comparison.js';
import type { Sweep } from '../trace/sweep/collect.js';
import { labelOf } from '../trace/sweep/collect.js';
import { categoryAt, EXACT_AT } from './chain.js';

export const MAX_COLUMNS = 400;
/** log10 Δ rel of an exact match: the bottom of the colour scale. */
const FLOOR = Math.log10(EXACT_AT);

export interface HeatCell {
  instance: string;
  /** Row label: the instance's group number and its label. */
  row: string;
  column: string;
  /** log10 Δ rel (the worst of the column's items), null when absent or without a Δ rel. */
  log10: number | null;
  state: 'value' | 'absent' | 'no Δ rel';
  category: string;
}

export interface Heatmap {
  rows: string[];
  columns: string[];
  cells: HeatCell[];
  /** What a column is: an item name, or a key whose items were merged. */
  columnsAre: 'items' | 'keys';
}

/** Item i's column name: its own name, or its key. */
function columnOf(c: Comparison, i: number, byKey: boolean): string {
  const it = itemAt(c, i);
  if (!byKey && it) return it.name;
  return it ? it.key : c.compact!.keys[c.compact!.key[i]!]!;
}

function itemCount(c: Comparison): number {
  return c.compact ? c.compact.items : c.items.length;
}

/** The heatmap of a sweep, given each instance's comparison (by its path in the sweep). */
export function heatmapData(sweep: Sweep, comparisons: Map<string, Comparison>): Heatmap {
  const ordered = sweep.groups.flatMap((g, k) => g.instances.map((stage) => ({ stage, group: k + 1 })));
  const instances = ordered.map(({ stage, group }) => ({ inst: sweep.instances.find((i) => i.stage === stage)!, group }));
  const names = new Set<string>();
  let byKey = false;
  for (const { inst } of instances) {
    const c = comparisons.get(inst.comparison)!;
    // A compact comparison has no names for most of its items: its columns are keys.
    if (c.compact) byKey = true;
    else for (const it of c.items) names.add(it.name);
  }
  if (names.size > MAX_COLUMNS) byKey = true;
  const columns: string[] = [];
  const seen = new Set<string>();
  const worst = instances.map(({ inst }) => {
    const c = comparisons.get(inst.comparison)!;
    const m = new Map<string, { rel: number | null; category: string; absentRel: boolean }>();
    for (let i = 0; i < itemCount(c); i++) {
      const col = columnOf(c, i, byKey);
      if (!seen.has(col)) {
        seen.add(col);
        columns.push(col);
      }
      const rel = relAt(c, i);
      const prev = m.get(col);
      const category = statusAt(c, i) === 'MATCH' ? 'MATCH' : categoryAt(c, i);
      if (!prev) m.set(col, { rel, category, absentRel: rel === null });
      else if (rel !== null && (prev.rel === null || rel > prev.rel)) m.set(col, { rel, category, absentRel: false });
    }
    return m;
  });
  const rows = instances.map(({ inst, group }) => `${group} · ${labelOf(inst.stage)}`);
  const cells: HeatCell[] = [];
  instances.forEach(({ inst }, r) => {
    for (const column of columns) {
      const w = worst[r]!.get(column);
      const state = !w ? 'absent' : w.rel === null ? 'no Δ rel' : 'value';
      const log10 = w && w.rel !== null ? Math.max(FLOOR, Math.log10(Math.max(w.rel, EXACT_AT))) : null;
      cells.push({ instance: labelOf(inst.stage), row: rows[r]!, column, log10, state, category: w?.category ?? 'absent' });
    }
  });
  return { rows, columns, cells, columnsAre: byKey ? 'keys' : 'items' };
}

/** The heatmap's Vega-Lite specification: value cells coloured by log10 Δ rel, the others grey. */
export function heatmapSpec(h: Heatmap): Record<string, unknown> {
  const cellSize = h.columns.length > 150 ? 4 : 9;
  const x = { field: 'column', type: 'ordinal', sort: h.columns, title: h.columnsAre === 'items' ? "compared item, in the reference's order" : 'key', axis: h.columns.length > 60 ? { labels: false, ticks: false } : { labelAngle: -60, labelFontSize: 8, labelLimit: 160 } };
  const y = { field: 'row', type: 'ordinal', sort: h.rows, title: 'instance (group · name)' };
  return {
    width: Math.max(200, h.columns.length * cellSize),
    height: Math.max(60, h.rows.length * 18),
    // shade is never null: Vega-Lite drops marks whose colour field is null, and every cell must be drawn.
    data: { values: h.cells.map((c) => ({ ...c, shade: c.log10 ?? FLOOR, description: `${c.instance} ${c.column}: ${c.state === 'value' ? `log10 Δ rel ${c.log10!.toFixed(1)} (${c.category})` : c.state}` })) },
    mark: { type: 'rect', stroke: 'white', strokeWidth: h.columns.length > 150 ? 0 : 0.5 },
    name: 'cells',
    encoding: {
      x,
      y,
      color: {
        condition: { test: "datum.state !== 'value'", value: '#d9d9d9' },
        field: 'shade',
        type: 'quantitative',
        title: 'log10 Δ rel',
        scale: { scheme: 'viridis', domain: [FLOOR, 0.5], clamp: true },
      },
      description: { field: 'description' },
    },
  };
}
