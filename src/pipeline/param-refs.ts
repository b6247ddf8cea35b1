// The ${...} reference syntax, shared by the interpolator and the shell scanner. A reference names
// a param (`${params.x}`), a matrix axis of the stage instance (`${item.x}`), or a variable the
// runner provides (`${root}`: the project's absolute path). Anything else in `${...}` is not a
// reference and stays literal text.

export const REF = /\$\{(?:(params|item)\.([A-Za-z_][A-Za-z0-9_-]*)|(root))\}/g;
const WHOLE_REF = new RegExp(`^${REF.source}$`);

export interface ParamRef {
  /** The param's or axis' name, or the variable's ('root'). */
  name: string;
  scope: 'params' | 'item' | 'root';
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
  /** A matrix instance's values, by axis. */
  item?: Record<string, unknown>;
}

function refOf(m: RegExpExecArray | RegExpMatchArray): ParamRef {
  return m[1] !== undefined
    ? { name: m[2]!, scope: m[1] as 'params' | 'item', index: m.index!, text: m[0] }
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
  const from = ref.scope === 'item' ? vars.item : vars.params;
  return from && Object.hasOwn(from, ref.name) ? from[ref.name] : undefined;
}
