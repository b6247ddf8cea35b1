// The dated section write-notes appends to notes.md for one comparison: git state, the verdict and
// headline finding, the strict first divergence against the checkpoints, and the key deltas of the
// items beyond round-off. Pure text; the caller passes the date and the git state.
import { itemAt, roundOffAt } from './compact.js';
import type { Comparison } from './comparison.js';
import { headlineText } from './summary-findings.js';
import { code, describeCheckpoint, describeItem, diagnosisText, tableHeader, tableRow, toleranceLine, verdictLine } from './summary-text.js';

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
  out.push(`- ${verdictLine(c)}`);
  out.push(`- ${toleranceLine(c)}`);
  if (c.findings.length) {
    out.push(`- Headline finding: ${headlineText(c)}`);
    if (c.findings.length > 1) out.push(`- Later findings: ${c.findings.slice(1).map((f) => code(f.name)).join(', ')}`);
  }
  const first = c.firstDivergence ? itemAt(c, c.firstDivergence.index) : undefined;
  out.push(first ? `- First divergence: ${describeItem(first)}; ${diagnosisText(first)}` : '- First divergence: none');
  for (const cp of c.checkpoints) out.push(`- Checkpoint ${describeCheckpoint(cp, c)}`);
  out.push('');
  if (n.commands.length) {
    out.push('Commands:', '', '```');
    for (const cmd of n.commands) out.push(`# ${cmd.name}`, cmd.command);
    out.push('```', '');
  }
  const divergent = c.divergences.filter((i) => !roundOffAt(c, i)).map((i) => itemAt(c, i)!);
  if (divergent.length) {
    const max = n.maxItems ?? 50;
    out.push('Key deltas (items beyond round-off):', '', ...tableHeader());
    for (const item of divergent.slice(0, max)) out.push(tableRow(item, c));
    if (divergent.length > max) out.push(`| … ${divergent.length - max} more | | | | | |`);
    out.push('');
  }
  if (n.digest) out.push(`<!-- evidence:write-notes ${n.digest} -->`, '');
  return out.join('\n');
}
