// A minimal terminal: replays what a program wrote to a TTY (text, \r, \n, cursor up, erase to the
// end of the screen or line; colours ignored) and gives the lines left on the screen, so a test
// can check what a person sees at the end, not the bytes on the way there.
export function screenOf(bytes: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = lines[row]!;
    lines[row] = line.slice(0, col).padEnd(col, ' ') + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === '\x1b' && bytes[i + 1] === '[') {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(bytes.slice(i));
      if (!m) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(bytes.slice(i, i + 8))}`);
      const n = m[1] ? Number(m[1].split(';')[0]) : 0;
      switch (m[2]) {
        case 'A':
          row = Math.max(0, row - (n || 1));
          break;
        case 'J':
          lines[row] = lines[row]!.slice(0, col);
          lines.length = row + 1;
          break;
        case 'K':
          lines[row] = lines[row]!.slice(0, col);
          break;
        case 'm':
          break;
        default:
          throw new Error(`escape ${m[0]} not understood by the test screen`);
      }
      i += m[0].length - 1;
    } else if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      if (row === lines.length) lines.push('');
    } else put(ch);
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
