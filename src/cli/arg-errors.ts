// node's parseArgs errors, said the way the rest of the CLI speaks: the option as the user typed
// it, what was wrong with it, and for an unknown option the nearest known one (edit distance over
// the verb's own options). Its raw text ("To specify a positional argument starting with a '-'…")
// suits a library, not a person who mistyped --jobs.
import type { ParseArgsConfig } from 'node:util';
import { didYouMean } from '../pipeline/diagnostics.js';

type Options = NonNullable<ParseArgsConfig['options']>;

function spelled(options: Options, name: string): string {
  const short = options[name]?.short;
  return short ? `-${short}/--${name}` : `--${name}`;
}

/** The long name an option was given by (`-j` or `--jobs` → jobs), from parseArgs' own wording. */
function optionNamed(options: Options, text: string): string | undefined {
  const long = /--([\w-]+)/.exec(text)?.[1];
  if (long && options[long]) return long;
  const short = /(?:^|[^-])-(\w)\b/.exec(text)?.[1];
  return Object.keys(options).find((k) => options[k]!.short === short);
}

/** A suggestion for an unknown option: a long name within a few edits, or what a single-dash word meant. */
function suggestionFor(unknown: string, args: readonly string[], options: Options): string | undefined {
  const longs = Object.keys(options);
  if (unknown.startsWith('--')) {
    const name = unknown.slice(2).split('=')[0]!;
    const near = didYouMean(name, longs);
    return near && `--${near}`;
  }
  // `-dry-run` reads as the short flags -d -r -y…: the user meant the long one.
  const letter = unknown.slice(1);
  const word = args.find((a) => /^-[^-]/.test(a) && a.split('=')[0]!.length > 4 && a.slice(1).includes(letter));
  if (word) {
    const near = didYouMean(word.slice(1).split('=')[0]!, longs);
    if (near) return `--${near}`;
  }
  return undefined;
}

/** The message for a parseArgs error of `verb` (whose options are `options`), or undefined for another error. */
export function describeArgError(verb: string, err: unknown, args: readonly string[], options: Options): string | undefined {
  const e = err as { code?: string; message?: string };
  const text = e?.message ?? '';
  switch (e?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const unknown = /'(-[^']*)'/.exec(text)?.[1] ?? '?';
      const near = suggestionFor(unknown, args, options);
      return `unknown option '${unknown}'${near ? `; did you mean ${near}?` : ''} (evidence ${verb} --help lists the options)`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = optionNamed(options, text);
      if (!name) return text;
      return options[name]!.type === 'boolean' ? `${spelled(options, name)} takes no value` : `${spelled(options, name)} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `takes no argument here (${/'([^']*)'/.exec(text)?.[1] ?? text}); see evidence ${verb} --help`;
    default:
      return undefined;
  }
}
