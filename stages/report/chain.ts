// The chain plot of a comparison: every compared item in the reference's order on x, its relative
// difference on a log y axis, coloured by status (round-off apart), with the tolerance line, the
// round-off band, and each finding marked and labelled with its key. Reads either form of a
// comparison (full, or compact above 100,000 items) through compact.ts's accessors. Past
// MAX_POINTS items the plot is thinned, never silently: every finding and the first divergence are
// kept, then every other item that is not MATCH (binned by position when even those are too many),
// then, in what is left of the budget (never less than MATCH_POINTS), the MATCH items with the
// largest Δ rel of each stretch, so the envelope stays.
import { itemAt, relAt, roundOffAt, statusAt } from '../trace/compact.js';
import type { Comparison } from '../trace/comparison.js';
import { BUDGET_ULPS } from '../trace/precision.js';

/** Points plotted before thinning starts: a few hundred kB of SVG, drawn well within a second. */
export const MAX_POINTS = 6000;
/** Of those, the MATCH items kept at least when thinning (they take whatever the others leave): one per stretch. */
export const MATCH_POINTS = 1500;
/** Where an exact match (Δ rel 0) sits on the log axis, and where items without a Δ rel sit. */
export const EXACT_AT = 1e-17;
export const NO_REL_AT = 5;

export type Category = 'MATCH' | 'round-off' | 'MINOR' | 'DIVERGENT' | 'CRITICAL' | 'MISSING';
export const CATEGORIES: Category[] = ['MATCH', 'round-off', 'MINOR', 'DIVERGENT', 'CRITICAL', 'MISSING'];
export const COLOURS: Record<Category, string> = {
  MATCH: '#8c9bab',
  'round-off': '#56b4e9',
  MINOR: '#e69f00',
  DIVERGENT: '#d55e00',
  CRITICAL: '#8b0000',
  MISSING: '#9467bd',
};

export interface ChainPoint {
  /** The item's position among all compared items. */
  i: number;
  /** The item's name (a compact comparison's undetailed items: their key and position). */
  key: string;
  category: Category;
  /** Δ rel as computed, null when there is none (missing, non-finite, text). */
  rel: number | null;
  /** Where the point is drawn on the log axis. */
  y: number;
}

export interface ChainData {
  points: ChainPoint[];
  /** Items compared in all. */
  total: number;
  /** True when points were left out (then `points.length` < total). */
  thinned: boolean;
  /** MATCH items shown / in all, and other items shown / in all, when thinned. */
  shown: { match: number; matchTotal: number; other: number; otherTotal: number };
  findings: Array<{ n: number; i: number; key: string; y: number }>;
  tolerance: number;
  /** Upper edge of the round-off band in Δ rel (the budget over the magnitude), and its precision. */
  band: { top: number; precision: string };
}

export function categoryAt(c: Comparison, i: number): Category {
  const s = statusAt(c, i);
  if (s === 'MATCH' || s === 'MISSING') return s;
  return roundOffAt(c, i) ? 'round-off' : s;
}

function nameAt(c: Comparison, i: number): string {
  const it = itemAt(c, i);
  if (it) return it.name;
  // A compact comparison keeps only the key of an undetailed item: its position tells it apart.
  return `${c.compact!.keys[c.compact!.key[i]!]} #${i}`;
}

export function plotY(rel: number | null): number {
  if (rel === null) return NO_REL_AT;
  return Math.max(rel, EXACT_AT);
}

/** The upper edge of the round-off band, relative: the budget in ulps of the less precise side. */
export function roundOffBand(c: Comparison): { top: number; precision: string } {
  const sides = [c.precision.reference, c.precision.port];
  const eps = (p: Comparison['precision']['reference']) => (p.type === 'float32' ? 2 ** -23 : p.type === 'float64' ? 2 ** -52 : 10 ** (1 - (p.digits ?? 15)));
  const loose = sides.reduce((a, b) => (eps(b) > eps(a) ? b : a));
  const label = loose.type === 'decimal' ? `${loose.digits} digits` : loose.type;
  return { top: (c.precision.budgetUlps ?? BUDGET_ULPS) * eps(loose), precision: label };
}

/**
 * Keeps at most `m` of `indices` (sorted): one per stretch of equal length, the one with the largest
 * Δ rel, so that a spike inside a stretch is never the one thinned away.
 */
export function thinByStretch(indices: number[], m: number, relOf: (i: number) => number): number[] {
  if (indices.length <= m) return indices;
  if (m <= 0) return [];
  const kept: number[] = [];
  const per = indices.length / m;
  for (let b = 0; b < m; b++) {
    const from = Math.floor(b * per);
    const to = Math.min(indices.length, Math.floor((b + 1) * per));
    let best = from;
    for (let k = from + 1; k < to; k++) if (relOf(indices[k]!) > relOf(indices[best]!)) best = k;
    if (to > from) kept.push(indices[best]!);
  }
  return kept;
}

/** The chain plot's data (see the module header for what thinning keeps). */
export function chainData(c: Comparison, maxPoints = MAX_POINTS, matchPoints = MATCH_POINTS): ChainData {
  const total = c.compact ? c.compact.items : c.items.length;
  const relOf = (i: number) => relAt(c, i) ?? Infinity;
  const pinned = new Set<number>(c.findings.map((f) => f.index));
  if (c.firstDivergence) pinned.add(c.firstDivergence.index);
  const match: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < total; i++) if (!pinned.has(i)) (statusAt(c, i) === 'MATCH' ? match : other).push(i);
  let keep: number[];
  let thinned = false;
  if (total <= maxPoints) keep = [...pinned, ...match, ...other];
  else {
    thinned = true;
    const otherKept = thinByStretch(other, Math.max(0, maxPoints - matchPoints - pinned.size), relOf);
    const matchKept = thinByStretch(match, Math.min(match.length, maxPoints - pinned.size - otherKept.length), relOf);
    keep = [...pinned, ...otherKept, ...matchKept];
  }
  keep.sort((a, b) => a - b);
  const points = keep.map((i): ChainPoint => {
    const rel = relAt(c, i);
    return { i, key: nameAt(c, i), category: categoryAt(c, i), rel, y: plotY(rel) };
  });
  const shownMatch = points.filter((p) => p.category === 'MATCH').length;
  return {
    points,
    total,
    thinned,
    shown: { match: shownMatch, matchTotal: c.totals.MATCH, other: points.length - shownMatch, otherTotal: total - c.totals.MATCH },
    findings: c.findings.map((f, k) => ({ n: k + 1, i: f.index, key: f.name, y: plotY(relAt(c, f.index)) })),
    tolerance: c.options.tolerance.rel,
    band: roundOffBand(c),
  };
}

/** The Vega-Lite specification of the chain plot. */
export function chainSpec(d: ChainData, width = 960, height = 340): Record<string, unknown> {
  const x = { field: 'i', type: 'quantitative', title: "item, in the reference's order", scale: { domain: [-0.5, Math.max(d.total - 0.5, 0.5)], nice: false }, axis: { format: 'd', tickMinStep: 1 } };
  const y = { field: 'y', type: 'quantitative', title: 'Δ rel = |port − reference| / magnitude (log)', scale: { type: 'log', domain: [EXACT_AT / 2, NO_REL_AT * 2], nice: false }, axis: { format: '.0e' } };
  const small = d.points.length > 2000;
  return {
    width,
    height,
    layer: [
      {
        name: 'roundoff_band',
        data: { values: [{ lo: EXACT_AT / 2, hi: d.band.top, label: `round-off band (${d.band.precision}, up to ${d.band.top.toExponential(1)})` }] },
        mark: { type: 'rect', color: COLOURS['round-off'], opacity: 0.12 },
        encoding: { y: { field: 'lo', type: 'quantitative', scale: y.scale }, y2: { field: 'hi' }, description: { field: 'label' } },
      },
      {
        name: 'tolerance',
        data: { values: [{ tol: d.tolerance, label: `tolerance rel ${d.tolerance}` }] },
        layer: [
          { mark: { type: 'rule', color: '#444', strokeDash: [6, 4] }, encoding: { y: { field: 'tol', type: 'quantitative', scale: y.scale }, description: { field: 'label' } } },
          { mark: { type: 'text', align: 'right', dy: -5, x: width - 4, fontSize: 10, color: '#444' }, encoding: { y: { field: 'tol', type: 'quantitative', scale: y.scale }, text: { field: 'label' } } },
        ],
      },
      {
        name: 'findings',
        data: { values: d.findings.map((f) => ({ ...f, label: `${f.n}: ${f.key}`, description: `finding ${f.n}: ${f.key}`, labelY: 4 + 14 * ((f.n - 1) % 8) })) },
        layer: [
          { name: 'finding_rules', mark: { type: 'rule', color: COLOURS.DIVERGENT, strokeDash: [2, 2], opacity: 0.7 }, encoding: { x, description: { field: 'description' } } },
          {
            name: 'finding_labels',
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, fontSize: 11, fontWeight: 'bold', color: '#222' },
            // Labels stacked from the top (pixels, no scale), so that findings close together stay legible.
            encoding: { x, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label' }, description: { field: 'description' } },
          },
        ],
      },
      {
        name: 'items',
        data: { values: d.points.map((p) => ({ ...p, description: `${p.key}: ${p.category}, Δ rel ${p.rel === null ? 'none' : p.rel.toPrecision(3)}` })) },
        mark: { type: 'point', filled: true, size: small ? 14 : 36, opacity: 0.85 },
        encoding: {
          x,
          y,
          color: { field: 'category', type: 'nominal', title: 'status', scale: { domain: CATEGORIES, range: CATEGORIES.map((k) => COLOURS[k]) } },
          shape: { condition: { test: 'datum.rel === null', value: 'cross' }, value: 'circle' },
          description: { field: 'description' },
        },
      },
    ],
  };
}
