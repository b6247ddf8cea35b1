// Terminal decisions in one place: colour only on a TTY, NO_COLOR disables, FORCE_COLOR enables;
// redrawing in place only on a TTY that is not TERM=dumb.
export interface Style {
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

export function styleFor(stream: NodeJS.WriteStream | NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env, ci = false): Style {
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const enabled = force || (!ci && env.NO_COLOR === undefined && Boolean((stream as NodeJS.WriteStream).isTTY));
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    cyan: wrap(36, 39),
  };
}

/**
 * Whether the run may redraw a live status area: a terminal that understands cursor movement
 * (not TERM=dumb), and not CI mode. NO_COLOR takes the colour out of it, not the area.
 */
export function canRedraw(stream: NodeJS.WriteStream | NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env, ci = false): boolean {
  return !ci && Boolean((stream as NodeJS.WriteStream).isTTY) && env.TERM !== 'dumb';
}
