// Every bad pipeline gets a located error (file:line:column, the source line, a caret), exit 2, and
// no stage runs.
import { describe, expect, it } from 'vitest';
import { symlinkSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestProject } from '../helpers/project.js';

interface Case {
  name: string;
  yaml: string;
  files?: Record<string, string>;
  setup?: (p: TestProject) => void;
  /** line:column expected in the diagnostic. */
  at: string;
  message: RegExp;
  hint?: RegExp;
}

const RAN = `'echo ran >> "$RUNLOG"; echo x > a.txt'`;

/** Ten levels of nine aliases each: 9^10 values once expanded. */
function bomb(): string {
  let text = '  l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 10; i++) text += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
  return text;
}

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    yaml: `version: 1\nstages:\n  a:\n    cmd: [unclosed\n    outs: [a.txt]\n`,
    at: '',
    message: /YAML syntax error/,
  },
  {
    name: 'unknown key with a did-you-mean',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outz: [a.txt]\n`,
    at: '5:5',
    message: /unknown key 'outz'/,
    hint: /did you mean 'outs'\?/,
  },
  {
    name: 'unknown top-level key',
    yaml: `version: 1\nparamz: {}\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n`,
    at: '2:1',
    message: /unknown key 'paramz'/,
    hint: /did you mean 'params'\?/,
  },
  {
    name: 'unknown stage kind',
    yaml: `version: 1\nstages:\n  a:\n    uses: parse-traces\n    outs: [a.txt]\n`,
    at: '4:11',
    message: /unknown stage kind 'parse-traces'/,
    hint: /did you mean 'parse-trace'\?/,
  },
  {
    name: 'a cycle, naming every edge',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    deps: [c.txt]\n    outs: [a.txt]\n  b:\n    cmd: 'true'\n    deps: [a.txt]\n    outs: [b.txt]\n  c:\n    cmd: 'true'\n    deps: [b.txt]\n    outs: [c.txt]\n`,
    at: '3:3',
    message: /cycle between stages: a → b \(dep 'a.txt'\), b → c \(dep 'b.txt'\), c → a \(dep 'c.txt'\)/,
  },
  {
    name: 'two stages declaring the same out',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n  b:\n    cmd: 'true'\n    outs: [a.txt]\n`,
    at: '8:12',
    message: /out 'a.txt' of stage 'b' is also declared by stage 'a'/,
  },
  {
    name: 'a dep that nothing produces and that does not exist',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    deps: [input/missing.txt]\n    outs: [a.txt]\n`,
    at: '5:12',
    message: /dep 'input\/missing.txt' of stage 'a' does not exist and no stage produces it/,
  },
  {
    name: 'an absolute out',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [/tmp/a.txt]\n`,
    at: '5:12',
    message: /out '\/tmp\/a.txt' is an absolute path/,
  },
  {
    name: 'an out escaping the project root',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [../a.txt]\n`,
    at: '5:12',
    message: /out '..\/a.txt' escapes the project root/,
  },
  {
    name: 'an out through a symlink pointing outside',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [link/a.txt]\n`,
    setup: (p) => symlinkSync(mkdtempSync(join(tmpdir(), 'outside-')), p.path('link')),
    at: '5:12',
    message: /out 'link\/a.txt' goes through a symlink that points outside the project/,
  },
  {
    name: 'a ${params.x} that does not exist',
    yaml: `version: 1\nparams: { pixel: [1, 2] }\nstages:\n  a:\n    cmd: 'echo \${params.pixle} > a.txt'\n    outs: [a.txt]\n`,
    at: '5:16',
    message: /\$\{params.pixle\} names no param/,
    hint: /did you mean 'pixel'\?/,
  },
  {
    name: 'an unknown needs',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    needs: [snapshott]\n    outs: [a.txt]\n  snapshot:\n    cmd: 'true'\n`,
    at: '5:13',
    message: /needs 'snapshott', which is not a stage/,
    hint: /did you mean 'snapshot'\?/,
  },
  {
    name: 'a built-in stage input that breaks its schema',
    yaml: `version: 1\nstages:\n  a:\n    uses: parse-trace\n    with: { input: 3 }\n    outs: [a.json]\n`,
    at: '5:20',
    message: /input must be string/,
  },
  {
    name: 'an alias bomb (billion laughs), at an alias, without expanding it',
    yaml: `version: 1\nparams:\n${bomb()}stages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n`,
    at: '9:12',
    message: /aliases expand this file to more than 100000 values/,
    hint: /alias bomb/,
  },
  {
    name: 'an alias that names no anchor',
    yaml: `version: 1\nstages:\n  a:\n    cmd: *run\n    outs: [a.txt]\n`,
    at: '4:10',
    message: /alias '\*run' names no anchor/,
    hint: /an anchor \(&run\) must come before its alias/,
  },
  {
    name: 'block nesting 10,000 levels deep',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n    env:\n${Array.from({ length: 10_000 }, (_, i) => `${' '.repeat(6 + i)}k${i}:`).join('\n')}\n`,
    at: '68:68',
    message: /nesting deeper than 64 levels/,
  },
  {
    name: "a '__proto__' key",
    yaml: `version: 1\nparams:\n  __proto__: { x: 1 }\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n`,
    at: '3:3',
    message: /'__proto__' cannot be a key/,
    hint: /rename it/,
  },
  {
    name: 'a duplicate stage',
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n  a:\n    cmd: 'true'\n`,
    at: '6:3',
    message: /duplicate key 'a'/,
    hint: /the first is on line 3/,
  },
  {
    name: "a cwd of '..'",
    yaml: `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    cwd: ..\n    outs: [a.txt]\n`,
    at: '5:10',
    message: /cwd '..' escapes the project root/,
  },
  {
    name: 'a built-in stage output path outside the project',
    yaml: `version: 1\nstages:\n  snap:\n    uses: snapshot-config\n    with: { output: ../snapshot.json }\n    outs: [snapshot.json]\n`,
    at: '5:21',
    message: /with.output of stage 'snap' '..\/snapshot.json' escapes the project root/,
  },
  {
    name: 'a reports.manifest outside the project',
    yaml: `version: 1\nreports: { manifest: ../manifest.json }\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n`,
    at: '2:22',
    message: /reports.manifest '..\/manifest.json' escapes the project root/,
  },
  {
    name: 'a param in backquotes of a shell command',
    yaml: `version: 1\nparams: { x: 1 }\nstages:\n  a:\n    cmd: echo \`echo \${params.x}\` > a.txt\n    outs: [a.txt]\n`,
    at: '5:21',
    message: /\$\{params.x\} in a shell command sits in backquotes/,
    hint: /use \$\( ... \) instead of backquotes/,
  },
  {
    name: 'a wrong version',
    yaml: `version: 2\nstages:\n  a:\n    cmd: ${RAN}\n`,
    at: '1:10',
    message: /version must be 1/,
  },
];

describe('pipeline diagnostics', () => {
  for (const c of cases) {
    it(`reports ${c.name} with its location and exit 2, running nothing`, () => {
      const p = new TestProject({ 'pipeline.yaml': c.yaml, ...(c.files ?? {}) });
      c.setup?.(p);
      const r = p.cli(['run']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(p.takeRuns()).toEqual([]);
      const first = r.stderr.split('\n')[0]!;
      expect(first).toMatch(c.at ? new RegExp(`^pipeline\\.yaml:${c.at}: error: `) : /^pipeline\.yaml:\d+:\d+: error: /);
      expect(r.stderr).toMatch(c.message);
      if (c.hint) expect(r.stderr).toMatch(c.hint);
      // The offending source line and a caret under it.
      const [, line] = /^pipeline\.yaml:(\d+):(\d+)/.exec(first)!;
      const src = c.yaml.split('\n')[Number(line) - 1]!;
      expect(r.stderr).toContain(`| ${src}`);
      expect(r.stderr).toMatch(/\|\s*\^+/);
      // validate says the same.
      expect(p.cli(['validate']).code).toBe(2);
    });
  }

  it('reports invalid UTF-8 with its byte offset, at its line and column, and exit 2', () => {
    const p = new TestProject({});
    writeFileSync(p.path('pipeline.yaml'), Buffer.concat([Buffer.from(`version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [caf`), Buffer.from([0xe9]), Buffer.from('.txt]\n')]));
    const r = p.cli(['run']);
    expect(r.code).toBe(2);
    expect(p.takeRuns()).toEqual([]);
    expect(r.stderr.split('\n')[0]).toBe(`pipeline.yaml:5:15: error: invalid UTF-8: byte 0xE9 at byte offset ${34 + RAN.length + 14}`);
    expect(r.stderr).toMatch(/\n\s+\|\s{15}\^\n/);
    expect(r.stderr).toContain('hint: save pipeline.yaml as UTF-8');
    expect(p.cli(['validate']).code).toBe(2);
  });

  it('validates a chain of 6,000 stages, and names each edge of a cycle through all of them', () => {
    const chain = (cycle: boolean) => {
      let text = 'version: 1\nstages:\n';
      for (let i = 0; i < 6000; i++) text += `  s${i}:\n    cmd: 'true'\n    needs: [s${i ? i - 1 : 5999}]\n`.replace(cycle || i ? '' : '    needs: [s5999]\n', '');
      return text;
    };
    const p = new TestProject({ 'pipeline.yaml': chain(false) });
    const ok = p.cli(['validate']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/valid \(6000 stages\)/);
    p.write('pipeline.yaml', chain(true));
    const cycle = p.cli(['validate']);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toMatch(/^pipeline\.yaml:3:3: error: cycle between stages: s0 → s1 \(needs\), s1 → s2 \(needs\), /);
    expect(cycle.stderr).toContain('s5998 → s5999 (needs), s5999 → s0 (needs)');
  });

  it('reports a missing pipeline file with where it looked and a hint', () => {
    const p = new TestProject({});
    const r = p.cli(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no pipeline.yaml in ${p.dir} or any folder above it (searched up to /)`);
    expect(r.stderr).toMatch(/evidence init/);
    const named = p.cli(['run', '--file', 'other.yaml']);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/no pipeline file 'other.yaml'/);
  });

  it('rejects an unknown -p param as a usage error', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nparams: { pixel: 1 }\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n` });
    const r = p.cli(['run', '-p', 'pixle=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no param 'pixle'/);
    expect(r.stderr).toMatch(/did you mean 'pixel'/);
    expect(p.takeRuns()).toEqual([]);
  });

  it('rejects unknown verbs, flags and stage names with exit 2', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: ${RAN}\n    outs: [a.txt]\n` });
    expect(p.cli(['frobnicate']).code).toBe(2);
    expect(p.cli(['run', '--no-such-flag']).code).toBe(2);
    const r = p.cli(['run', 'nosuchstage']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no stage matches 'nosuchstage'/);
    expect(p.takeRuns()).toEqual([]);
  });
});
