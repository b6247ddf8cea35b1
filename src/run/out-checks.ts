// What a stage that succeeded by its own account must still show before its outs are recorded:
// every declared out exists, was written by this run, stays inside the project (symlinks
// followed) and validates against its schema. Loaded with the execution modules: a no-op run never
// pays for ajv. Knows nothing about scheduling or how stages run.
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Stage } from '../pipeline/model.js';
import type { FailureReason } from '../stage-api/index.js';
import { formatIssues, resolveSchemaPath, validateAgainst } from '../schema/validate.js';
import { describeEscape, escapingOut } from './confinement.js';

export interface OutProblem {
  reason: FailureReason;
  message: string;
}

/** `started`: when the stage started (an out older than that was left by an earlier run). */
export function checkOuts(root: string, stage: Stage, started: number): OutProblem | undefined {
  // First: a link to a file outside is not an out, however fresh the file it points to.
  const escape = escapingOut(root, stage.outs.map((o) => o.path), true);
  if (escape) return { reason: 'missing-out', message: `${describeEscape(escape)}; nothing was recorded` };
  const missing: string[] = [];
  const stale: string[] = [];
  for (const o of stage.outs) {
    let st;
    try {
      st = statSync(join(root, o.path));
    } catch {
      missing.push(o.path);
      continue;
    }
    // An out left over from an earlier run that this run did not write is not this run's product:
    // trusting it would record stale evidence as fresh. (The 1 s margin absorbs coarse mtimes.)
    if (!st.isDirectory() && st.mtimeMs < started - 1000) stale.push(o.path);
  }
  if (missing.length || stale.length) {
    const parts = [...missing, ...stale.map((p) => `${p} (left from an earlier run: not rewritten by this one)`)];
    const hint = stale.length ? '; a command that writes only when the content changed can delete its out first (rm -f OUT && …)' : '';
    return { reason: 'missing-out', message: `did not produce declared out${parts.length > 1 ? 's' : ''}: ${parts.join(', ')}${hint}` };
  }
  for (const o of stage.outs) {
    if (!o.schema) continue;
    const schemaFile = resolveSchemaPath(o.schema, root);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(join(root, o.path), 'utf8'));
    } catch (err) {
      return { reason: 'schema', message: `out '${o.path}' is not valid JSON: ${(err as Error).message}` };
    }
    let issues;
    try {
      issues = validateAgainst(schemaFile, value);
    } catch (err) {
      return { reason: 'schema', message: `cannot use schema '${o.schema}' for out '${o.path}': ${(err as Error).message}` };
    }
    if (issues.length) return { reason: 'schema', message: `out '${o.path}' breaks ${relative(root, schemaFile)}: ${formatIssues(issues)}` };
  }
  return undefined;
}
