// Params declared with their allowed values: `config: { default: multi-phi, choices: [...] }`. The
// model keeps each param's value for the run (its default or the `-p` override) and, apart, what
// was declared, for `--help`, `status` and the check below. A value outside the choices is blamed
// where it came from: the `-p` on the command line, or the default in pipeline.yaml.
import type { Diagnostic } from './diagnostics.js';
import { didYouMean } from './diagnostics.js';
import type { ParamSpec } from './model.js';
import type { Locator } from './yaml-locator.js';

function isSpec(v: unknown): v is { default: unknown; choices?: unknown[]; description?: string } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A param value as written on a command line: `multi-phi`, `1e-06`, `[685, 1039]`. */
export function paramText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(paramText).join(', ')}]`;
  return v === null ? 'null' : String(v);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function readParams(declared: Record<string, unknown>, at: Locator): { params: Record<string, unknown>; specs: Record<string, ParamSpec> } {
  const params: Record<string, unknown> = {};
  const specs: Record<string, ParamSpec> = {};
  for (const [name, v] of Object.entries(declared)) {
    if (!isSpec(v)) {
      params[name] = v;
      continue;
    }
    params[name] = v.default;
    specs[name] = { default: v.default, choices: v.choices, description: v.description, loc: at.locOfNode(at.keyNode(['params'], name)) };
  }
  return { params, specs };
}

/** A value outside the param's choices; `raw` is the `-p` text when the value came from the command line. */
export function checkParamChoices(name: string, spec: ParamSpec, value: unknown, at: Locator, raw: string | undefined): Diagnostic[] {
  if (!spec.choices || spec.choices.some((c) => same(c, value))) return [];
  const listed = spec.choices.map(paramText);
  const near = didYouMean(paramText(value), listed);
  const hint = `${near ? `did you mean '${near}'? ` : ''}choices: ${listed.join(', ')}`;
  if (raw !== undefined) return [{ file: 'command line', line: 0, column: 0, message: `-p ${name}=${raw}: '${raw}' is not one of the choices of param '${name}'`, hint }];
  return [at.diag(at.locOfNode(at.node(['params', name, 'default'])), `param '${name}': default ${paramText(value)} is not one of its choices`, hint)];
}
