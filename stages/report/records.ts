// Per-record small multiples: for a record group printed once per step (TRACE_C_PHI, one record per
// phi_tic), one small plot per field over the record index, the reference's and the port's values
// overlaid, and the records whose field is beyond tolerance marked. Only the numeric, scalar fields
// of groups with at least two records; a compact comparison keeps no detail of its MATCH records,
// so it gets none (the page says so).
import type { ComparedItem, Comparison } from '../trace/comparison.js';
import { COLOURS } from './chain.js';

/** Small multiples drawn at most, and records per plot. */
export const MAX_FIELDS = 24;
export const MAX_RECORDS = 2000;

export interface RecordSeries {
  group: string;
  field: string;
  /** What orders the records: the field records are paired by (phi_tic), or their occurrence. */
  by: string;
  rows: Array<{ record: number; reference: number | null; port: number | null; name: string; divergent: boolean; status: string }>;
}

function numeric(v: ComparedItem['reference']): number | null {
  return v && v.length === 1 && typeof v[0] === 'number' ? v[0] : null;
}

/** The record series of a comparison, in the order their groups first appear; `more` counts those left out. */
export function recordSeries(c: Comparison): { series: RecordSeries[]; more: number } {
  if (c.compact) return { series: [], more: 0 };
  const byField = new Map<string, RecordSeries>();
  for (const it of c.items) {
    if (it.field === undefined || it.kind !== 'field') continue;
    const index = it.match && typeof it.match.value === 'number' ? it.match.value : it.occurrence;
    const id = `${it.key}\u0000${it.field}`;
    let s = byField.get(id);
    if (!s) byField.set(id, (s = { group: it.key, field: it.field, by: it.match?.field ?? 'occurrence', rows: [] }));
    s.rows.push({
      record: index,
      reference: numeric(it.reference),
      port: numeric(it.port),
      name: it.name,
      divergent: it.status !== 'MATCH' && it.status !== 'MISSING' && it.roundOff !== true,
      status: it.roundOff ? 'round-off' : it.status,
    });
  }
  const all = [...byField.values()].filter((s) => s.rows.length >= 2 && s.rows.some((r) => r.reference !== null || r.port !== null));
  return { series: all.slice(0, MAX_FIELDS).map((s) => ({ ...s, rows: s.rows.slice(0, MAX_RECORDS) })), more: Math.max(0, all.length - MAX_FIELDS) };
}

/** One small multiple: reference and port over the record index, divergent records ringed. */
export function recordSpec(s: RecordSeries, width = 260, height = 120): Record<string, unknown> {
  const values = s.rows.flatMap((r) => [
    { record: r.record, side: 'reference', value: r.reference, name: r.name },
    { record: r.record, side: 'port', value: r.port, name: r.name },
  ]).filter((v) => v.value !== null);
  const x = { field: 'record', type: 'quantitative', title: s.by, axis: { format: 'd', tickMinStep: 1 } };
  const y = { field: 'value', type: 'quantitative', title: s.field, scale: { zero: false } };
  return {
    width,
    height,
    title: { text: `${s.group}.${s.field}`, fontSize: 11 },
    layer: [
      {
        name: 'sides',
        data: { values },
        mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          color: { field: 'side', type: 'nominal', title: null, scale: { domain: ['reference', 'port'], range: ['#0072b2', '#e69f00'] }, legend: { orient: 'bottom', direction: 'horizontal' } },
          strokeDash: { field: 'side', type: 'nominal', scale: { domain: ['reference', 'port'], range: [[1, 0], [4, 2]] } },
        },
      },
      {
        name: 'divergent_records',
        data: { values: s.rows.filter((r) => r.divergent && r.port !== null).map((r) => ({ record: r.record, value: r.port, description: `${r.name}: ${r.status}` })) },
        mark: { type: 'point', shape: 'circle', size: 110, strokeWidth: 1.5, color: COLOURS.DIVERGENT, filled: false },
        encoding: { x, y, description: { field: 'description' } },
      },
    ],
  };
}
