// ${params.name} substitution. Three contexts, three rules:
// - shell strings: each value is shell-quoted, so `; rm -rf ~` stays one literal argument and a
//   list becomes separate arguments;
// - argv lists: an element that is exactly ${params.x} expands a list into several elements;
// - everything else (with, paths, env): a whole-value reference keeps the param's type, an
//   embedded one is replaced by its text (lists joined by spaces).

const REF = /\$\{params\.([A-Za-z_][A-Za-z0-9_-]*)\}/g;
const WHOLE = /^\$\{params\.([A-Za-z_][A-Za-z0-9_-]*)\}$/;

export interface ParamRef {
  name: string;
  /** Offset of `${` within the string. */
  index: number;
}

export function findParamRefs(text: string): ParamRef[] {
  const refs: ParamRef[] = [];
  for (const m of text.matchAll(REF)) refs.push({ name: m[1]!, index: m.index! });
  return refs;
}

export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_\-.,/:=+@%^]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

function textOf(value: unknown): string {
  return Array.isArray(value) ? value.map(scalarText).join(' ') : scalarText(value);
}

export function interpolateShell(text: string, params: Record<string, unknown>): string {
  return text.replace(REF, (_, name: string) => {
    const v = params[name];
    return Array.isArray(v) ? v.map((x) => shellQuote(scalarText(x))).join(' ') : shellQuote(scalarText(v));
  });
}

export function interpolateArgv(argv: string[], params: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    const whole = WHOLE.exec(arg);
    if (whole && Array.isArray(params[whole[1]!])) {
      out.push(...(params[whole[1]!] as unknown[]).map(scalarText));
    } else {
      out.push(interpolateText(arg, params));
    }
  }
  return out;
}

export function interpolateText(text: string, params: Record<string, unknown>): string {
  return text.replace(REF, (_, name: string) => textOf(params[name]));
}

/** Deep substitution for `with:` blocks: whole-value references keep the param's type. */
export function interpolateValue(value: unknown, params: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return params[whole[1]!];
    return interpolateText(value, params);
  }
  if (Array.isArray(value)) return value.map((v) => interpolateValue(v, params));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateValue(v, params);
    return out;
  }
  return value;
}

/** A display form of an argv list, quoted as a shell would need it. */
export function argvDisplay(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
