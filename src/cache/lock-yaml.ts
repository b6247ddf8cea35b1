// Writes evidence.lock's YAML directly. The lock is plain data (maps, lists, strings, numbers,
// booleans, null), rewritten after every successful stage; the YAML library's stringify cost
// ~2.5 ms a write (18 ms of a 7-stage cold run). What is written reads back as the same value with
// any YAML 1.2 parser (a property test checks this against the yaml package).

const PLAIN = /^[A-Za-z_./][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()=-]+)*$/;
// Plain scalars a YAML parser would read as something other than a string: booleans, null, and
// anything number-like (a leading digit, or a dot before a digit: `.5` is a float).
const AMBIGUOUS = /^(?:true|false|null|yes|no|on|off|y|n|~|\.inf|\.nan)$|^\.[0-9]/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return Object.is(value, -0) ? '-0.0' : String(value);
  }
  const s = String(value);
  // JSON's string syntax is a subset of YAML's double-quoted scalars.
  return PLAIN.test(s) && !AMBIGUOUS.test(s) ? s : JSON.stringify(s);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function emit(value: unknown, indent: string, out: string[]): void {
  if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      if (isMap(v) && Object.keys(v).length) {
        out.push(`${indent}${scalar(k)}:`);
        emit(v, indent + '  ', out);
      } else if (Array.isArray(v) && v.some((x) => isMap(x) || Array.isArray(x))) {
        out.push(`${indent}${scalar(k)}:`);
        for (const item of v) {
          const nested: string[] = [];
          emit(isMap(item) || Array.isArray(item) ? item : { value: item }, indent + '    ', nested);
          if (!isMap(item) && !Array.isArray(item)) out.push(`${indent}  - ${scalar(item)}`);
          else if (Array.isArray(item)) out.push(`${indent}  - ${inline(item)}`);
          else if (!nested.length) out.push(`${indent}  - {}`);
          else out.push(`${indent}  - ${nested[0]!.trimStart()}`, ...nested.slice(1));
        }
      } else {
        out.push(`${indent}${scalar(k)}: ${isMap(v) || Array.isArray(v) ? inline(v) : scalar(v)}`);
      }
    }
    return;
  }
  out.push(`${indent}${inline(value)}`);
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (isMap(value)) return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${scalar(k)}: ${inline(v)}`).join(', ')}}`;
  return scalar(value);
}

/** YAML block text for a map of plain data. */
export function toYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  emit(value, '', out);
  return out.join('\n') + '\n';
}
