// Small path rules shared by the loader and the runner, kept free of heavy imports (the YAML
// library loads only when pipeline.yaml must actually be parsed).
import { posix } from 'node:path';

/** Normalises a project-relative path: forward slashes, no './', no trailing slash. */
export function normalizeRel(p: string): string {
  const n = posix.normalize(p.replace(/\\/g, '/'));
  return n === '.' ? '.' : n.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** `uses:` names a user script (a path) rather than a built-in stage. */
export function isScriptReference(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || /\.(m?js|cjs)$/.test(uses);
}
