// The record of a run's stage process groups (.evidence/groups/groups.log): what a run killed with
// -9 left running is ended by the next run, what ended is not touched, and records written by
// earlier versions (one file per group) still count. Real processes, real files.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endGroupsLeftBy, recordGroupsIn, registerGroup, unregisterGroup } from '../../src/run/process-group.js';
import { killAll, pidGone, waitFor } from '../helpers/processes.js';

const started: ChildProcess[] = [];
afterEach(() => killAll(started.splice(0).map((c) => c.pid!)));

function sleeper(): number {
  const c = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  started.push(c);
  return c.pid!;
}

describe('stage process group records', () => {
  it('ends the groups left open, leaves ended ones alone, and removes the record', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'evidence-groups-')), 'groups');
    recordGroupsIn(dir);
    const left = sleeper();
    const done = sleeper();
    registerGroup(left);
    registerGroup(done);
    unregisterGroup(done);
    const log = readFileSync(join(dir, 'groups.log'), 'utf8');
    expect(log).toMatch(new RegExp(`^\\+${left} [0-9]+\\n\\+${done} [0-9]+\\n-${done}\\n$`));
    // What a kill -9 leaves: the record as it was, and a line cut short.
    appendFileSync(join(dir, 'groups.log'), `+${done}`);
    expect(endGroupsLeftBy(dir)).toEqual([left]);
    await waitFor(() => pidGone(left), 5000, 'the left group to end');
    expect(pidGone(done)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    unregisterGroup(left);
  });

  it('does not end a group whose leader pid now names another process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-groups-'));
    const pid = sleeper();
    writeFileSync(join(dir, 'groups.log'), `+${pid} 1\n`);
    expect(endGroupsLeftBy(dir)).toEqual([]);
    expect(pidGone(pid)).toBe(false);
  });

  it('reads the one-file-per-group records of earlier versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-groups-'));
    mkdirSync(dir, { recursive: true });
    const pid = sleeper();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(join(dir, String(pid)), JSON.stringify({ pgid: pid, start }));
    expect(endGroupsLeftBy(dir)).toEqual([pid]);
    await waitFor(() => pidGone(pid), 5000, 'the group to end');
  });

  it('a new run starts a fresh record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-groups-'));
    writeFileSync(join(dir, 'groups.log'), '+1 1\n-1\n');
    recordGroupsIn(dir);
    expect(readdirSync(dir)).toEqual([]);
  });
});
