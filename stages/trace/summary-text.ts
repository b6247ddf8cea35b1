// The small text pieces of a comparison's Markdown (summary.md, the compare command, notes.md):
// values, deltas, table rows, one-sentence descriptions of an item, its diagnoses and a checkpoint,
// and the header lines (tolerance, precision, totals). Pure text; no files, no clock.
import picomatch from 'picomatch';
import type { CheckpointResult, ComparedItem, Comparison, Component, Diagnosis } from './comparison.js';
import { formatNumber } from './factors.js';
import { itemMatchesKey } from './summarise.js';

/**
 * A value as printed in a table: shortest round-trip digits (exponent form below 1e-4, where JS
 * would print 0.0000045…); nan/inf as C prints them.
 */
export function formatComponent(v: Component): string {
  if (typeof v === 'number') {
    if (Object.is(v, -0)) return '-0';
    return v !== 0 && Math.abs(v) < 1e-4 ? v.toExponential() : String(v);
  }
  if (v === 'NaN') return 'nan';
  if (v === 'Infinity') return 'inf';
  if (v === '-Infinity') return '-inf';
  return v;
}

export function formatValue(values: Component[] | null, labels?: string[]): string {
  if (values === null) return '—';
  return values.map((v, i) => (labels?.[i] !== undefined ? `${labels[i]}:${formatComponent(v)}` : formatComponent(v))).join(' ');
}

/** A delta in 4 significant digits (1.812e-2), '—' when absent. */
export function formatDelta(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (x === 0) return '0';
  return x.toExponential(3);
}

export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

/** A tolerance as written in a config: 1e-6 rather than 0.000001. */
export function formatSetting(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

/**
 * The items the table shows, in the comparison's order (of a compact comparison, those it keeps in
 * detail); `notFound`: the keys that name no item (of a compact one, no key either).
 */
export function selectItems(c: Comparison, keys: string[] | undefined): { items: ComparedItem[]; notFound: string[] } {
  if (!keys || keys.length === 0) return { items: c.items, notFound: [] };
  const globs = keys.map((k) => picomatch(k, { dot: true }));
  const found = new Set<number>();
  if (c.compact) {
    // A key may name MATCH items the compact form keeps no detail of: it is found when it names
    // one of the comparison's keys, alone or with a selector or a field.
    keys.forEach((k, i) => {
      if (c.compact!.keys.some((name) => globs[i]!(name) || (k.startsWith(name) && (k.length === name.length || '.#['.includes(k[name.length]!))))) found.add(i);
    });
  }
  const items = c.items.filter((item) => {
    let hit = false;
    keys.forEach((k, i) => {
      const m =
        itemMatchesKey(item, k) ||
        globs[i]!(item.name) ||
        globs[i]!(item.key) ||
        (item.portKey !== undefined && globs[i]!(item.portKey)) ||
        (item.field !== undefined && globs[i]!(`${item.key}.${item.field}`));
      if (m) {
        hit = true;
        found.add(i);
      }
    });
    return hit;
  });
  return { items, notFound: keys.filter((_, i) => !found.has(i)) };
}

export function tableHeader(): string[] {
  return ['| key | reference | port | Δ abs | Δ rel | status |', '|---|---|---|---|---|---|'];
}

/**
 * The port's spelling of a key worth showing: an alias (F_cell_interpolated for F_cell), not the
 * same key under the port's family (TRACE_PY_PHI for TRACE_C_PHI).
 */
export function aliasShown(item: ComparedItem, c?: Pick<Comparison, 'reference' | 'port'>): string | undefined {
  if (!item.portKey) return undefined;
  if (c && item.portKey.startsWith(c.port.family) && c.reference.family + item.portKey.slice(c.port.family.length) === item.key) return undefined;
  return item.portKey;
}

export function itemLabel(item: ComparedItem, c?: Pick<Comparison, 'reference' | 'port'>): string {
  const alias = aliasShown(item, c);
  return code(alias ? `${item.name} (port: ${alias})` : item.name);
}

export function tableRow(item: ComparedItem, c?: Pick<Comparison, 'reference' | 'port'>): string {
  return (
    '| ' +
    [
      itemLabel(item, c),
      cell(formatValue(item.reference, item.labels)),
      cell(formatValue(item.port, item.labels)),
      formatDelta(item.abs),
      formatDelta(item.rel),
      item.status === 'MATCH' ? 'MATCH' : `**${item.status}**`,
    ].join(' | ') +
    ' |'
  );
}

const NO_PATTERN = 'no known pattern fits (unit or scale factor, sign flip, permutation, carry-over, shift along a traced vector, nan/inf, zeros)';

/** What the numbers say about an item, in words; says so plainly when nothing fits. */
export function diagnosisText(item: Pick<ComparedItem, 'diagnoses' | 'ratio' | 'reference'>, d: Diagnosis[] | undefined = item.diagnoses, kinds = true): string {
  if (d && d.length) return d.map((x) => (kinds ? `${x.kind}: ${x.message}` : x.message)).join('; ');
  const scalar = item.reference !== null && item.reference.length === 1;
  return scalar && item.ratio !== null ? `ratio port/reference ${formatNumber(item.ratio, 6)}: ${NO_PATTERN}` : NO_PATTERN;
}

/** One sentence on an item's difference: the worst component and its delta (port − reference). */
export function describeItem(item: ComparedItem): string {
  const parts: string[] = [`${code(item.name)} (${item.status})`];
  if (item.reference === null || item.port === null) {
    parts.push(item.reference === null ? 'only in the port' : 'only in the reference');
    return parts.join(': ');
  }
  const w = item.worst;
  const multi = item.reference.length > 1;
  const label = w !== null && multi ? `component ${w}${item.labels?.[w] ? ` (${item.labels[w]})` : ''}: ` : '';
  const rv = w !== null ? formatComponent(item.reference[w]!) : formatValue(item.reference);
  const pv = w !== null && w < item.port.length ? formatComponent(item.port[w]!) : formatValue(item.port);
  let text = `${label}reference ${rv}, port ${pv}`;
  if (item.delta !== null) text += `, Δ (port − reference) ${formatDelta(item.delta)}`;
  if (item.rel !== null) text += `, Δ rel ${formatDelta(item.rel)}`;
  if (item.ratio !== null && item.ratio !== 1) text += `, ratio port/reference ${Number(item.ratio.toPrecision(7))}`;
  parts.push(text);
  return parts.join(': ');
}

/** How an item's difference compares with its round-off budget, when it has one. */
export function budgetText(item: ComparedItem): string {
  if (item.ulps === undefined || item.precision === undefined) return '';
  const ulps = item.ulps < 10 ? String(item.ulps) : formatNumber(Math.round(item.ulps), 3);
  return item.roundOff ? `within ${item.precision} round-off (${ulps} ulps)` : `${ulps} ${item.precision} ulps, beyond the round-off budget`;
}

export function describeCheckpoint(cp: CheckpointResult, c: Comparison): string {
  const first = c.firstDivergence;
  switch (cp.relation) {
    case 'not-found':
      return `${code(cp.key)}: not in either trace`;
    case 'no-divergence':
      return `${code(cp.key)}: no divergence anywhere (checkpoint ${cp.status})`;
    case 'at':
      return `${code(cp.key)}: the first divergence is at this checkpoint (${first?.name})`;
    case 'upstream':
      return `${code(cp.key)}: the first divergence (${first?.name}) lies upstream, before the checkpoint (checkpoint ${cp.status})`;
    case 'downstream':
      return `${code(cp.key)}: the first divergence (${first?.name}) lies downstream, after the checkpoint (checkpoint ${cp.status})`;
  }
}

export function totalsLine(c: Comparison): string {
  const t = c.totals;
  return (
    `${t.compared} compared: ${t.MATCH} MATCH, ${t.MINOR} MINOR, ${t.DIVERGENT} DIVERGENT, ${t.CRITICAL} CRITICAL, ${t.MISSING} MISSING` +
    (t.ignored ? ` (${t.ignored} ignored)` : '')
  );
}

/** The verdict in words: what the findings amount to, and the strict verdict when round-off differs from it. */
export function verdictLine(c: Comparison): string {
  const n = c.findings.length;
  const roundOff = c.totals.roundOff;
  const strict = c.verdict !== c.findingVerdict ? ` (strict: ${c.verdict})` : '';
  const parts = [
    n ? `${n} finding${n === 1 ? '' : 's'} beyond round-off` : c.verdict === 'MATCH' ? '' : 'no finding beyond round-off',
    roundOff ? `${roundOff} difference${roundOff === 1 ? '' : 's'} within round-off` : '',
  ].filter(Boolean);
  const head = c.findingVerdict === 'MATCH' && roundOff ? '**MATCH** within round-off' : `**${c.findingVerdict}**`;
  return `Verdict: ${head}${strict} — ${parts.length ? parts.join('; ') + '. ' : ''}${totalsLine(c)}`;
}

export function toleranceLine(c: Comparison): string {
  const t = c.options.tolerance;
  const keys = Object.entries(t.keys);
  const per = keys.length
    ? '; per key: ' + keys.map(([k, s]) => `${code(k)} ${Object.entries(s).map(([n, v]) => `${n} ${formatSetting(v as number)}`).join(', ')}`).join('; ')
    : '';
  return `Tolerance: rel ${formatSetting(t.rel)}, abs ${formatSetting(t.abs)} (MINOR below rel ${formatSetting(t.minor)})${per}`;
}

function sideText(p: Comparison['precision']['reference']): string {
  const base = p.type === 'decimal' ? `printed to ${p.digits} digits` : p.type;
  const share = p.telling ? ` (${p.float32} of ${p.telling} non-integer values are float32 numbers)` : '';
  const keys = Object.entries(p.keys ?? {});
  const per = keys.length ? `; ${keys.slice(0, 6).map(([k, v]) => `${code(k)} ${v}`).join(', ')}${keys.length > 6 ? `, … ${keys.length - 6} more` : ''}` : '';
  return base + share + per;
}

export function precisionLine(c: Comparison): string {
  const p = c.precision;
  return (
    `Precision: reference ${sideText(p.reference)}; port ${sideText(p.port)}. ` +
    `Round-off budget: ${p.budgetUlps} ulps of each value's magnitude in its less precise side's precision; ` +
    `each component is judged against its own magnitude, never below ${p.floorUlps} ulps of the value's.`
  );
}
