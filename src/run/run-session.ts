// Taking the project for one run: the run lock, and after a run that died holding it (kill -9),
// ending the stage process groups it left behind. Both `evidence run` and each watch cycle start
// here, so neither can leave orphans to the other.
import { join } from 'node:path';
import { acquireRunLock, describeHolder, type AcquireOptions, type AcquireResult } from './run-lock.js';
import { endGroupsLeftBy, recordGroupsIn } from './process-group.js';

export async function beginRun(stateDir: string, opts: AcquireOptions & { warn: (message: string) => void }): Promise<AcquireResult> {
  const got = await acquireRunLock(stateDir, opts);
  if (!got.ok) return got;
  const groupsDir = join(stateDir, 'groups');
  if (got.tookOverFrom) {
    opts.warn(`took over the run lock of ${describeHolder(got.tookOverFrom)}, which is no longer running`);
    const ended = endGroupsLeftBy(groupsDir);
    if (ended.length) opts.warn(`ended ${ended.length} stage process group(s) that run left running (${ended.join(', ')})`);
  }
  recordGroupsIn(groupsDir);
  return got;
}

/** A run's id: when it started and which process ran it (a watch cycle adds its own suffix). */
export function newRunId(started = Date.now(), suffix?: string): string {
  return `${new Date(started).toISOString().replace(/[:.]/g, '-')}-${process.pid}${suffix ? `-${suffix}` : ''}`;
}
