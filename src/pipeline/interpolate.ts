// ${params.name} and ${root} substitution. Three contexts, three rules:
// - shell strings: each value is quoted for where it sits (shell-context.ts): unquoted, it is
//   shell-quoted, so `; rm -rf ~` stays one literal argument and a list becomes separate arguments;
//   inside '...' or "..." it is escaped for that quote (a list is joined by spaces);
// - argv lists: an element that is exactly ${params.x} expands a list into several elements; the
//   script of a shell (`[sh, -c, SCRIPT]`) is a shell string;
// - everything else (with, paths, env): a whole-value reference keeps the param's type, an
//   embedded one is replaced by its text (lists joined by spaces).
import { findParamRefs, refValue, wholeRef, type Vars } from './param-refs.js';
import { shellRefs, type ShellContext } from './shell-context.js';
export { findParamRefs, type ParamRef, type Vars } from './param-refs.js';

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

function quoteFor(context: ShellContext, value: unknown): string {
  switch (context.kind) {
    case 'bare':
      return Array.isArray(value) ? value.map((x) => shellQuote(scalarText(x))).join(' ') : shellQuote(scalarText(value));
    case 'single':
      return textOf(value).replace(/'/g, `'\\''`);
    case 'double':
      return textOf(value).replace(/[\\$`"]/g, '\\$&');
    case 'unsafe':
      // The loader rejects such a command; should one get here anyway, the value is left out.
      return '';
  }
}

/** Substitutes params into a shell command, each quoted for its context (see shellRefs). */
export function interpolateShell(text: string, vars: Vars): string {
  let out = '';
  let from = 0;
  for (const ref of shellRefs(text)) {
    out += text.slice(from, ref.index) + quoteFor(ref.context, refValue(vars, ref));
    from = ref.index + ref.text.length;
  }
  return out + text.slice(from);
}

const SHELLS = /^(?:.*\/)?(?:sh|bash|dash|zsh|ksh|mksh|ash)$/;

/** The index of the script in an argv that runs a shell on one (`sh -c SCRIPT`, `bash -euc SCRIPT`), else -1. */
export function shellScriptIndex(argv: string[]): number {
  if (argv.length < 3 || !SHELLS.test(argv[0]!)) return -1;
  for (let i = 1; i < argv.length - 1; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '--') return -1;
    if (/^-[a-z]*c[a-z]*$/.test(a)) return i + 1;
  }
  return -1;
}

export function interpolateArgv(argv: string[], vars: Vars): string[] {
  const out: string[] = [];
  const script = shellScriptIndex(argv);
  argv.forEach((arg, i) => {
    const whole = wholeRef(arg);
    const value = whole ? refValue(vars, whole) : undefined;
    if (i === script) out.push(interpolateShell(arg, vars));
    else if (whole && Array.isArray(value)) out.push(...value.map(scalarText));
    else out.push(interpolateText(arg, vars));
  });
  return out;
}

export function interpolateText(text: string, vars: Vars): string {
  let out = '';
  let from = 0;
  for (const ref of findParamRefs(text)) {
    out += text.slice(from, ref.index) + textOf(refValue(vars, ref));
    from = ref.index + ref.text.length;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Deep substitution for `with:` blocks: whole-value references keep the param's type. */
export function interpolateValue(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    const whole = wholeRef(value);
    if (whole) return refValue(vars, whole);
    return interpolateText(value, vars);
  }
  if (Array.isArray(value)) return value.map((v) => interpolateValue(v, vars));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateValue(v, vars);
    return out;
  }
  return value;
}

/** A display form of an argv list, quoted as a shell would need it. */
export function argvDisplay(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
