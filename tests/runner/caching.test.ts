// The runner's caching contract, end to end with the compiled CLI and real processes.
import { mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const PIPELINE = `version: 1
params: { factor: 2, label: x }
stages:
  gen:
    cmd: 'echo gen >> "$RUNLOG"; cp input/a.txt out/gen.txt'
    deps: [input/a.txt]
    outs: [out/gen.txt]
  other:
    cmd: 'echo other >> "$RUNLOG"; cat input/b.txt > out/other.txt; echo \${params.label} >> out/other.txt'
    deps: [input/b.txt]
    outs: [out/other.txt]
  use:
    cmd: 'echo use >> "$RUNLOG"; cat out/gen.txt out/other.txt > out/use.txt; echo \${params.factor} >> out/use.txt'
    deps: [out/gen.txt, out/other.txt]
    outs: [out/use.txt]
  tail:
    cmd: 'echo tail >> "$RUNLOG"; wc -l < out/use.txt > out/tail.txt'
    deps: [out/use.txt]
    outs: [out/tail.txt]
`;

function project(): TestProject {
  return new TestProject({ 'pipeline.yaml': PIPELINE, 'input/a.txt': 'alpha\n', 'input/b.txt': 'beta\n' });
}

describe('caching', () => {
  it('a second run starts no stage process and reports every stage up to date', () => {
    const p = project();
    const first = p.cli(['run']);
    expect(first.code, first.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'other', 'tail', 'use']);
    const second = p.cli(['run']);
    expect(second.code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    for (const s of ['gen', 'other', 'use', 'tail']) expect(second.stdout).toMatch(new RegExp(`${s} up to date`));
  });

  it('re-runs exactly the stages downstream of an edited dep, and restores from the cache when the edit is reverted', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    p.write('input/a.txt', 'alpha 2\n');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'tail', 'use']);
    expect(p.read('out/use.txt')).toContain('alpha 2');

    p.write('input/a.txt', 'alpha\n');
    const back = p.cli(['run']);
    expect(back.code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(back.stdout).toMatch(/gen restored from cache/);
    expect(back.stdout).toMatch(/use restored from cache/);
    expect(p.read('out/use.txt')).toBe('alpha\nbeta\nx\n2\n');
  });

  it('re-runs only the stages whose definition uses a changed param, by -p and by editing pipeline.yaml', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    expect(p.cli(['run', '-p', 'factor=3']).code).toBe(0);
    // gen and other do not use the param; tail re-runs only because use's out changed.
    expect(p.takeRuns()).toEqual(['tail', 'use']);
    expect(p.read('out/use.txt')).toMatch(/3\n$/);

    p.write('pipeline.yaml', PIPELINE.replace('label: x', 'label: y'));
    expect(p.cli(['run', '-p', 'factor=3']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['other', 'tail', 'use']);
  });

  it('stops propagation when a re-run stage produces byte-identical outs (early cutoff)', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  normalise:
    cmd: 'echo normalise >> "$RUNLOG"; tr -s " " < input/raw.txt > out/norm.txt'
    deps: [input/raw.txt]
    outs: [out/norm.txt]
  consume:
    cmd: 'echo consume >> "$RUNLOG"; wc -c < out/norm.txt > out/count.txt'
    deps: [out/norm.txt]
    outs: [out/count.txt]
`,
      'input/raw.txt': 'a b\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    // Different input, same normalised output.
    p.write('input/raw.txt', 'a    b\n');
    const r = p.cli(['run']);
    expect(r.code).toBe(0);
    expect(p.takeRuns()).toEqual(['normalise']);
    expect(r.stdout).toMatch(/consume up to date/);
  });

  it('orders by needs without making the upstream an input: its new outs do not re-run the stage', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  stamp:
    cmd: 'echo stamp >> "$RUNLOG"; cat input/version.txt > out/stamp.txt'
    deps: [input/version.txt]
    outs: [out/stamp.txt]
  work:
    cmd: 'echo work >> "$RUNLOG"; test -f out/stamp.txt && cp input/data.txt out/work.txt'
    deps: [input/data.txt]
    outs: [out/work.txt]
    needs: [stamp]
`,
      'input/version.txt': '1\n',
      'input/data.txt': 'd\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['stamp', 'work']);
    p.write('input/version.txt', '2\n');
    const r = p.cli(['run']);
    expect(r.code).toBe(0);
    expect(p.takeRuns()).toEqual(['stamp']);
    expect(r.stdout).toMatch(/work up to date/);
  });

  it('runs two independent stages at the same time with -j 2', () => {
    // Each stage says it started, then waits (up to 20 s) for the other to have started: run one
    // after the other, the first would give up and fail. No wall-clock bound is involved.
    const rendezvous = (me: string, other: string) =>
      `touch "$MARKS/${me}"; i=0; while [ ! -f "$MARKS/${other}" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; test -f "$MARKS/${other}" && echo ${me} > ${me}.txt`;
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  left:
    cmd: '${rendezvous('left', 'right')}'
    outs: [left.txt]
  right:
    cmd: '${rendezvous('right', 'left')}'
    outs: [right.txt]
`,
    });
    const marks = join(p.dir, '..', 'marks');
    mkdirSync(marks);
    const r = p.cli(['run', '-j', '2'], { MARKS: marks });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.read('left.txt')).toBe('left\n');
    expect(p.read('right.txt')).toBe('right\n');
  });

  it('says in status when an out was deleted or edited by hand, and run brings it back', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    p.remove('out/gen.txt');
    p.write('out/tail.txt', 'tampered\n');
    const st = p.cli(['status']);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/gen\s+would restore: out 'out\/gen.txt' is missing/);
    expect(st.stdout).toMatch(/tail\s+would restore: out 'out\/tail.txt' was modified/);
    expect(st.stdout).toMatch(/use\s+up to date/);
    const json = JSON.parse(p.cli(['status', '--json']).stdout);
    expect(json.upToDate).toBe(false);
    expect(p.cli(['status', '--check']).code).toBe(1);

    const r = p.cli(['run']);
    expect(r.code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(p.read('out/gen.txt')).toBe('alpha\n');
    expect(p.read('out/tail.txt').trim()).toBe('4');
    expect(p.cli(['status', '--check']).code).toBe(0);
  });

  it('status names the dep, param and command that changed', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.write('input/b.txt', 'beta 2\n');
    const st = p.cli(['status', '-p', 'factor=5']).stdout;
    expect(st).toMatch(/other\s+would run: dep 'input\/b.txt' changed/);
    expect(st).toMatch(/use\s+would run: upstream 'other' would run/);
    p.write('input/b.txt', 'beta\n');
    const st3 = p.cli(['status', '-p', 'factor=5']).stdout;
    expect(st3).toMatch(/use\s+would run: .*param factor changed \(2 → 5\)/);
  });

  it('--force re-runs everything, --force STAGE only that stage (and what its outs change)', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    expect(p.cli(['run', '--force']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'other', 'tail', 'use']);
    expect(p.cli(['run', '--force', 'gen']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['gen']);
  });

  it('runs only the targets and what is upstream of them', () => {
    const p = project();
    const r = p.cli(['run', 'use']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'other', 'use']);
  });

  it('--dry-run runs nothing and says what would run', () => {
    const p = project();
    const r = p.cli(['run', '--dry-run']);
    expect(r.code).toBe(0);
    expect(p.takeRuns()).toEqual([]);
    expect(r.stdout).toMatch(/gen would run: never ran/);
    expect(p.exists('out/gen.txt')).toBe(false);
  });

  it('does not re-read unchanged files on a no-op run (stat cache), yet notices an edit that keeps the size', () => {
    const p = project();
    // Inputs written a minute ago: past the racy window, so the stat cache trusts its entries at
    // once (instead of waiting a second for the window to pass).
    const aMinuteAgo = new Date(Date.now() - 60_000);
    for (const f of ['input/a.txt', 'input/b.txt']) utimesSync(p.path(f), aMinuteAgo, aMinuteAgo);
    expect(p.cli(['run']).code).toBe(0);
    expect(p.cli(['run']).code).toBe(0);
    const cache = JSON.parse(p.read('.evidence/stat-cache.json'));
    expect(Object.keys(cache.entries).some((k) => k.endsWith('input/a.txt'))).toBe(true);
    p.takeRuns();
    p.write('input/a.txt', 'ALPHA\n'); // same size, new mtime
    expect(p.cli(['run']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'tail', 'use']);
  });

  it('writes evidence.lock with fingerprints, dep hashes, params and out hashes', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    const lock = p.read('evidence.lock');
    expect(lock).toMatch(/use:\n\s+fingerprint: "?[0-9a-f]{64}"?/);
    expect(lock).toMatch(/input\/a.txt: "?[0-9a-f]{64}"?/);
    expect(lock).toMatch(/params:\n\s+factor: 2/);
    expect(lock).toMatch(/out\/use.txt:\n\s+hash: "?[0-9a-f]{64}"?\n\s+size: \d+/);
    expect(p.read('.evidence/.gitignore')).toMatch(/^\*$/m);
  });
});
