// Where `${item.x}` may stand: in a matrix stage, for one of its own axes; in a stage without a
// matrix, only as a list element (deps, a list under with:), gathering every value of an axis some
// matrix stage has (gather.ts); nowhere else (env, reports, the blocker). Each misplaced or unknown
// reference is reported at the reference itself.
import { didYouMean, type Diagnostic } from './diagnostics.js';
import { findParamRefs } from './param-refs.js';
import type { Locator, PathSeg } from './yaml-locator.js';

function* stringsWithItems(value: unknown, at: PathSeg[]): Generator<{ text: string; at: PathSeg[] }> {
  if (typeof value === 'string') {
    if (value.includes('${item.')) yield { text: value, at };
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* stringsWithItems(value[i], [...at, i]);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* stringsWithItems(v, [...at, k]);
  }
}

/** A list element of deps or of a list under with: (what a stage without a matrix may gather). */
function gathers(at: PathSeg[]): boolean {
  const last = at[at.length - 1];
  return typeof last === 'number' && (at[2] === 'deps' ? at.length === 4 : at[2] === 'with');
}

export function itemRefProblems(doc: Record<string, unknown>, axes: Set<string>, at: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const stages = (doc.stages ?? {}) as Record<string, Record<string, unknown>>;
  const report = (s: { text: string; at: PathSeg[] }, index: number, written: string, message: string, hint?: string) =>
    out.push(at.diag(at.locOfText(at.node(s.at), s.text, index, written), message, hint));
  for (const [section, value] of Object.entries(doc)) {
    if (section === 'stages' || section === 'params') continue;
    for (const s of stringsWithItems(value, [section])) {
      for (const ref of findParamRefs(s.text)) if (ref.scope === 'item') report(s, ref.index, ref.text, `${ref.text} outside a stage`, '${item.x} names a matrix axis of the stage it is written in');
    }
  }
  for (const [name, def] of Object.entries(stages)) {
    const { matrix, ...rest } = def;
    const own = matrix && typeof matrix === 'object' ? Object.keys(matrix) : undefined;
    for (const s of stringsWithItems(rest, ['stages', name])) {
      for (const ref of findParamRefs(s.text)) {
        if (ref.scope !== 'item') continue;
        if (own) {
          if (own.includes(ref.name)) continue;
          const near = didYouMean(ref.name, own);
          report(s, ref.index, ref.text, `${ref.text}: stage '${name}' has no matrix axis '${ref.name}'`, `${near ? `did you mean '${near}'? ` : ''}its axes: ${own.join(', ')}`);
        } else if (!gathers(s.at)) {
          report(s, ref.index, ref.text, `${ref.text} in stage '${name}', which has no matrix`, 'give the stage a matrix:, or gather every instance\'s value as an element of a list (deps, or a list under with:)');
        } else if (!axes.has(ref.name)) {
          const near = didYouMean(ref.name, axes);
          report(s, ref.index, ref.text, `${ref.text}: no matrix stage has an axis '${ref.name}'`, near ? `did you mean '${near}'?` : axes.size ? `axes: ${[...axes].join(', ')}` : 'no stage has a matrix:');
        }
      }
    }
  }
  return out;
}
