// Turns the chunks of a stage's output (as they arrive, split anywhere) into whole lines, per stage
// and stream: a partial line waits for its newline, or for the stage's end. A carriage return
// rewrites its line, as on a terminal, so a progress bar (`10%\r20%\r…`) shows as its last state
// and never grows a line without bound.
export type OutputStream = 'stdout' | 'stderr';

/** Longest partial line kept before it is shown as it is (a stage that never prints a newline). */
const MAX_PARTIAL = 16 * 1024;

function visible(line: string): string {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cr = text.lastIndexOf('\r');
  return cr < 0 ? text : text.slice(cr + 1);
}

export class OutputLines {
  private readonly partial = new Map<string, { stage: string; stream: OutputStream; text: string }>();

  /** The whole lines that `text` completes; the rest waits. */
  add(stage: string, stream: OutputStream, text: string): string[] {
    const key = `${stream}:${stage}`;
    const pending = (this.partial.get(key)?.text ?? '') + text;
    const parts = pending.split('\n');
    let rest = parts.pop()!;
    const lines = parts.map(visible);
    // Only what follows the last carriage return counts; one at the very end may be half a CRLF.
    const cr = rest.lastIndexOf('\r', rest.length - 2);
    if (cr >= 0) rest = rest.slice(cr + 1);
    if (rest.length > MAX_PARTIAL) {
      lines.push(rest);
      rest = '';
    }
    if (rest) this.partial.set(key, { stage, stream, text: rest });
    else this.partial.delete(key);
    return lines;
  }

  /** What is left of a stage's streams once it ended, as lines. */
  end(stage: string): Array<{ stream: OutputStream; line: string }> {
    const out: Array<{ stream: OutputStream; line: string }> = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${stream}:${stage}`;
      const p = this.partial.get(key);
      if (!p) continue;
      this.partial.delete(key);
      const line = visible(p.text);
      if (line) out.push({ stream, line });
    }
    return out;
  }
}
