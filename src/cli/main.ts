#!/usr/bin/env node
// The `evidence` command: parses arguments and dispatches to a verb. Verbs are thin; the work is
// in src/pipeline, src/graph, src/cache, src/run and src/report. Exit codes:
// 0 success, 1 a stage failed, 2 invalid pipeline or usage, 4 a gate (fail_on) was met, 130 interrupted.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';
import { helpFor, VERBS } from './help.js';
import { EXIT } from './exit-codes.js';
import { builtinCatalog } from './catalog.js';
import type { Invocation, Values } from './invocation.js';
import { isCommandUsageError, type StageCatalog } from '../stage-api/index.js';
import { describeLocation, locatePipeline } from './pipeline-location.js';
import { describeArgError } from './arg-errors.js';
import { didYouMean } from '../pipeline/diagnostics.js';

export type { Invocation } from './invocation.js';

// -C DIR: run as if started in DIR (as git -C and make -C), before the verb or among its options.
const DIRECTORY = { directory: { type: 'string', short: 'C', multiple: true } } as const;

// --file has no default: without it, the pipeline file is looked for upward (pipeline-location.ts).
const COMMON = {
  file: { type: 'string', short: 'f' },
  help: { type: 'boolean', short: 'h' },
  ...DIRECTORY,
} as const;

const OPTIONS: Record<string, ParseArgsConfig['options']> = {
  run: {
    ...COMMON,
    jobs: { type: 'string', short: 'j' },
    'keep-going': { type: 'boolean', short: 'k' },
    'dry-run': { type: 'boolean', short: 'n' },
    force: { type: 'string', multiple: true },
    param: { type: 'string', short: 'p', multiple: true },
    json: { type: 'boolean' },
    ci: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    grace: { type: 'string' },
    wait: { type: 'boolean' },
    shard: { type: 'string' },
  },
  status: { ...COMMON, json: { type: 'boolean' }, check: { type: 'boolean' }, param: { type: 'string', short: 'p', multiple: true } },
  show: { ...COMMON, json: { type: 'boolean' }, param: { type: 'string', short: 'p', multiple: true } },
  dag: { ...COMMON, mermaid: { type: 'boolean' }, dot: { type: 'boolean' } },
  validate: { ...COMMON, param: { type: 'string', short: 'p', multiple: true } },
  watch: {
    ...COMMON,
    jobs: { type: 'string', short: 'j' },
    'keep-going': { type: 'boolean', short: 'k' },
    param: { type: 'string', short: 'p', multiple: true },
    json: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    debounce: { type: 'string' },
    grace: { type: 'string' },
    serve: { type: 'boolean' },
    'serve-stage': { type: 'string', multiple: true },
    port: { type: 'string' },
    host: { type: 'string' },
  },
  history: { ...COMMON, json: { type: 'boolean' } },
  gc: { ...COMMON, 'keep-last': { type: 'string' }, 'max-size': { type: 'string' }, 'dry-run': { type: 'boolean', short: 'n' }, wait: { type: 'boolean' }, json: { type: 'boolean' } },
  restore: { ...COMMON, run: { type: 'string' } },
  verify: { ...COMMON, json: { type: 'boolean' }, root: { type: 'string' } },
  push: { ...COMMON },
  pull: { ...COMMON },
  init: { help: { type: 'boolean', short: 'h' }, template: { type: 'string', short: 't' }, force: { type: 'boolean' }, list: { type: 'boolean' }, ...DIRECTORY },
};

/** The verbs that work on a pipeline: those that take --file. */
function usesPipeline(verb: string): boolean {
  return Boolean(OPTIONS[verb] && 'file' in OPTIONS[verb]!);
}

/** `evidence -C DIR [-C DIR2] VERB ...`: the folders named before the verb, and the rest. */
function leadingDirectories(argv: string[]): { dirs: string[]; rest: string[] } {
  const dirs: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-C' || a === '--directory') {
      if (i + 1 >= argv.length) throw new UsageError(`${a} expects a folder`);
      dirs.push(argv[++i]!);
    } else if (a.startsWith('--directory=')) dirs.push(a.slice('--directory='.length));
    else if (a.startsWith('-C') && a.length > 2) dirs.push(a.slice(2));
    else break;
  }
  return { dirs, rest: argv.slice(i) };
}

/** `--force` takes an optional stage name; node's parser has no optional values, so normalise first. */
function normaliseForce(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--force') {
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        out.push(`--force=${next}`);
        i++;
      } else out.push('--force=*');
    } else out.push(a);
  }
  return out;
}

export function parseInvocation(argv: string[], catalog: StageCatalog): Invocation | { help: string; topic?: string } | { version: true } {
  const leading = leadingDirectories(argv);
  const [verb, ...rest] = leading.rest;
  const commands = catalog.commands;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    const topic = verb === 'help' && rest[0] ? helpFor(rest[0], commands) : undefined;
    return { help: topic ?? helpFor('main', commands)! };
  }
  if (verb === '--version' || verb === '-V' || verb === 'version') return { version: true };
  const command = commands.find((c) => c.name === verb);
  if (!VERBS.includes(verb) && !command) {
    const all = [...VERBS.slice(0, 4), ...commands.map((c) => c.name), ...VERBS.slice(4)];
    const near = didYouMean(verb, all);
    throw new UsageError(`unknown command '${verb}'${near ? `; did you mean '${near}'?` : '.'} Commands: ${all.join(', ')}. See evidence --help.`);
  }
  const options = command ? { help: { type: 'boolean', short: 'h' } as const, ...DIRECTORY, ...command.options } : OPTIONS[verb]!;
  let parsed;
  try {
    parsed = parseArgs({ args: verb === 'run' ? normaliseForce(rest) : rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeArgError(verb, err, rest, options) ?? (err as Error).message, verb);
  }
  if ((parsed.values as Values).help) return { help: helpFor(verb, commands)!, topic: verb };
  const values = parsed.values as Values;
  const dirs = [...leading.dirs, ...((values.directory as string[] | undefined) ?? [])];
  if (dirs.length) values.directory = dirs;
  return { verb, values, positionals: parsed.positionals };
}

/**
 * Applies -C (each folder relative to the one before, as git does), then, for a verb that works on
 * a pipeline, settles `values.file`: --file as given, or pipeline.yaml found upward.
 */
function settleProject(inv: Invocation): void {
  for (const dir of (inv.values.directory as string[] | undefined) ?? []) {
    try {
      process.chdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`-C ${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : (err as Error).message}`);
    }
  }
  if (!usesPipeline(inv.verb)) return;
  // verify checks a bundle that may have come without its pipeline: then the default manifest.
  if (inv.verb === 'verify' && inv.values.file === undefined && inv.positionals.length) return;
  let at;
  try {
    at = locatePipeline(inv.values.file as string | undefined);
  } catch (err) {
    if (inv.verb !== 'verify' || !(err instanceof UsageError)) throw err;
    inv.values.file = 'pipeline.yaml';
    return;
  }
  inv.values.file = at.file;
  if (inv.values.verbose) process.stderr.write(`evidence: ${describeLocation(at)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const catalog = builtinCatalog();
  let inv;
  try {
    inv = parseInvocation(argv, catalog);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`evidence${err.verb ? ` ${err.verb}` : ''}: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if ('help' in inv) {
    process.stdout.write(inv.help);
    if (inv.topic === 'run' || inv.topic === 'status' || inv.topic === 'watch') process.stdout.write(await paramsHelp(catalog));
    return EXIT.ok;
  }
  if ('version' in inv) {
    const { TOOL_VERSION } = await import('../version.js');
    process.stdout.write(`evidence ${TOOL_VERSION}\n`);
    return EXIT.ok;
  }
  try {
    settleProject(inv);
    const command = catalog.commands.find((c) => c.name === inv.verb);
    if (command) return await command.run({ values: inv.values, positionals: inv.positionals, out: process.stdout, err: process.stderr });
    const verbs = await import('./verbs.js');
    return await verbs.dispatch(inv, catalog);
  } catch (err) {
    if (err instanceof UsageError || isCommandUsageError(err)) {
      process.stderr.write(`evidence ${inv.verb}: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

const STORAGE: Record<string, string> = {
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** A write the machine refused (read-only checkout, full disk): said plainly, not as a crash. */
function storageError(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const why = e?.code ? STORAGE[e.code] : undefined;
  if (!why) return undefined;
  return `cannot write${e!.path ? ` ${e!.path}` : ''}: ${why} (${e!.code}). Nothing that was written before is lost; free space or make the project writable and run again.`;
}

// `evidence status | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    const storage = storageError(err);
    if (storage) {
      process.stderr.write(`evidence: ${storage}\n`);
      process.exitCode = EXIT.failed;
      return;
    }
    process.stderr.write(`evidence: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);

/**
 * For `run --help` in a project: the params of its pipeline.yaml that declare choices, so that the
 * values -p may give are one command away. Says nothing when there is no valid pipeline here.
 */
async function paramsHelp(catalog: StageCatalog): Promise<string> {
  try {
    const at = locatePipeline(undefined);
    const { loadPipelineCached } = await import('../pipeline/cached-load.js');
    const { paramText } = await import('../pipeline/param-specs.js');
    const loaded = await loadPipelineCached(at.file, [], catalog);
    const p = loaded.pipeline;
    if (!p) return '';
    const lines = Object.entries(p.params).map(([name, value]) => {
      const spec = p.paramSpecs?.[name];
      const choices = spec?.choices ? ` (choices: ${spec.choices.map(paramText).join(', ')})` : '';
      return `  ${name} = ${paramText(value)}${choices}${spec?.description ? `: ${spec.description}` : ''}`;
    });
    return lines.length ? `\nParams of ${at.file} (-p NAME=VALUE):\n${lines.join('\n')}\n` : '';
  } catch {
    return '';
  }
}
