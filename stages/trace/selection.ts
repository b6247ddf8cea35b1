// Which items the user left out (`ignore`) and which tolerance applies to each (`tolerance.keys`):
// glob patterns tried against an item's names. Knows names, not values.
import picomatch from 'picomatch';
import type { ToleranceSpec } from './comparison.js';
import type { Tolerance } from './pairing.js';

export type Matcher = (s: string) => boolean;

export function compilePatterns(patterns: string[]): Matcher {
  if (!patterns.length) return () => false;
  const literal = new Set(patterns);
  const globs = patterns.map((p) => picomatch(p, { dot: true }));
  return (s) => literal.has(s) || globs.some((g) => g(s));
}

/** Whether any pattern could single out one occurrence or one match value. */
export function targetsSelectors(patterns: string[]): boolean {
  return patterns.some((p) => p.includes('#') || p.includes('['));
}

/** The tolerance for an item whose names are `cands`, or null when no `tolerance.keys` entry matches. */
export function resolveTol(cands: string[], keyTols: Array<{ match: Matcher; spec: ToleranceSpec }>, base: Tolerance): Tolerance | null {
  let out: Tolerance | null = null;
  for (const k of keyTols) {
    if (!cands.some(k.match)) continue;
    out ??= { ...base };
    if (k.spec.rel !== undefined) out.rel = k.spec.rel;
    if (k.spec.abs !== undefined) out.abs = k.spec.abs;
    if (k.spec.minor !== undefined) out.minor = k.spec.minor;
  }
  return out;
}
