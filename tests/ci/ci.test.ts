// CI mode end to end: `evidence run` with CI=true as a real subprocess writes JUnit (read back with
// a real XML parser), a manifest that validates against its schema and that `evidence verify`
// checks, the GitHub step summary and annotations; `fail_on` gates with exit 4 from the artifacts;
// `status --check` gates on a stale evidence.lock.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { XMLParser } from 'fast-xml-parser';
import { REPO_ROOT, TestProject } from '../helpers/project.js';

const require = createRequire(import.meta.url);

const REF_LOG = 'TRACE_C: alpha 1.0\nTRACE_C: beta 2.0 3.0 4.0\nTRACE_C: gamma 5.0\n';
/** beta differs in its second component (line 2): DIVERGENT, not CRITICAL. */
const PORT_LOG = 'TRACE_TS: alpha 1.0\nTRACE_TS: beta 2.0 3.5 4.0\nTRACE_TS: gamma 5.0\n';

function comparePipeline(opts: { failOn?: string; extra?: string; reports?: string } = {}): string {
  return `version: 1
${opts.reports ?? ''}stages:
  parse_ref:
    uses: parse-trace
    with: { input: traces/ref.log }
    deps: [traces/ref.log]
    outs: [out/ref.json]
  parse_port:
    uses: parse-trace
    with: { input: traces/port.log }
    deps: [traces/port.log]
    outs: [out/port.json]
  cmp:
    uses: compare-traces
    with: { reference: out/ref.json, port: out/port.json${opts.failOn ? `, fail_on: ${opts.failOn}` : ''} }
    deps: [out/ref.json, out/port.json]
    outs: [out/comparison.json]
  notes:
    cmd: 'mkdir -p out/notes; wc -c < out/comparison.json > out/notes/size.txt; echo notes > out/notes/readme.txt'
    deps: [out/comparison.json]
    outs: [out/notes]
${opts.extra ?? ''}`;
}

function project(opts: Parameters<typeof comparePipeline>[0] = {}): TestProject {
  return new TestProject({ 'pipeline.yaml': comparePipeline(opts), 'traces/ref.log': REF_LOG, 'traces/port.log': PORT_LOG });
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'testsuite' || name === 'testcase' });

interface Case {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string; '#text'?: string } | string;
  skipped?: { '@_message': string } | string;
}

function readJunit(p: TestProject, path = 'reports/junit.xml') {
  const doc = parser.parse(p.read(path));
  const suites = doc.testsuites.testsuite as Array<{ '@_name': string; '@_tests': string; '@_failures': string; '@_skipped': string; testcase: Case[] }>;
  return { root: doc.testsuites, suites, suite: (name: string) => suites.find((s) => s['@_name'] === name)! };
}

function validateManifest(value: unknown): unknown[] | null | undefined {
  const Ajv = require('ajv').default;
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'manifest.schema.json'), 'utf8'));
  delete schema.$schema;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return validate(value) ? null : validate.errors;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('evidence run --ci', () => {
  it('with CI=true writes JUnit (a testcase per stage and per compared key), a schema-valid manifest and the step summary, in timestamped plain lines', () => {
    const p = project({
      extra: `  broken:
    cmd: 'echo "boom: the harness cannot import" >&2; exit 3'
    outs: [out/broken.txt]
  after_broken:
    cmd: 'cp out/broken.txt out/after.txt'
    deps: [out/broken.txt]
    outs: [out/after.txt]
`,
    });
    const summary = join(mkdtempSync(join(tmpdir(), 'evidence-summary-')), 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = p.cli(['run', '-k', '-j', '2'], { CI: 'true', GITHUB_STEP_SUMMARY: summary });
    expect(r.code, r.stdout + r.stderr).toBe(1);

    // Plain, timestamped lines; no colour.
    expect(r.stdout).not.toContain('\x1b[');
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);

    const junit = readJunit(p);
    expect(junit.suites.map((s) => s['@_name'])).toEqual(['evidence stages', 'compare cmp']);
    const stages = junit.suite('evidence stages');
    expect(stages.testcase.map((c) => c['@_name']).sort()).toEqual(['after_broken', 'broken', 'cmp', 'notes', 'parse_port', 'parse_ref']);
    expect(stages['@_tests']).toBe('6');
    expect(stages['@_failures']).toBe('1');
    expect(stages['@_skipped']).toBe('1');
    const broken = stages.testcase.find((c) => c['@_name'] === 'broken')!;
    expect(broken.failure).toMatchObject({ '@_type': 'exit-code', '@_message': 'exit-code: exited with code 3' });
    expect((broken.failure as { '#text': string })['#text']).toContain('boom: the harness cannot import');
    const after = stages.testcase.find((c) => c['@_name'] === 'after_broken')!;
    expect(after.skipped).toMatchObject({ '@_message': "not run: upstream 'broken' failed" });
    // fail_on is not set (default never): the key groups are reported, none fails.
    const cmp = junit.suite('compare cmp');
    expect(cmp.testcase.map((c) => c['@_name'])).toEqual(['alpha', 'beta', 'gamma']);
    expect(cmp['@_failures']).toBe('0');
    expect(junit.root['@_failures']).toBe('1');

    const manifest = JSON.parse(p.read('reports/manifest.json'));
    expect(validateManifest(manifest)).toBeNull();
    expect(manifest.gitSha).toBeNull();
    expect(manifest.status).toBe('failed');
    expect(manifest.artifacts.map((a: { path: string; stage: string }) => `${a.path} ${a.stage}`)).toEqual([
      'out/comparison.json cmp',
      'out/notes/readme.txt notes',
      'out/notes/size.txt notes',
      'out/port.json parse_port',
      'out/ref.json parse_ref',
    ]);
    const ref = manifest.artifacts.find((a: { path: string }) => a.path === 'out/ref.json');
    expect(ref.sha256).toBe(sha256(readFileSync(p.path('out/ref.json'))));
    expect(ref.size).toBe(readFileSync(p.path('out/ref.json')).length);

    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n')).toBe(true); // appended, not overwritten
    expect(md).toMatch(/\| `parse_ref` \| ✅ ran \| miss \| \d+\.\d\d s \|/);
    expect(md).toMatch(/\| `broken` \| ❌ failed: exit-code \(exited with code 3\) \| miss \|/);
    expect(md).toMatch(/\| `after_broken` \| ⏭️ not run: upstream 'broken' failed \|/);
    expect(md).toContain('### Comparison `cmp`: DIVERGENT (fail_on: never)');
    expect(md).toContain('first divergence beta (DIVERGENT, Δ rel 1.25e-1)');
    expect(md).toMatch(/\| `beta` \| DIVERGENT \| 1 of 1 \| 1\.25e-1 \| `beta` \| 2 \|/);
    expect(md).toContain('`reports/junit.xml`');
    expect(md).toContain('`reports/manifest.json`');

    // A second run: every stage up to date, shown as cache hits.
    const again = p.cli(['run', '-k'], { CI: 'true', GITHUB_STEP_SUMMARY: summary });
    expect(again.code).toBe(1);
    expect(readFileSync(summary, 'utf8')).toMatch(/\| `parse_ref` \| ✅ up to date \| hit \| — \|/);
  });

  it('writes a manifest with the git SHA that evidence verify accepts, also for a bundle copied elsewhere, and that names each changed or missing file', () => {
    const p = project();
    p.initGit();
    const head = p.git('rev-parse', 'HEAD').trim();
    const r = p.cli(['run', '--ci']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const manifest = JSON.parse(p.read('reports/manifest.json'));
    expect(manifest.gitSha).toBe(head);
    expect(manifest.status).toBe('success');

    const ok = p.cli(['verify']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok: 5 artifact\(s\) match reports\/manifest.json/);

    // A "downloaded" bundle: the reports and the outs, somewhere else entirely.
    const bundle = mkdtempSync(join(tmpdir(), 'evidence-bundle-'));
    cpSync(p.path('reports'), join(bundle, 'reports'), { recursive: true });
    cpSync(p.path('out'), join(bundle, 'out'), { recursive: true });
    expect(p.cli(['verify', join(bundle, 'reports', 'manifest.json')]).code).toBe(0);

    // One byte changed, one file gone.
    const buf = readFileSync(join(bundle, 'out', 'ref.json'));
    buf[10] = buf[10]! ^ 1;
    writeFileSync(join(bundle, 'out', 'ref.json'), buf);
    p.remove('out/notes/size.txt');
    const bad = p.cli(['verify', join(bundle, 'reports', 'manifest.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^differs {2}out\/ref.json: /m);
    expect(bad.stdout).not.toMatch(/out\/port.json/);
    const missing = p.cli(['verify']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^missing {2}out\/notes\/size.txt: missing \(from stage notes\)/m);

    expect(p.cli(['verify', 'no/such/manifest.json']).code).toBe(2);
  });

  it('exits 4 when a compare stage meets fail_on, after writing every artifact, and again when the compare stage is up to date', () => {
    const p = project({ failOn: 'divergent', reports: 'reports: { junit: ci/evidence-junit.xml }\n' });
    const summary = join(mkdtempSync(join(tmpdir(), 'evidence-summary-')), 'summary.md');
    const env = { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: p.dir };
    const r = p.cli(['run'], env);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    for (const f of ['ci/evidence-junit.xml', 'reports/manifest.json', 'out/comparison.json', 'out/notes/size.txt']) expect(p.exists(f), f).toBe(true);
    expect(r.stdout).toMatch(/cmp: verdict DIVERGENT meets fail_on: divergent/);
    expect(r.stdout).toMatch(/gate failed: 4 ran/);
    // The annotation points at the port's trace line of the divergence.
    expect(r.stdout).toMatch(/^::error file=traces\/port.log,line=2,title=cmp%3A beta DIVERGENT::beta: reference \[2, 3, 4\] \(traces\/ref.log:2\), port \[2, 3.5, 4\], Δ rel 1.25e-1$/m);
    expect(readFileSync(summary, 'utf8')).toContain('## ⛔ evidence: a compare gate (fail_on) was met');

    const junit = readJunit(p, 'ci/evidence-junit.xml');
    const beta = junit.suite('compare cmp').testcase.find((c) => c['@_name'] === 'beta')!;
    expect(beta.failure).toMatchObject({ '@_type': 'DIVERGENT' });
    expect((beta.failure as { '@_message': string })['@_message']).toMatch(/^1 of 1 item\(s\) beyond tolerance; first beta/);
    expect(junit.suite('compare cmp')['@_failures']).toBe('1');
    expect(JSON.parse(p.read('reports/manifest.json')).status).toBe('gate');

    // Nothing re-runs; the gate is read from the comparison on disk.
    const again = p.cli(['run'], env);
    expect(again.code).toBe(4);
    expect(again.stdout).toMatch(/cmp up to date/);
    expect(again.stdout).toMatch(/gate failed: 4 up to date/);

    // Outside CI too: the gate is part of the run, not of the reports.
    expect(p.cli(['run']).code).toBe(4);
  });

  it('does not gate a DIVERGENT comparison with fail_on: critical, nor by default', () => {
    const critical = project({ failOn: 'critical' });
    const r = critical.cli(['run', '--ci']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readJunit(critical).suite('compare cmp')['@_failures']).toBe('0');
    expect(project().cli(['run']).code).toBe(0);
  });

  it('prints a GitHub annotation at the pipeline.yaml line of a config error', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: 'true'\n    outz: [a.txt]\n` });
    const r = p.cli(['run'], { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: p.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^::error file=pipeline.yaml,line=5,col=5,title=evidence%3A invalid pipeline::unknown key 'outz' \(did you mean 'outs'\?\)$/m);
    // Without GITHUB_ACTIONS, no workflow commands.
    expect(p.cli(['run'], { CI: 'true' }).stdout).not.toContain('::error');
  });
});

describe('the verdict at the end of every run', () => {
  it('ends each run with the verdict and headline, whether the compare stage ran, was up to date or was restored', () => {
    const p = project();
    const first = p.cli(['run']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/▸ cmp: DIVERGENT: .*beta/);
    expect(first.stdout).toMatch(/^ok: 4 ran in .*; verdict DIVERGENT \(cmp\)$/m);

    const again = p.cli(['run']);
    expect(again.stdout).toMatch(/4 up to date/);
    expect(again.stdout).toMatch(/▸ cmp: DIVERGENT: .*beta/);
    expect(again.stdout).toMatch(/verdict DIVERGENT \(cmp\)$/m);

    // Back to an earlier state: restored from the cache, and the verdict is that state's.
    p.write('traces/port.log', REF_LOG.replace(/TRACE_C/g, 'TRACE_TS'));
    expect(p.cli(['run']).stdout).toMatch(/verdict MATCH \(cmp\)$/m);
    p.write('traces/port.log', PORT_LOG);
    const restored = p.cli(['run', '--json']);
    const events = restored.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'stage-restored').map((e) => e.stage)).toContain('cmp');
    expect(events.find((e) => e.type === 'findings')).toMatchObject({ stage: 'cmp', verdict: 'DIVERGENT', severity: 'problem' });
    expect(events.find((e) => e.type === 'run-finished')).toMatchObject({ status: 'success', verdict: { stage: 'cmp', verdict: 'DIVERGENT' } });
    expect(restored.code).toBe(0);
  });
});

describe('evidence status --check', () => {
  it('passes after a run and fails after an edit of a dep, naming the stages and why', () => {
    const p = project();
    expect(p.cli(['run']).code).toBe(0);
    const ok = p.cli(['status', '--check']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('evidence.lock is current');

    p.write('traces/port.log', PORT_LOG.replace('3.5', '3.0'));
    const stale = p.cli(['status', '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/parse_port\s+would run: dep 'traces\/port.log' changed/);
    expect(stale.stdout).toMatch(/cmp\s+would run: upstream 'parse_port' would run/);
    expect(stale.stdout).toMatch(/parse_ref\s+up to date/);
    expect(stale.stdout).toMatch(/3 stage\(s\) not up to date/);
  });
});
