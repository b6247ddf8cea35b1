// How stages execute: quoting, argv lists, script stages and their context, failures and the
// failure policy, out checks and schema validation.
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TestProject } from '../helpers/project.js';
import { exitOf, waitFor } from '../helpers/processes.js';

describe('stage execution', () => {
  it('keeps a hostile param one literal argument in a shell command, and expands a list into separate arguments', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
params: { name: "; touch pwned #", pixel: [685, 1039] }
stages:
  echo:
    cmd: 'printf "[%s]\\n" \${params.name} \${params.pixel} > out.txt'
    outs: [out.txt]
`,
    });
    const r = p.cli(['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.read('out.txt')).toBe('[; touch pwned #]\n[685]\n[1039]\n');
    expect(p.exists('pwned')).toBe(false);
  });

  it('runs an argv list without a shell, params expanded into elements', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
params: { words: [a b, c] }
stages:
  echo:
    cmd: [node, -e, 'require("fs").writeFileSync("out.json", JSON.stringify(process.argv.slice(1)))', '\${params.words}', '$HOME']
    outs: [out.json]
`,
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(JSON.parse(p.read('out.json'))).toEqual(['a b', 'c', '$HOME']);
  });

  it('hands a user script stage the same context as a built-in: inputs, outs, params, env, logger, signal and zx $', () => {
    const p = new TestProject({
      'stages/my-step.mjs': `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export const inputSchema = { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } };
export default {
  name: 'my-step', version: '1', inputSchema,
  async run(ctx) {
    ctx.log.info('hello from ' + ctx.stage);
    const out = await ctx.$\`echo \${ctx.with.greeting}\`;
    writeFileSync(join(ctx.root, ctx.outs[0]), JSON.stringify({
      with: ctx.with, params: ctx.params, env: ctx.env, shell: out.stdout.trim(),
      aborted: ctx.signal.aborted, cwd: ctx.cwd === ctx.root, stages: ctx.pipeline.stages.map((s) => s.name),
    }));
  },
};
`,
      'pipeline.yaml': `version: 1
params: { who: world }
env: { LC_NUMERIC: C }
stages:
  step:
    uses: ./stages/my-step.mjs
    with: { greeting: 'hi \${params.who}' }
    outs: [out/step.json]
`,
    });
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step: hello from step/);
    const got = JSON.parse(p.read('out/step.json'));
    expect(got).toEqual({ with: { greeting: 'hi world' }, params: { who: 'world' }, env: { LC_NUMERIC: 'C' }, shell: 'hi world', aborted: false, cwd: true, stages: ['step'] });
    // The script is an input: editing it re-runs the stage.
    expect(p.cli(['run']).stdout).toMatch(/step up to date/);
    p.write('stages/my-step.mjs', p.read('stages/my-step.mjs').replace('hello from', 'hi from'));
    expect(p.cli(['run']).stdout).toMatch(/step: hi from step/);
  });

  it('lets a user script import the stage API by package name: outputOf, atomic writes and StageFailure', () => {
    const p = new TestProject({
      'stages/step.mjs': `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputOf, writeFileAtomic, StageFailure } from 'port-evidence/stage-api';
export default {
  name: 'step', version: '1',
  async run(ctx) {
    const text = readFileSync(join(ctx.cwd, ctx.with.input), 'utf8');
    if (!text.trim()) throw new StageFailure('require', 'the input is empty');
    await writeFileAtomic(outputOf(ctx), text.toUpperCase());
  },
};
`,
      'in.txt': 'hello\n',
      'pipeline.yaml': `version: 1
stages:
  step:
    uses: ./stages/step.mjs
    with: { input: in.txt, output: out/step.txt }
    deps: [in.txt]
    outs: [out/step.txt]
`,
    });
    // As a project that installed evidence has it: node_modules/port-evidence is the package.
    mkdirSync(p.path('node_modules'));
    symlinkSync(REPO_ROOT, p.path('node_modules/port-evidence'));
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.read('out/step.txt')).toBe('HELLO\n');
    p.write('in.txt', '  \n');
    const failed = p.cli(['run', '--json']);
    expect(failed.code).toBe(1);
    const event = failed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'stage-failed');
    expect(event).toMatchObject({ stage: 'step', reason: 'require', message: 'the input is empty' });
  });

  it("fails a script stage whose with: breaks the script's input schema", () => {
    const p = new TestProject({
      'stages/s.mjs': `export const inputSchema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };
export async function run() {}
`,
      'pipeline.yaml': `version: 1\nstages:\n  s:\n    uses: ./stages/s.mjs\n    with: { n: nope }\n    outs: [x.txt]\n`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/s failed: with: does not match the input schema of .\/stages\/s.mjs: \/n must be number/);
  });

  it('fails with exit 1 and the stderr tail when a command fails, starting nothing new; --keep-going runs the independent rest', async () => {
    const yaml = `version: 1
stages:
  bad:
    cmd: 'echo bad >> "$RUNLOG"; echo "something broke" >&2; exit 3'
    outs: [bad.txt]
  after_bad:
    cmd: 'echo after_bad >> "$RUNLOG"; touch after.txt'
    deps: [bad.txt]
    outs: [after.txt]
  slow_independent:
    cmd: 'i=0; while [ ! -f "$GO" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo slow_independent >> "$RUNLOG"; touch slow.txt'
    outs: [slow.txt]
  later_independent:
    cmd: 'echo later_independent >> "$RUNLOG"; touch later.txt'
    deps: [slow.txt]
    outs: [later.txt]
`;
    // slow_independent is still running when bad fails: it waits for the test's go-ahead, given
    // only once the run has reported the failure.
    const p = new TestProject({ 'pipeline.yaml': yaml });
    const go = join(p.dir, '..', 'go');
    const child = p.spawnCli(['run', '-j', '2'], { GO: go });
    let progress = '';
    child.stdout!.on('data', (d: Buffer) => (progress += d.toString()));
    const exited = exitOf(child);
    await waitFor(() => /bad failed/.test(progress), 20_000, "the run to report bad's failure");
    writeFileSync(go, '');
    const r = await exited;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad failed: exited with code 3/);
    expect(r.stdout).toMatch(/│ something broke/);
    expect(r.stdout).toMatch(/after_bad not run: upstream 'bad' failed/);
    // The running independent stage finishes; nothing new starts after the failure.
    expect(p.takeRuns()).toEqual(['bad', 'slow_independent']);

    const p2 = new TestProject({ 'pipeline.yaml': yaml });
    const go2 = join(p2.dir, '..', 'go');
    writeFileSync(go2, '');
    const k = p2.cli(['run', '-j', '2', '--keep-going'], { GO: go2 });
    expect(k.code).toBe(1);
    expect(p2.takeRuns()).toEqual(['bad', 'later_independent', 'slow_independent']);
  });

  it('fails a stage that exits 0 without producing a declared out, naming the out', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  lazy:\n    cmd: 'true'\n    outs: [never.txt]\n` });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/lazy failed: did not produce declared out: never.txt/);
    expect(p.exists('evidence.lock') ? p.read('evidence.lock') : '').not.toMatch(/lazy/);
  });

  it('does not take an out left from an earlier run for this run\'s product', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  once:\n    cmd: 'test -f out.txt || cp input.txt out.txt'\n    deps: [input.txt]\n    outs: [out.txt]\n`,
      'input.txt': 'v1\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    // The out as an earlier run left it: written a minute ago, past the runner's margin for coarse
    // mtimes (instead of waiting for that margin to pass).
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(p.path('out.txt'), aMinuteAgo, aMinuteAgo);
    p.write('input.txt', 'v2\n');
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/once failed: did not produce declared out: out.txt \(left from an earlier run: not rewritten by this one\)/);
    expect(p.cli(['status', '--check']).code).toBe(1);
  });

  it('fails a stage whose out breaks its schema, with the JSON path, and records nothing', () => {
    const p = new TestProject({
      'schemas/thing.schema.json': JSON.stringify({ type: 'object', required: ['count'], properties: { count: { type: 'integer' } } }),
      'pipeline.yaml': `version: 1\nstages:\n  make:\n    cmd: 'echo "{\\"count\\": \\"three\\"}" > thing.json'\n    outs: [{ path: thing.json, schema: schemas/thing.schema.json }]\n`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/make failed: out 'thing.json' breaks schemas\/thing.schema.json: \/count must be integer/);
    expect(p.cli(['status', '--check']).code).toBe(1);
  });

  it('captures stdout and stderr to declared files that count as outs', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  talk:\n    cmd: 'echo out; echo err >&2'\n    stdout: logs/talk.out\n    stderr: logs/talk.err\n  use:\n    cmd: 'cat logs/talk.out > copy.txt'\n    deps: [logs/talk.out]\n    outs: [copy.txt]\n`,
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('logs/talk.out')).toBe('out\n');
    expect(p.read('logs/talk.err')).toBe('err\n');
    expect(p.read('copy.txt')).toBe('out\n');
    expect(p.cli(['dag']).stdout).toMatch(/use ← talk \(logs\/talk.out\)/);
  });

  it('prints the graph as text, Mermaid and dot', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  a: { cmd: 'touch a.txt', outs: [a.txt] }\n  b: { cmd: 'touch b.txt', deps: [a.txt], outs: [b.txt], needs: [c] }\n  c: { cmd: 'true' }\n`,
    });
    const mermaid = p.cli(['dag', '--mermaid']).stdout;
    expect(mermaid).toMatch(/^flowchart TD/);
    expect(mermaid).toContain('a -->|a.txt| b');
    expect(mermaid).toContain('c -->|needs| b');
    expect(p.cli(['dag', '--dot']).stdout).toMatch(/"a" -> "b" \[label="a.txt"\]/);
  });

  it('answers --help on every verb and --version', () => {
    const p = new TestProject({});
    for (const verb of ['run', 'status', 'dag', 'validate', 'parse', 'compare', 'history', 'restore']) {
      const r = p.cli([verb, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: evidence ${verb}`));
    }
    expect(p.cli(['--help']).stdout).toMatch(/Exit codes/);
    expect(p.cli(['--version']).stdout).toMatch(/^evidence \d+\.\d+\.\d+/);
  });

  it('prints events as JSON lines with --json', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  a: { cmd: 'touch a.txt', outs: [a.txt] }\n` });
    const lines = p.cli(['run', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => e.type)).toEqual(['run-started', 'stage-started', 'stage-done', 'run-finished']);
  });
});
