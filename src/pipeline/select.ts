// Which stages a command line names. A word is a stage's name (`compare@cubic,685-1039`), the name of
// a matrix stage (all its instances: `compare`), a glob over names (`compare@*`, `*trace*`), or a
// matrix stage with axis values (`compare@config=ortho-beam`, `compare@config=o*,pixel=685-1039`).
// An unknown word is an error value with a did-you-mean, never a silent empty selection.
import { createRequire } from 'node:module';
import { didYouMean } from './diagnostics.js';
import type { Pipeline, Stage } from './model.js';

const require = createRequire(import.meta.url);
const GLOB = /[*?[\]{}]/;

type Matcher = (s: string) => boolean;
function matcher(pattern: string): Matcher {
  if (!GLOB.test(pattern)) return (s) => s === pattern;
  const picomatch = require('picomatch') as (p: string, o?: object) => Matcher;
  return picomatch(pattern, { dot: true });
}

export type Selection = { ok: true; stages: string[] } | { ok: false; message: string };

/** The text of an axis value as instance names and selections write it: a list joins with '-'. */
export function itemText(value: unknown): string {
  return Array.isArray(value) ? value.map(itemText).join('-') : String(value);
}

function byAxes(stages: Stage[], of: string, filter: string): Stage[] | string {
  const wanted: Array<[string, Matcher]> = [];
  for (const part of filter.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return `'${of}@${filter}': expected axis=value pairs separated by commas`;
    wanted.push([part.slice(0, eq), matcher(part.slice(eq + 1))]);
  }
  const axes = new Set(stages.flatMap((s) => Object.keys(s.instance?.item ?? {})));
  for (const [axis] of wanted) {
    if (!axes.has(axis)) {
      const s = didYouMean(axis, axes);
      return `'${of}@${filter}': stage '${of}' has no axis '${axis}'${s ? ` (did you mean '${s}'?)` : ''}; axes: ${[...axes].join(', ')}`;
    }
  }
  return stages.filter((s) => wanted.every(([axis, match]) => match(itemText(s.instance!.item[axis]))));
}

/** Resolves command-line words to stage names, in pipeline order, each once. */
export function selectStages(pipeline: Pipeline, words: string[]): Selection {
  const all = [...pipeline.stages.values()];
  const chosen = new Set<string>();
  for (const word of words) {
    const exact = pipeline.stages.get(word);
    let found: Stage[];
    if (exact) found = [exact];
    else {
      const at = word.indexOf('@');
      const instancesOf = (of: string) => all.filter((s) => s.instance?.of === of);
      if (at > 0 && word.slice(at + 1).includes('=')) {
        const of = word.slice(0, at);
        const r = byAxes(instancesOf(of), of, word.slice(at + 1));
        if (typeof r === 'string') return { ok: false, message: r };
        found = r;
      } else if (instancesOf(word).length) found = instancesOf(word);
      else {
        const match = matcher(word);
        found = all.filter((s) => match(s.name) || (s.instance && match(s.instance.of)));
      }
    }
    if (!found.length) {
      const names = [...new Set(all.map((s) => s.instance?.of ?? s.name))];
      const s = didYouMean(word.replace(/@.*/, ''), names);
      return { ok: false, message: `no stage matches '${word}'${s ? ` (did you mean '${s}'?)` : ''}; stages: ${names.join(', ')}` };
    }
    for (const s of found) chosen.add(s.name);
  }
  return { ok: true, stages: all.filter((s) => chosen.has(s.name)).map((s) => s.name) };
}
