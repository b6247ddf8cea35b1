// What a new user's pipeline.yaml expects without reading the fine print: `with:` paths are edges,
// a missing schema file is a load error, `${root}`, `workdir: scratch`, params with choices, and
// validate's warning about a stage that reads another's out without listing it.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { TestProject } from '../helpers/project.js';

const SCRIPT = `export default {
  name: 'copy', version: '1',
  async run(ctx) {
    const { readFile, writeFile } = await import('node:fs/promises');
    await writeFile(ctx.primaryOut, (await readFile(ctx.with.table, 'utf8')).toUpperCase());
  },
};
`;

describe('with: paths are edges', () => {
  it('runs a parse-trace stage whose input is only named in with: after the stage writing it', () => {
    // Stages listed consumer-first: without the implied edge the parser would run first and fail.
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  parse:
    uses: parse-trace
    with: { input: logs/trace.log, output: out/trace.json, prefix: TRACE_C }
  trace:
    cmd: >-
      mkdir -p logs && printf 'TRACE_C: a 1.5\\nTRACE_C: b 2\\n' > logs/trace.log
    outs: [logs/trace.log]
`,
    });
    const dag = p.cli(['dag']);
    expect(dag.stdout).toContain('parse ← trace (logs/trace.log)');
    const r = p.cli(['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(p.read('out/trace.json')).records.map((x: { key: string }) => x.key)).toEqual(['a', 'b']);
    // The implied out is an out like any other: a second run is a no-op.
    expect(p.cli(['run']).stdout).toMatch(/up to date|skipped|unchanged/i);
  });

  it('takes a script stage\'s declared paths: as edges, and re-runs it when its input changes', () => {
    const p = new TestProject({
      'steps/copy.mjs': SCRIPT,
      'pipeline.yaml': `version: 1
stages:
  shout:
    uses: ./steps/copy.mjs
    with: { table: data/table.txt, output: out/loud.txt }
    paths: { inputs: [table] }
  make:
    cmd: mkdir -p data && cat src.txt > data/table.txt
    deps: [src.txt]
    outs: [data/table.txt]
`,
      'src.txt': 'quiet\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('out/loud.txt')).toBe('QUIET\n');
    p.write('src.txt', 'again\n');
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('out/loud.txt')).toBe('AGAIN\n');
  });

  it('refuses paths: on a built-in stage, naming the fields it declares itself', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  parse:
    uses: parse-trace
    with: { input: a.log, output: a.json }
    paths: { inputs: [input] }
`,
    });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pipeline\.yaml:6:5: error: stage 'parse': `paths` declares the path fields of a \.\/script stage/);
    expect(r.stderr).toMatch(/parse-trace declares its own: reads input; writes output/);
  });
});

describe('validate', () => {
  it('warns at the line where a stage names another stage\'s out without listing it in deps', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  make:
    cmd: echo x > made.txt
    outs: [made.txt]
  use:
    cmd: cat made.txt > used.txt
    outs: [used.txt]
  fine:
    cmd: cat made.txt > fine.txt
    deps: [made.txt]
    outs: [fine.txt]
`,
    });
    const r = p.cli(['validate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 warning');
    expect(r.stderr).toContain("pipeline.yaml:7:14: warning: stage 'use' names 'made.txt', an out of stage 'make', but does not list it in deps");
    expect(r.stderr).not.toContain("'fine'");
  });

  it('rejects an out schema that does not exist, at the schema key', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  a:
    cmd: echo '{}' > a.json
    outs:
      - { path: a.json, schema: schemas/nope.schema.json }
`,
    });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pipeline\.yaml:6:\d+: error: schema 'schemas\/nope\.schema\.json' does not exist/);
    // A file of the tool's own schemas/ is found without a copy in the project.
    p.write('pipeline.yaml', p.read('pipeline.yaml').replace('nope', 'trace'));
    expect(p.cli(['validate']).code).toBe(0);
  });
});

describe('${root} and workdir: scratch', () => {
  it('substitutes the project\'s absolute path, quoted for the shell', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  where:
    cmd: echo \${root} > where.txt
    env: { ROOT: "\${root}" }
    outs: [where.txt]
`,
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('where.txt').trim()).toBe(p.dir);
  });

  it('runs a stage in a scratch folder: its stray files vanish, its outs land in the project', () => {
    const p = new TestProject({
      'bin/tool.sh': '#!/bin/sh\necho cache > Fdump.bin\nmkdir -p out && cat in/data.txt > out/result.txt\n',
      'in/data.txt': 'payload\n',
      'pipeline.yaml': `version: 1
stages:
  sim:
    cmd: sh bin/tool.sh
    workdir: scratch
    deps: [bin/tool.sh, in/data.txt]
    outs: [out/result.txt]
`,
    });
    const r = p.cli(['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.read('out/result.txt')).toBe('payload\n');
    expect(p.exists('Fdump.bin')).toBe(false);
    expect(readdirSync(p.path('.evidence/scratch'))).toEqual([]);
  });

  it('fails a scratch stage that reads a file it does not list in deps', () => {
    const p = new TestProject({
      'in/data.txt': 'payload\n',
      'pipeline.yaml': `version: 1
stages:
  sim:
    cmd: cat in/data.txt > out.txt
    workdir: scratch
    outs: [out.txt]
`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(p.exists('out.txt')).toBe(false);
  });
});

describe('params with choices', () => {
  const yaml = `version: 1
params:
  config: { default: cubic, choices: [cubic, ortho, triclinic], description: which crystal }
stages:
  a:
    cmd: echo \${params.config} > a.txt
    outs: [a.txt]
`;

  it('blames a -p value outside the choices on the command line, with a did-you-mean', () => {
    const p = new TestProject({ 'pipeline.yaml': yaml });
    const r = p.cli(['run', '-p', 'config=orhto']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-p config=orhto: 'orhto' is not one of the choices of param 'config'");
    expect(r.stderr).toContain("did you mean 'ortho'?");
    expect(r.stderr).not.toMatch(/pipeline\.yaml:\d+/);
    expect(p.exists('a.txt')).toBe(false);
    expect(p.cli(['run', '-p', 'config=ortho']).code).toBe(0);
    expect(p.read('a.txt').trim()).toBe('ortho');
  });

  it('rejects a default outside the choices at the default', () => {
    const p = new TestProject({ 'pipeline.yaml': yaml.replace('default: cubic', 'default: hexa') });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pipeline\.yaml:3:\d+: error: param 'config': default hexa is not one of its choices/);
  });
});
