// A newcomer's first hour, end to end: the package as `npm pack` makes it is installed into an
// empty git project (its dependencies from the registry or npm's cache), `npx evidence init`
// writes the starting point, a 20-line C program and its JavaScript port traced with the helpers
// it wrote are compared (MATCH, exit 0), a planted bug is found at its first key (the gate's
// exit), the project runs from a subfolder, and three broken pipeline.yaml files each get their
// file:line:column and a non-zero exit. One file, steps in order; the install takes the longest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { REPO_ROOT, TestProject, type CliResult } from '../helpers/project.js';

const C_PROGRAM = `/* A projectile with quadratic drag, stepped with semi-implicit Euler until it lands. */
#include <math.h>
#include "trace.h"

int main(void) {
  double pos[3] = {0, 0, 0}, vel[3] = {30, 5, 40};
  const double g = 9.81, drag = 0.002, dt = 0.005;
  int steps = 0;
  TRACE("launch_speed", sqrt(vel[0] * vel[0] + vel[1] * vel[1] + vel[2] * vel[2]));
  while (pos[2] >= 0 && steps < 100000) {
    double speed = sqrt(vel[0] * vel[0] + vel[1] * vel[1] + vel[2] * vel[2]);
    for (int i = 0; i < 3; i++) vel[i] -= drag * speed * vel[i] * dt;
    vel[2] -= g * dt;
    for (int i = 0; i < 3; i++) pos[i] += vel[i] * dt;
    if (++steps % 200 == 0) TRACE_VEC("position", pos, 3);
  }
  TRACE_INT("steps", steps);
  TRACE_VEC("landing", pos, 3);
  TRACE("range", sqrt(pos[0] * pos[0] + pos[1] * pos[1]));
  return 0;
}
`;

const PORT = `// The port of reference/main.c: a projectile with quadratic drag, until it lands.
import { trace } from './trace.mjs';

const pos = [0, 0, 0], vel = [30, 5, 40];
const g = 9.81, drag = 0.002, dt = 0.005;
let steps = 0;
trace('launch_speed', Math.sqrt(vel[0] * vel[0] + vel[1] * vel[1] + vel[2] * vel[2]));
while (pos[2] >= 0 && steps < 100000) {
  const speed = Math.sqrt(vel[0] * vel[0] + vel[1] * vel[1] + vel[2] * vel[2]);
  for (let i = 0; i < 3; i++) vel[i] -= drag * speed * vel[i] * dt;
  vel[2] -= g * dt;
  for (let i = 0; i < 3; i++) pos[i] += vel[i] * dt;
  if (++steps % 200 === 0) trace('position', pos);
}
trace('steps', steps);
trace('landing', pos);
trace('range', Math.sqrt(pos[0] * pos[0] + pos[1] * pos[1]));
`;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): CliResult {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function lineColumnOf(text: string, needle: string): string {
  const at = text.indexOf(needle);
  expect(at, needle).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

describe('a newcomer installs the packed tarball and ports a program', () => {
  const p = new TestProject({});
  // yes=false: npx must run the installed bin, never fetch the unrelated `evidence` package.
  const env = p.env({ npm_config_yes: 'false', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });
  const npx = (args: string[], cwd = p.dir) => sh('npx', ['evidence', ...args], cwd, env);
  let pipeline = '';

  beforeAll(() => {
    // dist/ is fresh from the suite's global setup; --ignore-scripts keeps npm from rebuilding it
    // under the feet of the other test files.
    const packDir = mkdtempSync(join(tmpdir(), 'evidence-pack-'));
    const packed = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], REPO_ROOT, env);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    // What the installed package needs at run time ships in the tarball.
    const shipped = info!.files.map((f) => f.path);
    for (const f of ['dist/src/cli/evidence.cjs', 'dist/validators.js', 'schemas/pipeline.schema.json', 'src/init/templates/c-ts/template.json', 'dist/example/port/format.js']) expect(shipped).toContain(f);
    expect(shipped.some((f) => f.startsWith('tests/'))).toBe(false);

    p.git('init', '-q', '-b', 'main');
    p.git('config', 'user.email', 'newcomer@example.com');
    p.git('config', 'user.name', 'Newcomer');
    p.write('package.json', '{ "name": "my-port", "private": true }\n');
    p.write('.gitignore', 'node_modules/\n');
    const installed = sh('npm', ['install', '--prefer-offline', join(packDir, info!.filename)], p.dir, env);
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    expect(JSON.parse(p.read('package.json')).dependencies).toHaveProperty('port-evidence');
  }, 600_000);

  it('npx evidence init writes the starting point, and it runs to MATCH at once', () => {
    const init = npx(['init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Wrote the c-ts template/);
    expect(init.stdout).toMatch(/^ {2}port\/trace\.mjs /m);
    expect(p.read('.gitignore')).toMatch(/^node_modules\/\n\n# evidence: .*\n\.evidence\/\nbuild\/\n$/);
    pipeline = p.read('pipeline.yaml');
    const run = npx(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/compare: MATCH: all keys match/);
  });

  it('a 20-line C program and its port, traced with the helpers init wrote, match key by key', () => {
    p.write('reference/main.c', C_PROGRAM);
    p.write('port/main.mjs', PORT);
    p.git('add', '-A');
    p.git('commit', '-qm', 'a projectile and its port');
    const run = npx(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/compare: MATCH: all keys match \(11 compared\)/);
    expect(p.read('reports/trace_c.log').split('\n')[0]).toBe('TRACE_C: launch_speed 50.2493781056044');
    expect(p.read('reports/summary.md')).toMatch(/\*\*MATCH\*\*/);
  });

  it('a bug planted in the port fails the run at the first key it touches', () => {
    p.write('port/main.mjs', PORT.replace('const g = 9.81', 'const g = 9.8'));
    const run = npx(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.gate);
    expect(run.stdout).toMatch(/compare: DIVERGENT: first divergence position#0 \(/);
    expect(run.stdout).toMatch(/meets fail_on: divergent/);
    const comparison = JSON.parse(p.read('reports/comparison.json')) as { items: Array<{ key: string; status: string }> };
    expect(comparison.items.find((i) => i.key === 'launch_speed')?.status).toBe('MATCH');
    expect(p.read('reports/summary.md')).toMatch(/position/);
  });

  it('runs from a subfolder: the pipeline is found above, the stages run at the root', () => {
    p.write('port/main.mjs', PORT);
    const run = npx(['run', '-v'], p.path('port'));
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toContain(`evidence: using ../pipeline.yaml (found above the current folder; project root ${p.dir})`);
    expect(run.stdout).toMatch(/compare: MATCH: all keys match \(11 compared\)/);
    expect(p.exists('port/reports')).toBe(false);
    const status = npx(['status'], p.path('reference'));
    expect(status.code).toBe(EXIT.ok);
    expect(status.stdout).toMatch(/^compare\s+up to date$/m);
  });

  const breakages: Array<[string, (y: string) => string, string, RegExp]> = [
    ['a YAML syntax error', (y) => y.replace('    cmd: ./build/reference\n', '    cmd: ./build/reference: now\n'), './build/reference: now', /YAML syntax error/],
    ['an unknown stage field', (y) => y.replace('    outs: [build/reference]\n', '    outs: [build/reference]\n    depends: [reference]\n'), 'depends:', /unknown key 'depends'/],
    ['a cycle', (y) => y.replace('    deps: [reference, port]\n', '    deps: [reference, port]\n    needs: [notes]\n'), 'snapshot:\n', /cycle between stages: snapshot → c_trace \(needs\), .* notes → snapshot \(needs\)/],
    ['a dep nothing makes', (y) => y.replace('    deps: [build/reference]\n', '    deps: [build/referense]\n'), 'build/referense', /dep 'build\/referense' of stage 'c_trace' does not exist and no stage produces it/],
  ];
  for (const [what, breakIt, at, message] of breakages) {
    it(`a pipeline.yaml with ${what} stops the run at its file:line:column, running nothing`, () => {
      const broken = breakIt(pipeline);
      expect(broken).not.toBe(pipeline);
      p.write('pipeline.yaml', broken);
      const before = readFileSync(p.path('reports/trace_c.log'), 'utf8');
      const run = npx(['run'], p.path('port'));
      expect(run.code).toBe(EXIT.usage);
      expect(run.stderr).toMatch(new RegExp(`^\\.\\./pipeline\\.yaml:${lineColumnOf(broken, at)}: error: `));
      expect(run.stderr).toMatch(message);
      expect(run.stdout).not.toMatch(/started/);
      expect(readFileSync(p.path('reports/trace_c.log'), 'utf8')).toBe(before);
      p.write('pipeline.yaml', pipeline);
    });
  }
});
