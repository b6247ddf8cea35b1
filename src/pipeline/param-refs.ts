// The ${params.name} reference syntax, shared by the interpolator and the shell scanner.

export const REF = /\$\{params\.([A-Za-z_][A-Za-z0-9_-]*)\}/g;
export const WHOLE = /^\$\{params\.([A-Za-z_][A-Za-z0-9_-]*)\}$/;

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
