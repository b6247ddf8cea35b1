// Which comparison files a sweep reads: the `with:` list of files and globs, each glob's matches
// sorted, project-relative, each file once. Shared by summarize-sweep and the sweep's report, so
// that both read the very same files in the same order.
import { relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { StageContext } from '../../../src/stage-api/index.js';

const require = createRequire(import.meta.url);

/** The comparison files, project-relative, in the order given (a glob's matches sorted). */
export function comparisonFiles(ctx: Pick<StageContext, 'cwd' | 'root'>, patterns: string[]): string[] {
  const { globSync } = require('tinyglobby') as typeof import('tinyglobby');
  const files: string[] = [];
  for (const p of patterns) {
    const matches = /[*?[\]{}]/.test(p) ? globSync(p, { cwd: ctx.cwd, onlyFiles: true, expandDirectories: false }).sort() : [p];
    for (const m of matches) {
      const rel = relative(ctx.root, resolve(ctx.cwd, m)).split('\\').join('/');
      if (!files.includes(rel)) files.push(rel);
    }
  }
  return files;
}
