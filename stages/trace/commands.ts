// `evidence parse` and `evidence compare` as catalog commands: checks the parsed arguments and
// hands them to the parse and compare commands, which do the work and the rendering.
import { CommandUsageError, type CommandArgs } from '../../src/stage-api/index.js';

function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of list ?? []) {
    const i = raw.indexOf('=');
    if (i <= 0 || i === raw.length - 1) throw new CommandUsageError(`${flag} expects PORT_KEY=REF_KEY, got '${raw}'`);
    out[raw.slice(0, i)] = raw.slice(i + 1);
  }
  return out;
}

function nonNegative(raw: unknown, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(x) || x < 0) throw new CommandUsageError(`${flag} expects a non-negative number, got '${String(raw)}'`);
  return x;
}

export async function parseMain(a: CommandArgs): Promise<number> {
  const v = a.values;
  if (a.positionals.length !== 1) throw new CommandUsageError('parse takes exactly one LOG file');
  const { parseCommand } = await import('./parse-command.js');
  return parseCommand({
    log: a.positionals[0]!,
    prefixes: (v.prefix as string[] | undefined) ?? [],
    require: (v.require as string[] | undefined) ?? [],
    json: Boolean(v.json),
    out: a.out,
    err: a.err,
  });
}

export async function compareMain(a: CommandArgs): Promise<number> {
  const v = a.values;
  if (a.positionals.length !== 2) throw new CommandUsageError('compare takes two files: REF PORT');
  const tol = nonNegative(v.tol, '--tol');
  const abs = nonNegative(v.abs, '--abs');
  const failOn = v['fail-on'];
  if (failOn !== undefined && failOn !== 'divergent' && failOn !== 'critical' && failOn !== 'never') {
    throw new CommandUsageError(`--fail-on expects divergent, critical or never, got '${String(failOn)}'`);
  }
  const { compareCommand } = await import('./compare-command.js');
  return compareCommand({
    ref: a.positionals[0]!,
    port: a.positionals[1]!,
    tol,
    abs,
    ...(failOn !== undefined ? { failOn } : {}),
    aliases: pairs(v.alias as string[] | undefined, '--alias'),
    ignore: (v.ignore as string[] | undefined) ?? [],
    matchBy: v['match-by'] as string | undefined,
    json: Boolean(v.json),
    prefixRef: v['prefix-ref'] as string[] | undefined,
    prefixPort: v['prefix-port'] as string[] | undefined,
    out: a.out,
    err: a.err,
  });
}
