// `--json`: every run event as one JSON line, for tools that consume the run programmatically.
import type { RunEvent } from '../run/events.js';

export function jsonLinesReporter(out: NodeJS.WritableStream): (e: RunEvent) => void {
  return (e) => out.write(JSON.stringify(e) + '\n');
}
