// Rendered diagnostics as a person should read them: an error with no position in any file (a
// `-p` override naming no param, a missing pipeline file) carries no `file:0:0:` location, since
// that would point at a place that does not exist. The located ones are left exactly as rendered.
import type { Diagnostic } from '../pipeline/diagnostics.js';

/** The pseudo-file the loader names for errors in the command line's arguments. */
const COMMAND_LINE = 'command line';

export function withoutFakeLocations(text: string, diagnostics: readonly Diagnostic[]): string {
  let out = text;
  for (const d of diagnostics) {
    if (d.line > 0) continue;
    const rendered = `${d.file}:${d.line}:${d.column}: error: ${d.message}`;
    out = out.replace(rendered, d.file === COMMAND_LINE ? `error: ${d.message}` : `${d.file}: error: ${d.message}`);
  }
  return out;
}
