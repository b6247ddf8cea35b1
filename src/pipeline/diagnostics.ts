// Configuration and input errors as values with source locations. Rendering turns them into text
// with the offending line and a caret; writing that text to a terminal is the CLI's business.

import { redactText } from '../stage-api/redact.js';

export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the error has no position in the file (e.g. a missing file). */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  hint?: string;
  /** Length of the underlined span, at least 1. */
  length?: number;
  /** A warning does not stop the pipeline from loading (`evidence validate` prints it). */
  severity?: 'warning';
}

/** The pseudo-file of errors in the command line's arguments. */
export const COMMAND_LINE = 'command line';

export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n'));
    this.name = 'DiagnosticError';
  }
}

/** Renders diagnostics as `file:line:col: error: message`, the source line and a caret under the span. */
export function renderDiagnostics(diagnostics: Diagnostic[], sources: Map<string, string>): string {
  const out: string[] = [];
  // Split once per file: a pipeline with thousands of problems must not split its text for each.
  const linesOf = new Map<string, string[]>();
  for (const d of diagnostics) {
    // An error with no position (a -p naming no param, a missing file) gets no made-up `:0:0`.
    const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}: ` : d.file === COMMAND_LINE ? '' : `${d.file}: `;
    out.push(`${where}${d.severity ?? 'error'}: ${d.message}`);
    const text = sources.get(d.file);
    if (text !== undefined && d.line > 0) {
      let lines = linesOf.get(d.file);
      if (!lines) linesOf.set(d.file, (lines = text.split(/\r?\n/)));
      // The line is shown as redaction leaves it: a refused URL with a password in it must not
      // carry the password into a terminal or a CI log.
      const src = redactText(lines[d.line - 1] ?? '');
      const gutter = String(d.line).padStart(4);
      out.push(`${gutter} | ${src}`);
      const span = Math.max(1, Math.min(d.length ?? 1, Math.max(1, src.length - d.column + 1)));
      out.push(`${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.column - 1))}${'^'.repeat(span)}`);
    }
    if (d.hint) out.push(`  hint: ${d.hint}`);
  }
  return out.join('\n');
}

/** Damerau-free Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
