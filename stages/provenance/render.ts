// Provenance as Markdown: the block summarize appends to the summary, and the lines write-notes adds
// to its section. Pure text building: no files, no clock, no git (gather.ts reads them).
import type { GitState } from './git.js';
import type { Provenance } from './gather.js';

/** The options a comparison records (comparison.schema.json `options`): the part shown here. */
export interface CompareOptions {
  aliases?: Record<string, string>;
  ignore?: string[];
  match_by?: string | Record<string, string> | null;
}

/** Inline code that survives backticks in the text (CommonMark: a longer backtick fence). */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\r?\n/g, ' ')}${pad}${fence}`;
}

function codeBlock(lines: string[]): string[] {
  const longest = Math.max(0, ...lines.flatMap((l) => l.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, ...lines, fence];
}

export function gitLine(g: GitState): string {
  if (g.sha === null && g.branch === null && g.dirty === null) return 'not a git repository';
  const where = g.branch ? ` on ${g.branch}` : '';
  if (g.sha === null) return `no commit yet${where}`;
  let state = '';
  if (g.dirty === false) state = ', clean';
  else if (g.dirty) {
    const shown = g.changed.slice(0, 5).map(code).join(', ');
    state = `, dirty: uncommitted changes in ${shown}${g.changed.length > 5 ? ` and ${g.changed.length - 5} more` : ''}`;
  }
  return `${code(g.sha)}${where}${state}`;
}

function paramValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function paramsLine(params: Record<string, unknown>): string {
  const names = Object.keys(params);
  return names.length ? names.map((n) => code(`${n}=${paramValue(params[n])}`)).join(' · ') : 'none';
}

export function optionsLine(o: CompareOptions): string {
  const aliases = Object.entries(o.aliases ?? {});
  const ignore = o.ignore ?? [];
  const m = o.match_by;
  const matchBy = m === null || m === undefined ? 'order of appearance' : typeof m === 'string' ? code(m) : Object.entries(m).map(([k, f]) => code(`${k}: ${f}`)).join(', ');
  return [
    `aliases ${aliases.length ? aliases.map(([port, ref]) => code(`${port}=${ref}`)).join(', ') : 'none'}`,
    `ignored ${ignore.length ? ignore.map(code).join(', ') : 'none'}`,
    `records matched by ${matchBy}`,
  ].join('; ');
}

function toolsLine(p: Provenance): string {
  return p.tools.map((t) => code(`${t.name} ${t.version}`)).join(' · ');
}

function sourceLine(p: Provenance, what: string): string {
  return p.snapshot
    ? `snapshot ${code(p.snapshot.path)} (sha256 ${p.snapshot.sha256.slice(0, 12)})`
    : `the pipeline and git, read when this ${what} was written (no snapshot given)`;
}

function commandLines(p: Provenance): string[] {
  return codeBlock(p.commands.flatMap((c) => [`# ${c.name}`, c.command]));
}

/**
 * The summary's closing section. Its date is HEAD's commit date, not the clock: identical inputs
 * give identical bytes, so a re-run summary does not re-run what reads it (the runner's early
 * cutoff); the time of each run is in notes.md.
 */
export function renderSummaryProvenance(p: Provenance, options: CompareOptions): string {
  const out = [
    '## Provenance',
    '',
    `- Git: ${gitLine(p.git)}`,
    `- Date: ${p.git.date ? `${p.git.date} (commit date of HEAD)` : 'none (no commit)'}`,
    `- Tools: ${toolsLine(p)}`,
    `- Params: ${paramsLine(p.params)}`,
    `- Comparison options: ${optionsLine(options)}`,
    `- From: ${sourceLine(p, 'summary')}`,
    '',
  ];
  if (p.commands.length) out.push('<details><summary>Command lines</summary>', '', ...commandLines(p), '', '</details>', '');
  return out.join('\n');
}

/** What write-notes adds to a section: params, comparison options, tools, source and command lines. */
export function renderNotesProvenance(p: Provenance, options: CompareOptions): string {
  const out = [
    'Made with:',
    '',
    `- Params: ${paramsLine(p.params)}`,
    `- Comparison options: ${optionsLine(options)}`,
    `- Tools: ${toolsLine(p)}`,
    `- From: ${sourceLine(p, 'section')}`,
    '',
  ];
  if (p.commands.length) out.push('Commands:', '', ...commandLines(p), '');
  return out.join('\n');
}
