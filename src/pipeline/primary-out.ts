// A stage's primary output (the file a reporter or a forensics step looks at first): the first of
// its kind's output fields that `with:` sets, relative to the stage's cwd (`output` for a script,
// which has no catalog entry); else its first out.
import { posix } from 'node:path';
import type { StageKind } from '../stage-api/index.js';
import type { Stage } from './model.js';

export function primaryOutOf(stage: Stage, kind: Pick<StageKind, 'outputPaths'> | undefined): string | undefined {
  for (const field of kind?.outputPaths ?? (stage.kind === 'uses' ? ['output'] : [])) {
    const value = stage.with[field];
    if (typeof value === 'string' && value) return posix.normalize(posix.join(stage.cwd, value.replace(/\\/g, '/')));
  }
  return stage.outs[0]?.path;
}

/** Where a failed stage's forensics go: the folder of its primary output, else reports/<stage>. */
export function reportDirOf(stage: Stage, kind: Pick<StageKind, 'outputPaths'> | undefined): string {
  const primary = primaryOutOf(stage, kind);
  if (!primary) return `reports/${stage.name}`;
  const i = primary.lastIndexOf('/');
  return i > 0 ? primary.slice(0, i) : '.';
}
