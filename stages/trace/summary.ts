// Turns a comparison (./compare.ts) into Markdown for people: the summary table with the first
// divergence and every divergent key (summarize, the one-off compare command), and the dated
// section appended to notes.md (write-notes). Pure text building: no files, no clock (the caller
// passes the date), no git.
import picomatch from 'picomatch';
import type { Comparison, ComparedItem, CheckpointResult } from './compare.js';
import { itemMatchesKey } from './compare.js';
import type { Component, Diagnosis } from './diagnose.js';

export interface SummaryOptions {
  /** Keys (item names, group names, `GROUP.field`, or globs) for the table; default every item. */
  keys?: string[];
  title?: string;
}

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

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

/** The items the table shows, in the comparison's order. */
export function selectItems(c: Comparison, keys: string[] | undefined): { items: ComparedItem[]; notFound: string[] } {
  if (!keys || keys.length === 0) return { items: c.items, notFound: [] };
  const globs = keys.map((k) => picomatch(k, { dot: true }));
  const found = new Set<number>();
  const items = c.items.filter((item) => {
    let hit = false;
    keys.forEach((k, i) => {
      const m =
        itemMatchesKey(item, k) ||
        globs[i](item.name) ||
        globs[i](item.key) ||
        (item.portKey !== undefined && globs[i](item.portKey)) ||
        (item.field !== undefined && globs[i](`${item.key}.${item.field}`));
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
function aliasShown(item: ComparedItem, c?: Pick<Comparison, 'reference' | 'port'>): string | undefined {
  if (!item.portKey) return undefined;
  if (c && item.portKey.startsWith(c.port.family) && c.reference.family + item.portKey.slice(c.port.family.length) === item.key) return undefined;
  return item.portKey;
}

export function tableRow(item: ComparedItem, c?: Pick<Comparison, 'reference' | 'port'>): string {
  const alias = aliasShown(item, c);
  return (
    '| ' +
    [
      code(alias ? `${item.name} (port: ${alias})` : item.name),
      cell(formatValue(item.reference, item.labels)),
      cell(formatValue(item.port, item.labels)),
      formatDelta(item.abs),
      formatDelta(item.rel),
      item.status === 'MATCH' ? 'MATCH' : `**${item.status}**`,
    ].join(' | ') +
    ' |'
  );
}

const NO_PATTERN = 'none of the known patterns (unit or scale factor, sign flip, permutation, float32, nan/inf, zeros) fits; see the deltas';

function diagnosisText(d: Diagnosis[] | undefined): string {
  if (!d || d.length === 0) return NO_PATTERN;
  return d.map((x) => `${x.kind}: ${x.message}`).join('; ');
}

/** A tolerance as written in a config: 1e-6 rather than 0.000001. */
function formatSetting(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
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
  const rv = w !== null ? formatComponent(item.reference[w]) : formatValue(item.reference);
  const pv = w !== null && w < item.port.length ? formatComponent(item.port[w]) : formatValue(item.port);
  let text = `${label}reference ${rv}, port ${pv}`;
  if (item.delta !== null) text += `, Δ (port − reference) ${formatDelta(item.delta)}`;
  if (item.rel !== null) text += `, Δ rel ${formatDelta(item.rel)}`;
  if (item.ratio !== null && item.ratio !== 1) text += `, ratio port/reference ${Number(item.ratio.toPrecision(7))}`;
  parts.push(text);
  return parts.join(': ');
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

function totalsLine(c: Comparison): string {
  const t = c.totals;
  return (
    `${t.compared} compared: ${t.MATCH} MATCH, ${t.MINOR} MINOR, ${t.DIVERGENT} DIVERGENT, ${t.CRITICAL} CRITICAL, ${t.MISSING} MISSING` +
    (t.ignored ? ` (${t.ignored} ignored)` : '')
  );
}

function toleranceLine(c: Comparison): string {
  const t = c.options.tolerance;
  const keys = Object.entries(t.keys);
  const per = keys.length
    ? '; per key: ' + keys.map(([k, s]) => `${code(k)} ${Object.entries(s).map(([n, v]) => `${n} ${formatSetting(v as number)}`).join(', ')}`).join('; ')
    : '';
  return `Tolerance: rel ${formatSetting(t.rel)}, abs ${formatSetting(t.abs)} (MINOR below rel ${formatSetting(t.minor)})${per}`;
}

/** The summary document: header, table of the selected keys, first divergence, all divergent keys. */
export function renderSummary(c: Comparison, options: SummaryOptions = {}): string {
  const out: string[] = [];
  out.push(`# ${options.title ?? 'Trace comparison'}`, '');
  out.push(
    `Reference: ${code(c.reference.source)} (${c.reference.family}, ${c.reference.records} records) · ` +
      `Port: ${code(c.port.source)} (${c.port.family}, ${c.port.records} records)`,
    '',
  );
  out.push(toleranceLine(c), '');
  out.push(`Verdict: **${c.verdict}** — ${totalsLine(c)}`, '');

  const { items, notFound } = selectItems(c, options.keys);
  out.push(...tableHeader());
  for (const item of items) out.push(tableRow(item, c));
  for (const k of notFound) out.push(`| ${code(k)} | — | — | — | — | not in either trace |`);
  out.push('');

  const divergent = c.divergences.map((i) => c.items[i]);
  if (divergent.length === 0) {
    if (c.totals.MINOR === 0 && c.totals.MISSING === 0) out.push('All keys match.', '');
    else {
      const extra = [
        c.totals.MINOR ? `${c.totals.MINOR} differ slightly (MINOR)` : '',
        c.totals.MISSING ? `${c.totals.MISSING} are in one trace only (MISSING)` : '',
      ]
        .filter(Boolean)
        .join(', ');
      out.push(`All keys match: no divergence (${extra}).`, '');
    }
  }

  out.push('## First divergence', '');
  const first = c.firstDivergence ? c.items[c.firstDivergence.index] : undefined;
  if (!first) out.push('None: every compared value is within tolerance.', '');
  else {
    out.push(describeItem(first) + '.', '', `Diagnosis: ${diagnosisText(first.diagnoses)}.`, '');
    if (first.deltas && first.deltas.length > 1) {
      out.push(`Δ per component (port − reference): ${first.deltas.map((d) => formatDelta(d)).join(', ')}.`, '');
    }
  }
  if (c.checkpoints.length) {
    out.push('Checkpoints:', '');
    for (const cp of c.checkpoints) out.push(`- ${describeCheckpoint(cp, c)}`);
    out.push('');
  }
  if (c.firstNonMatch && (!c.firstDivergence || c.firstNonMatch.index < c.firstDivergence.index)) {
    out.push(`First item that is not MATCH: ${code(c.firstNonMatch.name)} (${c.firstNonMatch.status}).`, '');
  }

  out.push('## All divergent keys', '');
  if (divergent.length === 0) out.push('None.', '');
  else {
    for (const item of divergent) {
      const d = item.diagnoses?.length ? ` Diagnosis: ${diagnosisText(item.diagnoses)}.` : '';
      out.push(`- ${describeItem(item)}.${d}`);
    }
    out.push('');
  }
  return out.join('\n');
}

export interface NotesContext {
  /** ISO date-time in UTC, e.g. 2025-11-28T03:45:12.000Z. */
  date: string;
  title?: string;
  /** Stage name → command line. */
  commands: Array<{ name: string; command: string }>;
  git: { sha: string | null; branch: string | null; dirty: boolean | null } | null;
  /** Most divergent items listed; the rest are counted. */
  maxItems?: number;
  /** A digest of the inputs, written as an HTML comment so repeated sections can be recognised. */
  digest?: string;
}

/** One dated notes section (starts with '## ', ends with a newline). */
export function renderNotesSection(c: Comparison, n: NotesContext): string {
  const out: string[] = [];
  out.push(`## ${n.date} — ${n.title ?? `${c.reference.source} vs ${c.port.source}`}`, '');
  const g = n.git;
  if (!g || (g.sha === null && g.branch === null && g.dirty === null)) out.push('- Git: not a git repository');
  else if (g.sha === null) out.push(`- Git: no commit yet${g.branch ? ` (branch ${g.branch})` : ''}`);
  else out.push(`- Git: ${code(g.sha)}${g.dirty ? ' (dirty: uncommitted changes)' : g.dirty === false ? ' (clean)' : ''}${g.branch ? ` on ${g.branch}` : ''}`);
  out.push(`- Verdict: **${c.verdict}** — ${totalsLine(c)}`);
  out.push(`- ${toleranceLine(c)}`);
  const first = c.firstDivergence ? c.items[c.firstDivergence.index] : undefined;
  out.push(first ? `- First divergence: ${describeItem(first)}; ${diagnosisText(first.diagnoses)}` : '- First divergence: none');
  for (const cp of c.checkpoints) out.push(`- Checkpoint ${describeCheckpoint(cp, c)}`);
  out.push('');
  if (n.commands.length) {
    out.push('Commands:', '', '```');
    for (const cmd of n.commands) out.push(`# ${cmd.name}`, cmd.command);
    out.push('```', '');
  }
  const divergent = c.divergences.map((i) => c.items[i]);
  if (divergent.length) {
    const max = n.maxItems ?? 50;
    out.push('Key deltas (divergent items):', '', ...tableHeader());
    for (const item of divergent.slice(0, max)) out.push(tableRow(item, c));
    if (divergent.length > max) out.push(`| … ${divergent.length - max} more | | | | | |`);
    out.push('');
  }
  if (n.digest) out.push(`<!-- evidence:write-notes ${n.digest} -->`, '');
  return out.join('\n');
}
