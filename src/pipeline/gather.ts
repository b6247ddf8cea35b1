// A stage without a matrix gathers the instances of those with one: a list element that names
// `${item.x}` (in deps, or in a list under with:) stands for one element per value of axis x, in
// the order the axis lists them; naming two axes gives every combination. So
// `deps: [reports/${item.config}/comparison.json]` is every configuration's comparison.
import { findParamRefs, type Vars } from './param-refs.js';
import { interpolateText } from './interpolate.js';

function expandOne(text: string, axes: Map<string, unknown[]>, vars: Vars): string[] | undefined {
  const named = [...new Set(findParamRefs(text).filter((r) => r.scope === 'item').map((r) => r.name))];
  if (!named.length) return undefined;
  let combos: Array<Record<string, unknown>> = [{}];
  for (const axis of named) combos = combos.flatMap((c) => (axes.get(axis) ?? []).map((v) => ({ ...c, [axis]: v })));
  return combos.map((item) => interpolateText(text, { ...vars, item }));
}

export function gatherList(list: unknown[], axes: Map<string, unknown[]>, vars: Vars): unknown[] {
  return list.flatMap((v) => (typeof v === 'string' ? (expandOne(v, axes, vars) ?? [v]) : [v]));
}

/** `with:` with each of its lists gathered, at any depth. */
export function gatherWith(value: unknown, axes: Map<string, unknown[]>, vars: Vars): unknown {
  if (Array.isArray(value)) return gatherList(value, axes, vars).map((v) => (typeof v === 'string' ? v : gatherWith(v, axes, vars)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = gatherWith(v, axes, vars);
    return out;
  }
  return value;
}
