// Entry point of the TypeScript port of the nanoBragg single-pixel chain:
// parses the nanoBragg-style flags, reads the -hkl file, traces the pixel and
// prints TRACE_TS lines. The only module that touches the terminal or exits.
//
// Exit codes: 0 success, 1 unreadable input file, 2 bad command line.

import { readFileSync } from 'node:fs';
import { parseArgs } from './cli.js';
import { renderTrace } from './render.js';
import { emptyTable, parseHklTable, type HklTable } from './structure.js';
import { tracePixel } from './trace.js';

const EXIT_INPUT = 1;
const EXIT_USAGE = 2;

function fail(message: string, code: number): never {
  process.stderr.write(`port: ${message}\n`);
  process.exit(code);
}

function main(argv: readonly string[]): void {
  const parsed = parseArgs(argv);
  if (!parsed.ok) fail(parsed.message, EXIT_USAGE);
  const options = parsed.options;

  let table: HklTable = emptyTable(options.defaultF);
  if (options.hklPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.hklPath, 'utf8');
    } catch (error) {
      fail(`cannot read -hkl file '${options.hklPath}': ${(error as Error).message}`, EXIT_INPUT);
    }
    table = parseHklTable(text, options.defaultF);
    if (table.count === 0) fail(`no 'h k l F' lines in -hkl file '${options.hklPath}'`, EXIT_INPUT);
  }

  const result = tracePixel(options, table);
  if (!result.ok) fail(result.message, EXIT_USAGE);
  process.stdout.write(renderTrace(result.records));
}

main(process.argv.slice(2));
