// Sweeps: a matrix stage expands into named instances that connect through their files, an
// aggregate gathers them, selection picks instances, caching is per instance, a bad matrix is an
// error at its line; and the default pipeline's sweep shows a planted bug in exactly the
// configurations whose port trace it changes.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, TestProject } from '../helpers/project.js';

const LOG = `echo "\${item.config}" >> "$RUNLOG"`;

function sweepProject(): TestProject {
  return new TestProject({
    'cfg/a.args': '1\n',
    'cfg/b.args': '2\n',
    'cfg/c.args': '3\n',
    'pipeline.yaml': `version: 1
params: { factor: 10 }
stages:
  trace:
    matrix: { config: { glob: "cfg/*.args" }, pixel: [7, 8] }
    cmd: ${LOG}; mkdir -p out && echo "\${item.pixel} $(cat cfg/\${item.config}.args)" > out/\${item.config}-\${item.pixel}.txt
    deps: ["cfg/\${item.config}.args"]
    outs: ["out/\${item.config}-\${item.pixel}.txt"]
  total:
    matrix: { config: { glob: "cfg/*.args" } }
    cmd: cat out/\${item.config}-7.txt out/\${item.config}-8.txt > out/\${item.config}.total
    deps: ["out/\${item.config}-*.txt"]
    outs: ["out/\${item.config}.total"]
  all:
    cmd: cat out/a.total out/b.total out/c.total > all.txt
    deps: ["out/\${item.config}.total"]
    outs: [all.txt]
`,
  });
}

describe('matrix stages', () => {
  it('expand into named instances linked through their files, gathered by an aggregate', () => {
    const p = sweepProject();
    const dag = p.cli(['dag']);
    expect(dag.code, dag.stderr).toBe(0);
    expect(dag.stdout).toContain('total@b ← trace@b,7 (out/b-*.txt), trace@b,8 (out/b-*.txt)');
    expect(dag.stdout).toContain('all ← total@a (out/a.total), total@b (out/b.total), total@c (out/c.total)');
    expect(dag.stdout.split('\n').filter(Boolean)).toHaveLength(10);
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.read('all.txt')).toBe('7 1\n8 1\n7 2\n8 2\n7 3\n8 3\n');
    expect(p.takeRuns()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });

  it('re-runs only the instances whose configuration changed, then what gathers them', () => {
    const p = sweepProject();
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    p.write('cfg/b.args', '20\n');
    const r = p.cli(['run']);
    expect(r.code).toBe(0);
    expect(p.takeRuns()).toEqual(['b', 'b']);
    expect(r.stdout).toMatch(/▶ total@b started/);
    expect(r.stdout).not.toMatch(/▶ total@[ac] started/);
    expect(r.stdout).toMatch(/▶ all started/);
    expect(p.read('all.txt')).toContain('7 20\n');
  });

  it('selects instances by glob and by axis value, and -p narrows an axis', () => {
    const p = sweepProject();
    const r = p.cli(['run', 'trace@config=c']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['c', 'c']);
    expect(p.cli(['run', 'total@a*']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['a', 'a']);
    expect(p.exists('out/b.total')).toBe(false);
    const narrowed = p.cli(['run', '-p', 'config=b', '--dry-run']);
    expect(narrowed.stdout).toMatch(/trace@b,7/);
    expect(narrowed.stdout).not.toMatch(/trace@a,7|total@c/);
    const bad = p.cli(['run', 'trace@conf=a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/stage 'trace' has no axis 'conf' \(did you mean 'config'\?\)/);
    const badValue = p.cli(['run', '-p', 'config=d']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/-p config=d: 'd' is not a value of matrix axis 'config'/);
  });
});

describe('matrix errors are located in the matrix definition', () => {
  const cases: Array<{ name: string; yaml: string; at: string; message: RegExp }> = [
    {
      name: 'an empty axis',
      yaml: `version: 1\nstages:\n  s:\n    matrix: { config: [] }\n    cmd: echo \${item.config}\n`,
      at: '4:23',
      message: /matrix axis 'config' of stage 's' has no values/,
    },
    {
      name: 'a glob that matches nothing',
      yaml: `version: 1\nstages:\n  s:\n    matrix:\n      config: { glob: "nothing/*.args" }\n    cmd: echo \${item.config}\n`,
      at: '5:15',
      message: /the glob 'nothing\/\*\.args' matches no file/,
    },
    {
      name: 'a name clash',
      yaml: `version: 1\nstages:\n  s:\n    matrix: { config: [a b, a_b] }\n    cmd: echo \${item.config}\n`,
      at: '4:5',
      message: /two instances would be named 's@a_b'/,
    },
    {
      name: 'an unknown ${item.x}',
      yaml: `version: 1\nstages:\n  s:\n    matrix: { config: [a] }\n    cmd: echo \${item.confg}\n`,
      at: '5:15',
      message: /\$\{item\.confg\}: stage 's' has no matrix axis 'confg'/,
    },
    {
      name: '${item.x} in a stage without a matrix, outside a list',
      yaml: `version: 1\nstages:\n  s:\n    matrix: { config: [a] }\n    cmd: echo \${item.config}\n  t:\n    cmd: echo \${item.config}\n`,
      at: '7:15',
      message: /\$\{item\.config\} in stage 't', which has no matrix/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = new TestProject({ 'pipeline.yaml': c.yaml });
      const r = p.cli(['validate']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`pipeline\\.yaml:${c.at}: error: `));
      expect(r.stderr).toMatch(c.message);
    });
  }
});

describe('the default pipeline sweeps the example', () => {
  let p: TestProject;
  beforeAll(() => {
    p = new TestProject({ '.gitignore': 'node_modules\n' });
    for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(REPO_ROOT, part), p.path(part), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), p.path('node_modules'));
    p.initGit();
  }, 120_000);

  const configs = ['cubic-default', 'mono-phi', 'multi-phi', 'ortho-beam', 'triclinic-hkl'];
  const portLogs = () => Object.fromEntries(configs.map((c) => [c, p.read(`reports/example/${c}/trace_ts.log`)]));
  const sweep = () => JSON.parse(p.read('reports/example/sweep.json')) as { instances: Array<{ stage: string; verdict: string; headline: { key: string } | null }> };

  it('matches everywhere without a bug, and a no-op re-run starts nothing', () => {
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(sweep().instances.map((i) => [i.stage, i.verdict])).toEqual(configs.map((c) => [`compare@${c}`, 'MATCH']));
    expect(p.read('reports/example/sweep.md')).toMatch(/\*\*5 of 5\*\* \(all\): no finding/);
    expect(p.cli(['run']).stdout).toMatch(/ok: 49 up to date/);
  });

  for (const inject of ['phi-carryover', 'pixel-center']) {
    it(`inject=${inject}: the sweep shows the bug in exactly the configurations whose port trace it changes`, () => {
      const clean = portLogs();
      const r = p.cli(['run', '-p', `inject=${inject}`]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const changed = configs.filter((c) => portLogs()[c] !== clean[c]);
      expect(changed.length).toBeGreaterThan(0);
      const flagged = sweep().instances.filter((i) => i.verdict !== 'MATCH').map((i) => i.stage.replace('compare@', ''));
      expect(flagged).toEqual(changed);
      p.cli(['run']);
    });
  }
});
