// `evidence parse` and `evidence compare`: the parse-trace and compare-traces stages as one-off
// commands. Argument checks live here; the work and the rendering live with the stages.
import type { Invocation } from './main.js';
import { UsageError } from './project.js';

function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of list ?? []) {
    const i = raw.indexOf('=');
    if (i <= 0 || i === raw.length - 1) throw new UsageError(`${flag} expects PORT_KEY=REF_KEY, got '${raw}'`);
    out[raw.slice(0, i)] = raw.slice(i + 1);
  }
  return out;
}

export async function traceVerb(inv: Invocation): Promise<number> {
  const v = inv.values;
  if (inv.verb === 'parse') {
    if (inv.positionals.length !== 1) throw new UsageError('parse takes exactly one LOG file');
    const { parseCommand } = await import('../../stages/trace/parse-command.js');
    return parseCommand({
      log: inv.positionals[0]!,
      prefixes: (v.prefix as string[] | undefined) ?? [],
      require: (v.require as string[] | undefined) ?? [],
      json: Boolean(v.json),
      out: process.stdout,
      err: process.stderr,
    });
  }
  if (inv.positionals.length !== 2) throw new UsageError('compare takes two files: REF PORT');
  let tol: number | undefined;
  if (v.tol !== undefined) {
    tol = Number(v.tol);
    if (!Number.isFinite(tol) || tol < 0) throw new UsageError(`--tol expects a non-negative number, got '${v.tol}'`);
  }
  const { compareCommand } = await import('../../stages/trace/compare-command.js');
  return compareCommand({
    ref: inv.positionals[0]!,
    port: inv.positionals[1]!,
    tol,
    aliases: pairs(v.alias as string[] | undefined, '--alias'),
    ignore: (v.ignore as string[] | undefined) ?? [],
    matchBy: v['match-by'] as string | undefined,
    json: Boolean(v.json),
    prefixRef: v['prefix-ref'] as string[] | undefined,
    prefixPort: v['prefix-port'] as string[] | undefined,
    out: process.stdout,
  });
}
