// The ${...} reference syntax, shared by the interpolator and the shell scanner. A reference names
// a param (`${params.x}`) or a variable the runner provides (`${root}`: the project's absolute
// path). Anything else in `${...}` is not a reference and stays literal text.

export const REF = /\$\{(?:params\.([A-Za-z_][A-Za-z0-9_-]*)|(root))\}/g;
const WHOLE_REF = new RegExp(`^${REF.source}$`);

export interface ParamRef {
  /** The param's name, or the variable's ('root'). */
  name: string;
  scope: 'params' | 'root';
  /** Offset of `${` within the string. */
  index: number;
  /** The reference as written, e.g. `${params.x}`. */
  text: string;
}

/** What references resolve to. */
export interface Vars {
  params: Record<string, unknown>;
  /** The project's absolute path; unset where a value must not depend on where the project lives. */
  root?: string;
}

function refOf(m: RegExpExecArray | RegExpMatchArray): ParamRef {
  return m[1] !== undefined
    ? { name: m[1], scope: 'params', index: m.index!, text: m[0] }
    : { name: 'root', scope: 'root', index: m.index!, text: m[0] };
}

export function findParamRefs(text: string): ParamRef[] {
  const refs: ParamRef[] = [];
  for (const m of text.matchAll(REF)) refs.push(refOf(m));
  return refs;
}

/** The reference when the whole string is exactly one, else undefined. */
export function wholeRef(text: string): ParamRef | undefined {
  const m = WHOLE_REF.exec(text);
  return m ? refOf(m) : undefined;
}

/** A reference's value; only the params' own keys count (`${params.constructor}` names nothing). */
export function refValue(vars: Vars, ref: Pick<ParamRef, 'scope' | 'name'>): unknown {
  if (ref.scope === 'root') return vars.root;
  return Object.hasOwn(vars.params, ref.name) ? vars.params[ref.name] : undefined;
}
