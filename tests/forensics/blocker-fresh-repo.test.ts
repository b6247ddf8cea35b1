// A CI job in a repository that has no commit yet: a failing stage still gets its blocker record
// and the run exits 1 promptly (git mktree once waited for ever on an open stdin).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, TestProject } from '../helpers/project.js';

describe('blocker in a repository without commits', () => {
  it('records the failure with a patch of every file and exits 1', () => {
    const p = new TestProject({
      'pipeline.yaml': "version: 1\nblocker: { uses: blocker, with: { dir: reports/blocker } }\nstages:\n  s: { cmd: 'echo boom >&2; exit 2', outs: [s.txt] }\n",
      'src/port.py': 'x = 1\n',
    });
    p.git('init', '-q', '-b', 'main');
    // Bounded by the runner, not by a wall-clock assertion: a hang ends the child and fails here.
    const r = spawnSync(process.execPath, [CLI, 'run'], { cwd: p.dir, env: p.env(), encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, 'the run hung and was killed').toBeNull();
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/blocker recorded the failure of s/);
    const rec = JSON.parse(p.read('reports/blocker/blocker.json'));
    expect(rec).toMatchObject({ stage: 's', reason: 'exit-code', gitSha: null });
    expect(rec.patch).toMatch(/s_blocker\.patch$/);
    expect(p.read(rec.patch)).toContain('src/port.py');
  });
});
