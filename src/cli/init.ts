// `evidence init [--template NAME] [--force]`: writes a starting point into the current folder (a
// pipeline.yaml, a reference program and its port with their trace helpers) that `evidence run`
// runs at once. It asks nothing, on a terminal or not: the template is --template's or the
// default, so the same command line always writes the same files. Nothing that exists is
// overwritten without --force; a refusal names every such file and writes nothing (exit 2).
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';
import { DEFAULT_TEMPLATE, loadTemplate, templateNames } from '../init/templates.js';
import { occupiedPaths, planInit, writeInit, type InitPlan, type Occupied } from '../init/write.js';

function listing(): string {
  const templates = templateNames().map((n) => loadTemplate(n)!);
  const width = Math.max(...templates.map((t) => t.name.length));
  return templates.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}${t.name === DEFAULT_TEMPLATE ? ' (the default)' : ''}\n`).join('');
}

function refusal(occupied: Occupied[]): string {
  const why: Record<Occupied['kind'], string> = { file: '', folder: ' (a folder)', 'file-in-the-way': ' (a file where a folder is needed)' };
  const lines = occupied.map((o) => `  ${o.path}${why[o.kind]}\n`).join('');
  const advice = occupied.some((o) => o.kind !== 'file')
    ? 'Move these out of the way (--force overwrites files, never folders), or run evidence init in another folder (-C DIR).'
    : 'Run evidence init --force to overwrite them (.gitignore is only ever appended to), or run it in another folder (-C DIR).';
  return `evidence init: nothing was written: ${occupied.length === 1 ? 'this path is' : 'these paths are'} taken already:\n${lines}${advice}\n`;
}

function report(plan: InitPlan, overwritten: Set<string>): string {
  const rows = plan.files.map((f) => [f.path + (overwritten.has(f.path) ? ' (overwritten)' : ''), f.about]);
  if (plan.gitignore.add.length) rows.push(['.gitignore', `${plan.gitignore.current === undefined ? 'written' : 'appended'}: ${plan.gitignore.add.join(', ')}`]);
  const width = Math.max(...rows.map(([p]) => p!.length));
  const others = templateNames().filter((n) => n !== plan.template.name);
  return (
    `Wrote the ${plan.template.name} template (${plan.template.summary}) into ${plan.dir}:\n` +
    rows.map(([p, about]) => `  ${p!.padEnd(width)}  ${about}\n`).join('') +
    `\nNext:\n` +
    plan.template.next.map((line) => `  ${line}\n`).join('') +
    (others.length ? `\nOther templates: ${others.join(', ')} (evidence init --list)\n` : '')
  );
}

export async function initVerb(inv: Invocation): Promise<number> {
  const v = inv.values;
  if (inv.positionals.length) throw new UsageError(`takes no arguments (got '${inv.positionals[0]}'); to write into another folder use -C DIR`);
  if (v.list) {
    process.stdout.write(`Templates (evidence init --template NAME):\n${listing()}`);
    return EXIT.ok;
  }
  const name = (v.template as string | undefined) ?? DEFAULT_TEMPLATE;
  const template = loadTemplate(name);
  if (!template) throw new UsageError(`no template '${name}'. Templates:\n${listing()}`);

  const plan = planInit(process.cwd(), template);
  const occupied = occupiedPaths(plan);
  if (occupied.length && (!v.force || occupied.some((o) => o.kind !== 'file'))) {
    process.stderr.write(refusal(occupied));
    return EXIT.usage;
  }
  writeInit(plan);
  process.stdout.write(report(plan, new Set(occupied.map((o) => o.path))));
  return EXIT.ok;
}
