// The CLI's own messages, through the real CLI: a mistyped option gets a clean message with the
// nearest known option and exit 2; an error of the command line carries no made-up file location;
// status names the field of a stage that changed; verify finds the pipeline's own manifest.
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const SIMPLE = `version: 1
params: { config: cubic }
stages:
  a:
    cmd: 'echo \${params.config} > a.txt'
    outs: [a.txt]
`;

describe('messages of the command line', () => {
  it('answers an unknown option with the nearest option of that verb, and exit 2', () => {
    const p = new TestProject({ 'pipeline.yaml': SIMPLE });
    const cases: Array<[string[], string]> = [
      [['run', '--jbos', '2'], "evidence run: unknown option '--jbos'; did you mean --jobs? (evidence run --help lists the options)"],
      [['status', '--chek'], "evidence status: unknown option '--chek'; did you mean --check? (evidence status --help lists the options)"],
      [['run', '-dry-run'], "evidence run: unknown option '-d'; did you mean --dry-run? (evidence run --help lists the options)"],
      [['run', '--zzzzzz'], "evidence run: unknown option '--zzzzzz' (evidence run --help lists the options)"],
      [['run', '--json=yes'], 'evidence run: --json takes no value'],
      [['run', '-j'], 'evidence run: -j/--jobs needs a value'],
      [['stauts'], "evidence: unknown command 'stauts'; did you mean 'status'? Commands: run, status, dag, validate, parse, compare, history, restore, gc, watch, verify, show, init, push, pull. See evidence --help."],
    ];
    for (const [args, message] of cases) {
      const r = p.cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(message + '\n');
      expect(r.stdout).toBe('');
    }
    // The catalog's own commands get the same treatment.
    expect(p.cli(['compare', '--tl', '1e-3', 'a', 'b']).stderr).toMatch(/^evidence compare: unknown option '--tl'; did you mean --tol\?/);
    expect(p.takeRuns()).toEqual([]);
  });

  it('prints an error of the command line without a file location', () => {
    const p = new TestProject({ 'pipeline.yaml': SIMPLE });
    for (const verb of ['run', 'status', 'validate']) {
      const r = p.cli([verb, '-p', 'confg=x']);
      expect(r.code, verb).toBe(2);
      expect(r.stderr, verb).toBe("error: -p confg=...: the pipeline has no param 'confg'\n  hint: did you mean 'config'?\n");
    }
    const missing = p.cli(['validate', '-f', 'nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^nope\.yaml: error: no pipeline file 'nope\.yaml'/);
    expect(missing.stderr).not.toMatch(/:0:0/);
    // A located error keeps its file:line:column.
    p.write('bad.yaml', 'version: 1\nstages:\n  a:\n    cmd: 3\n');
    expect(p.cli(['validate', '-f', 'bad.yaml']).stderr).toMatch(/^bad\.yaml:4:\d+: error: /);
  });

  it('ends a dry run with what would run, not with what ran', () => {
    const p = new TestProject({
      'pipeline.yaml': `${SIMPLE}  b:
    cmd: 'cat a.txt > b.txt'
    deps: [a.txt]
    outs: [b.txt]
`,
    });
    const r = p.cli(['run', '-n']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^dry run: would run 2 in [0-9.]+ s$/);
    expect(p.takeRuns()).toEqual([]);
    expect(p.exists('a.txt')).toBe(false);
    const json = p.cli(['run', '-n', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.at(-1)).toMatchObject({ type: 'run-finished', dryRun: true, counts: { done: 2 } });
  });
});

describe('status: what changed in a stage', () => {
  it('names the with: field, the param and the words of a command that changed, never the whole definition cut short', () => {
    const step = `import { writeFileSync } from 'node:fs';
export default { name: 'step', version: '1', async run(ctx) { writeFileSync(ctx.primaryOut, JSON.stringify(ctx.with)); } };
`;
    const pipeline = (tol: string, config: string, flag: string) => `version: 1
params: { config: ${config} }
stages:
  a:
    cmd: 'echo \${params.config} ${flag} > a.txt'
    outs: [a.txt]
  cmp:
    uses: ./step.mjs
    with: { reference: ref.txt, port: ref.txt, tolerance: { rel: ${tol}, keys: { "F_*": { abs: 1 } } }, aliases: { a: b, c: d, e: f, g: h }, api_token: "t0ken-\${params.config}" }
    deps: [ref.txt]
    outs: [out/cmp.json]
`;
    const p = new TestProject({ 'step.mjs': step, 'ref.txt': 'r\n', 'pipeline.yaml': pipeline('1.0e-6', 'cubic', '--fast') });
    expect(p.cli(['run']).code).toBe(0);
    p.write('pipeline.yaml', pipeline('1.0e-9', 'triclinic', '--slow'));
    const r = p.cli(['status']);
    expect(r.code).toBe(0);
    const line = (stage: string) => r.stdout.split('\n').find((l) => l.startsWith(stage + ' '))!;
    expect(line('a')).toMatch(/would run: cmd changed \(echo cubic --fast … → echo triclinic --slow …\); param config changed \(cubic → triclinic\)$/);
    expect(line('cmp')).toContain('with.tolerance.rel changed (1e-6 → 1e-9)');
    expect(line('cmp')).toContain('param config changed (cubic → triclinic)');
    // The secret that embeds the param changed too: it is not named by value.
    expect(r.stdout).not.toMatch(/t0ken/);
    expect(r.stdout).not.toMatch(/was: uses/);
  });
});

describe('verify with no manifest named', () => {
  it("checks the pipeline's own reports.manifest", () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
reports: { junit: out/ci/junit.xml, manifest: out/ci/manifest.json }
stages:
  a:
    cmd: 'echo a > a.txt'
    outs: [a.txt]
`,
    });
    expect(p.cli(['run', '--ci']).code).toBe(0);
    expect(p.exists('reports/manifest.json')).toBe(false);
    const ok = p.cli(['verify']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: \d+ artifact\(s\) match out\/ci\/manifest\.json/);
    p.write('a.txt', 'changed\n');
    const bad = p.cli(['verify']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/differs\s+a\.txt/);
  });

  it('falls back to reports/manifest.json with no pipeline, and exits 2 when the pipeline cannot be read', () => {
    const p = new TestProject({});
    const none = p.cli(['verify']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/reports\/manifest\.json/);
    p.write('pipeline.yaml', 'version: 1\nstages: [\n');
    const broken = p.cli(['verify']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/name the manifest: evidence verify MANIFEST/);
  });
});
