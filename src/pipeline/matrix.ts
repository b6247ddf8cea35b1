// `matrix:` on a stage: one instance per combination of its axes' values, named
// `stage@v1,v2` (`c_trace@cubic-default,685-1039`). An axis lists its values, takes them from a
// param (`config: ${params.configs}`), or from the files a glob matches (`config: { glob:
// example/configs/*.args }`: each file's name without its extension). `-p AXIS=VALUE` (or a list)
// narrows an axis to some of its values, to run a subset. Errors are located at the axis.
import { basename, extname } from 'node:path';
import { createRequire } from 'node:module';
import type { Diagnostic } from './diagnostics.js';
import { didYouMean } from './diagnostics.js';
import { wholeRef } from './param-refs.js';
import { itemText } from './select.js';
import type { Locator, PathSeg } from './yaml-locator.js';

const require = createRequire(import.meta.url);

export interface Axis {
  name: string;
  values: unknown[];
}

export interface MatrixInstance {
  name: string;
  item: Record<string, unknown>;
}

export interface MatrixContext {
  params: Record<string, unknown>;
  /** Absolute project root (globs are matched there). */
  root: string;
  at: Locator;
  /** `-p AXIS=...` overrides that name an axis rather than a param, as parsed values. */
  axisOverrides: Map<string, { value: unknown; raw: string }>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function globValues(pattern: string, root: string): string[] {
  const { globSync } = require('tinyglobby') as typeof import('tinyglobby');
  const names = globSync(pattern, { cwd: root, dot: false, onlyFiles: true, expandDirectories: false }).map((f) => basename(f, extname(f)));
  return [...new Set(names)].sort();
}

/** The axes of one stage's matrix, in the order written. */
export function readAxes(stage: string, matrix: Record<string, unknown>, ctx: MatrixContext): { axes: Axis[]; diagnostics: Diagnostic[] } {
  const axes: Axis[] = [];
  const diagnostics: Diagnostic[] = [];
  const base: PathSeg[] = ['stages', stage, 'matrix'];
  const fail = (axis: string, message: string, hint?: string) => diagnostics.push(ctx.at.diag(ctx.at.locOfNode(ctx.at.nearest([...base, axis])), message, hint));
  for (const [name, raw] of Object.entries(matrix)) {
    let values: unknown[];
    if (typeof raw === 'string') {
      const ref = wholeRef(raw);
      if (!ref || ref.scope !== 'params') {
        fail(name, `matrix axis '${name}' of stage '${stage}': expected a list of values, \${params.name} or { glob: PATTERN }`);
        continue;
      }
      if (!Object.hasOwn(ctx.params, ref.name)) continue; // reported as a reference to no param
      const v = ctx.params[ref.name];
      values = Array.isArray(v) ? v : [v];
    } else if (Array.isArray(raw)) {
      values = raw;
    } else {
      const pattern = (raw as { glob: string }).glob;
      values = globValues(pattern, ctx.root);
      if (!values.length) {
        fail(name, `matrix axis '${name}' of stage '${stage}': the glob '${pattern}' matches no file`, 'a glob is matched from the project root');
        continue;
      }
    }
    if (!values.length) {
      fail(name, `matrix axis '${name}' of stage '${stage}' has no values`, 'give it at least one value');
      continue;
    }
    const override = ctx.axisOverrides.get(name);
    if (override) {
      const wanted = Array.isArray(override.value) && !values.some((v) => Array.isArray(v)) ? override.value : [override.value];
      const unknown = wanted.filter((w) => !values.some((v) => same(v, w) || itemText(v) === itemText(w)));
      if (unknown.length) {
        const near = didYouMean(itemText(unknown[0]), values.map(itemText));
        diagnostics.push({
          file: 'command line',
          line: 0,
          column: 0,
          message: `-p ${name}=${override.raw}: '${itemText(unknown[0])}' is not a value of matrix axis '${name}'`,
          hint: `${near ? `did you mean '${near}'? ` : ''}values: ${values.map(itemText).join(', ')}`,
        });
        continue;
      }
      values = values.filter((v) => wanted.some((w) => same(v, w) || itemText(v) === itemText(w)));
    }
    axes.push({ name, values });
  }
  return { axes, diagnostics };
}

/** A value as it appears in an instance name: characters a name may not hold become '_'. */
function nameText(value: unknown): string {
  return itemText(value).replace(/[^A-Za-z0-9_.+=~-]/g, '_');
}

/** Every combination of the axes' values, first axis slowest, each with its name. */
export function expandMatrix(stage: string, axes: Axis[]): MatrixInstance[] {
  let combos: Array<Record<string, unknown>> = [{}];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  return combos.map((item) => ({ name: `${stage}@${axes.map((a) => nameText(item[a.name])).join(',')}`, item }));
}
