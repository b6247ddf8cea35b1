// The snapshot-config stage in temp folders: redaction, tool versions, input hashes, determinism,
// and the git state of a real `git init` repository.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import snapshotStage, { redactCommand, REDACTED, type ConfigSnapshot } from '../../stages/snapshot-config.js';
import type { PipelineView, StageContext } from '../../src/stage-api/index.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

function context(root: string, w: Record<string, unknown>, pipeline: Partial<PipelineView> = {}, params: Record<string, unknown> = {}, deps = ['inputs/*.txt']): StageContext {
  const view: PipelineView = { file: join(root, 'pipeline.yaml'), params, env: {}, stages: [], ...pipeline };
  return {
    stage: 'snapshot',
    root,
    cwd: root,
    with: w,
    outs: ['out/config_snapshot.json'],
    deps,
    params,
    env: view.env,
    log: { info: () => {}, warn: () => {} },
    signal: new AbortController().signal,
    $: undefined,
    pipeline: view,
  };
}

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'evidence-snapshot-'));
  mkdirSync(join(root, 'inputs'));
  writeFileSync(join(root, 'pipeline.yaml'), 'version: 1\nstages: {}\n');
  writeFileSync(join(root, 'inputs', 'b.txt'), 'bravo\n');
  writeFileSync(join(root, 'inputs', 'a.txt'), 'alpha\n');
  writeFileSync(join(root, 'inputs', 'c.hkl'), '1 2 3 4\n');
  return root;
}

const read = (root: string) => JSON.parse(readFileSync(join(root, 'out', 'config_snapshot.json'), 'utf8')) as ConfigSnapshot;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

describe('snapshot-config stage', () => {
  it('records params, commands and the declared env with secrets redacted, never the process env', async () => {
    const root = project();
    process.env.EVIDENCE_SNAPSHOT_LEAK = 'leaked-value';
    const ctx = context(
      root,
      {},
      {
        env: { OMP_NUM_THREADS: '1', API_TOKEN: 'tok-123', db_password: 'pw-456', SigningKey: 'key-789' },
        stages: [
          { name: 'run-c', command: 'GITHUB_SECRET=s3 ./nanoBragg --api-key k-1 -lambda 6.2', deps: ['A.mat'], outs: ['c.log'], env: { OMP_NUM_THREADS: '1', AWS_SECRET_ACCESS_KEY: 'aws-1' } },
          { name: 'compare', command: 'uses compare-traces with {"reference":"c.json","token":"t-2"}', deps: [], outs: ['cmp.json'], env: {} },
        ],
      },
      { pixel: '1039 685', nested: { service_key: 'nk-1', n: 3 } },
    );
    try {
      await snapshotStage.run(ctx);
    } finally {
      delete process.env.EVIDENCE_SNAPSHOT_LEAK;
    }
    const text = readFileSync(join(root, 'out', 'config_snapshot.json'), 'utf8');
    const s = JSON.parse(text) as ConfigSnapshot;
    expect(validateAgainst(join(toolSchemasDir(), 'config-snapshot.schema.json'), s)).toEqual([]);
    expect(s.env).toEqual({ API_TOKEN: REDACTED, OMP_NUM_THREADS: '1', SigningKey: REDACTED, db_password: REDACTED });
    expect(s.stages[0].env).toEqual({ AWS_SECRET_ACCESS_KEY: REDACTED, OMP_NUM_THREADS: '1' });
    expect(s.stages[0].command).toBe(`GITHUB_SECRET=${REDACTED} ./nanoBragg --api-key ${REDACTED} -lambda 6.2`);
    expect(s.stages[1].command).toBe(`uses compare-traces with {"reference":"c.json","token":"${REDACTED}"}`);
    expect(s.params).toEqual({ pixel: '1039 685', nested: { service_key: REDACTED, n: 3 } });
    expect(s.pipeline).toBe('pipeline.yaml');
    for (const secret of ['tok-123', 'pw-456', 'key-789', 's3', 'k-1', 'aws-1', 't-2', 'nk-1', 'leaked-value', 'EVIDENCE_SNAPSHOT_LEAK']) {
      expect(text).not.toContain(secret);
    }
  });

  it('records the first line of each tool’s version, and a failing tool as an error string', async () => {
    const root = project();
    await snapshotStage.run(context(root, { tools: { node: 'node --version', broken: 'evidence-no-such-tool-xyz --version', silent: 'true' } }));
    const s = read(root);
    expect(s.tools.node).toEqual({ command: 'node --version', version: process.version, error: null });
    expect(s.tools.broken.version).toBeNull();
    expect(s.tools.broken.error).toMatch(/^exit 127: /);
    expect(s.tools.silent).toEqual({ command: 'true', version: null, error: 'no output' });
  });

  it('hashes inputs (paths and globs), sorted, and marks a missing literal path', async () => {
    const root = project();
    await snapshotStage.run(context(root, { inputs: ['inputs/*.txt', 'inputs/c.hkl', 'inputs/absent.dat'] }, {}, {}, ['inputs']));
    expect(read(root).inputs).toEqual([
      { path: 'inputs/a.txt', sha256: sha('alpha\n'), bytes: 6 },
      { path: 'inputs/absent.dat', sha256: null, bytes: null, missing: true },
      { path: 'inputs/b.txt', sha256: sha('bravo\n'), bytes: 6 },
      { path: 'inputs/c.hkl', sha256: sha('1 2 3 4\n'), bytes: 8 },
    ]);
  });

  it('defaults the inputs to the stage deps', async () => {
    const root = project();
    await snapshotStage.run(context(root, {}));
    expect(read(root).inputs.map((i) => i.path)).toEqual(['inputs/a.txt', 'inputs/b.txt']);
  });

  it('gives null git fields outside a repository', async () => {
    const root = project();
    await snapshotStage.run(context(root, {}));
    expect(read(root).git).toEqual({ sha: null, branch: null, dirty: null, changed: [], date: null });
  });

  it('records SHA, branch and dirty flag of a real git repository, ignoring the pipeline’s outs', async () => {
    const root = project();
    git(root, 'init', '-q', '-b', 'port-work');
    writeFileSync(join(root, '.gitignore'), '');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'initial');
    const head = git(root, 'rev-parse', 'HEAD');
    const date = new Date(Number(git(root, 'show', '-s', '--format=%ct', 'HEAD')) * 1000).toISOString();
    const pipeline = { stages: [{ name: 'compare', command: 'uses compare-traces', deps: [], outs: ['reports/cmp.json'], env: {} }] };
    mkdirSync(join(root, 'reports'));
    writeFileSync(join(root, 'reports', 'cmp.json'), '{}'); // an artifact, not a source change
    writeFileSync(join(root, 'evidence.lock'), '# the runner’s own record\n');

    await snapshotStage.run(context(root, { tools: { node: 'node --version' } }, pipeline));
    const first = readFileSync(join(root, 'out', 'config_snapshot.json'), 'utf8');
    expect(JSON.parse(first).git).toEqual({ sha: head, branch: 'port-work', dirty: false, changed: [], date });

    // The snapshot it just wrote does not make the next one dirty: identical inputs, identical bytes.
    await snapshotStage.run(context(root, { tools: { node: 'node --version' } }, pipeline));
    expect(readFileSync(join(root, 'out', 'config_snapshot.json'), 'utf8')).toBe(first);

    writeFileSync(join(root, 'inputs', 'a.txt'), 'alpha changed\n');
    writeFileSync(join(root, 'new-source.py'), 'print(1)\n');
    await snapshotStage.run(context(root, {}, pipeline));
    expect(read(root).git).toEqual({ sha: head, branch: 'port-work', dirty: true, changed: ['inputs/a.txt', 'new-source.py'], date });
  });

  it('reports a repository without commits and a detached HEAD', async () => {
    const root = project();
    git(root, 'init', '-q', '-b', 'main');
    await snapshotStage.run(context(root, {}));
    expect(read(root).git).toMatchObject({ sha: null, branch: 'main', dirty: true });
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'one');
    git(root, 'checkout', '-q', '--detach');
    await snapshotStage.run(context(root, {}));
    expect(read(root).git).toMatchObject({ sha: git(root, 'rev-parse', 'HEAD'), branch: null });
  });

  it('redactCommand leaves ordinary arguments alone', () => {
    // A key file's path and a trace key are not secrets; only the values of secret names are.
    expect(redactCommand('./nanoBragg -keyfile A.mat -lambda 6.2')).toBe('./nanoBragg -keyfile A.mat -lambda 6.2');
    expect(redactCommand('evidence compare a b --key F_latt --keys-from k.txt')).toBe('evidence compare a b --key F_latt --keys-from k.txt');
    expect(redactCommand('python port.py --pixel 1039 685 --dtype float64')).toBe('python port.py --pixel 1039 685 --dtype float64');
    expect(redactCommand('PASSWORD="a b" run')).toBe(`PASSWORD="${REDACTED}" run`);
  });

  it('keeps tolerance.keys and every other structured key, and writes valid JSON (the redaction that broke it)', async () => {
    const root = project();
    const withValue = { reference: 'c.json', tolerance: { rel: 1e-6, keys: { 'F_latt*': { rel: 1e-3 }, 'rot_*': { abs: 1e-9 } } }, aliases: { keys_ref: 'keys' }, api_key: 'k-9' };
    const command = `uses compare-traces with ${JSON.stringify(withValue)}`;
    await snapshotStage.run(context(root, {}, { stages: [{ name: 'compare', uses: 'compare-traces', command, deps: [], outs: ['cmp.json'], env: {} }] }, { keys: ['a', 'b'], tolerance: 1e-6 }));
    const s = read(root);
    const recorded = JSON.parse(s.stages[0].command.replace(/^uses compare-traces with /, ''));
    expect(recorded).toEqual({ ...withValue, api_key: REDACTED });
    expect(s.params).toEqual({ keys: ['a', 'b'], tolerance: 1e-6 });
  });

  it('fails, naming them, when inputs lie outside the deps (a change to them would not re-run it)', async () => {
    const root = project();
    await expect(snapshotStage.run(context(root, { inputs: ['inputs/*.txt', 'inputs/c.hkl', 'inputs/*.hkl'] }))).rejects.toThrow(
      /input\(s\) 'inputs\/c\.hkl', 'inputs\/\*\.hkl' not among the deps of stage 'snapshot'/,
    );
    // A folder dep covers a file and a glob under it.
    await snapshotStage.run(context(root, { inputs: ['inputs/c.hkl', 'inputs/*.hkl'] }, {}, {}, ['inputs']));
    expect(read(root).inputs.map((i) => i.path)).toEqual(['inputs/c.hkl']);
  });
});
