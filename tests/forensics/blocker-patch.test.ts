// The blocker's patch holds the source change and nothing a run makes: after a one-line edit to
// the port, in a project whose build products are not ignored, with evidence.lock and an earlier
// failure's forensics lying around, the patch is that edit alone; the outs are listed in
// blocker.json with their size, hash and stage instead.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, TestProject } from '../helpers/project.js';
import { validateAgainst } from '../../src/schema/validate.js';
import { listOuts } from '../../stages/forensics/outs.js';

const PIPELINE = `version: 1
blocker: { uses: blocker, with: { dir: 'reports/{stage}-blocker' } }
stages:
  build:
    cmd: mkdir -p build && cp src/port.sh build/port.sh && head -c 3000 /dev/urandom > build/port.bin
    deps: [src/port.sh]
    outs: [build/port.sh, build/port.bin]
  trace:
    cmd: sh build/port.sh
    deps: [build/port.sh]
    stdout: reports/t/trace.log
  check:
    cmd: grep -q "phi 0.1" reports/t/trace.log && echo ok > reports/t/check.txt
    deps: [reports/t/trace.log]
    outs: [reports/t/check.txt]
`;

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('the blocker patch', () => {
  it('after a one-line port edit holds that edit only; outs are listed with size, hash and stage, the lock and earlier forensics left out', () => {
    const p = new TestProject({
      'pipeline.yaml': PIPELINE,
      'src/port.sh': '# the port\necho "TRACE: phi 0.1"\n',
      'src/geometry.sh': '# unchanged\n',
    });
    p.initGit();
    const first = p.cli(['run']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(p.exists('evidence.lock')).toBe(true);

    // An earlier failure of another stage leaves its forensics in the tree.
    p.write('src/port.sh', '# the port\nexit 3\n');
    expect(p.cli(['run']).code).toBe(1);
    expect(p.exists('reports/trace-blocker/trace_blocker.patch')).toBe(true);

    // The one-line edit that makes the check fail.
    p.write('src/port.sh', '# the port\necho "TRACE: phi 0.2"\n');
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ check failed/);

    const patchText = p.read('reports/check-blocker/check_blocker.patch');
    expect([...patchText.matchAll(/^diff --git a\/(\S+) /gm)].map((m) => m[1])).toEqual(['src/port.sh']);
    expect(patchText).toContain('-echo "TRACE: phi 0.1"\n+echo "TRACE: phi 0.2"');
    // Its header says what is left out, as comment lines git apply reads past.
    expect(patchText).toMatch(/^# evidence blocker patch: the source changes against [0-9a-f]{40}/);
    expect(patchText).toMatch(/^# Left out by rule: every stage's outs/m);

    const rec = JSON.parse(p.read('reports/check-blocker/blocker.json'));
    expect(validateAgainst(join(REPO_ROOT, 'schemas', 'blocker.schema.json'), rec)).toEqual([]);
    expect(rec).toMatchObject({ format: 'evidence-blocker/2', stage: 'check', patchFiles: ['src/port.sh'], patchOmitted: [], patchLimits: { fileBytes: 256 * 1024, totalBytes: 1024 * 1024 } });
    expect(rec.patchBytes).toBe(Buffer.byteLength(patchText));
    expect(rec.patchBytes).toBeLessThan(1024);
    expect(rec.outs.map((o: { path: string; stage: string }) => [o.path, o.stage])).toEqual([
      ['build/port.sh', 'build'],
      ['build/port.bin', 'build'],
      ['reports/t/trace.log', 'trace'],
      ['reports/t/check.txt', 'check'],
    ]);
    // As the failure left them: check.txt is still the first run's.
    for (const o of rec.outs) {
      const bytes = readFileSync(p.path(o.path));
      expect(o, o.path).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });
    }

    // On a clean clone the patch gives back the edit and nothing else.
    const clone = join(mkdtempSync(join(tmpdir(), 'evidence-clone-')), 'c');
    git(tmpdir(), 'clone', '-q', p.dir, clone);
    git(clone, 'apply', p.path('reports/check-blocker/check_blocker.patch'));
    expect(git(clone, 'status', '--porcelain', '--untracked-files=all')).toBe(' M src/port.sh\n');
    expect(readFileSync(join(clone, 'src/port.sh'), 'utf8')).toBe(p.read('src/port.sh'));
  });

  it('keeps to its limits (with.patch), naming what it left out in the record and the header', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
blocker: { uses: blocker, with: { dir: reports/blocker, patch: { max_file_kb: 4, max_kb: 8 } } }
stages:
  s: { cmd: 'exit 1', outs: [s.txt] }
`,
      'src/port.c': 'int phi = 1;\n',
    });
    p.initGit();
    p.write('src/port.c', 'int phi = 2;\n');
    p.write('data/table.txt', 'x'.repeat(6000) + '\n');
    expect(p.cli(['run']).code).toBe(1);
    const rec = JSON.parse(p.read('reports/blocker/blocker.json'));
    expect(validateAgainst(join(REPO_ROOT, 'schemas', 'blocker.schema.json'), rec)).toEqual([]);
    expect(rec.patchFiles).toEqual(['src/port.c']);
    expect(rec.patchLimits).toEqual({ fileBytes: 4096, totalBytes: 8192 });
    expect(rec.patchOmitted).toEqual([{ path: 'data/table.txt', bytes: 6001, binary: false, reason: 'file-limit' }]);
    expect(rec.patchNote).toBe('1 file left out by size (see patchOmitted)');
    // A declared out the failed stage never wrote: listed, without size or hash.
    expect(rec.outs).toEqual([{ path: 's.txt', stage: 's', size: null, sha256: null }]);
    expect(p.read(rec.patch)).toMatch(/^# {3}"data\/table\.txt" \(5\.9 KB: above the 4 KB limit per file\)$/m);
  });
});

describe('the outs listed in blocker.json', () => {
  const stage = (name: string, outs: string[]) => ({ name, cwd: '.', command: 'true', deps: [], outs, env: {} });

  it('lists folder outs file by file, names symlinks without following them, and keeps to its count and hashing budget', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-outs-'));
    mkdirSync(join(root, 'build/port/sub'), { recursive: true });
    writeFileSync(join(root, 'build/port/b.js'), 'b'.repeat(10));
    writeFileSync(join(root, 'build/port/a.js'), 'a'.repeat(20));
    writeFileSync(join(root, 'build/port/sub/c.js'), 'c'.repeat(30));
    symlinkSync('/etc/passwd', join(root, 'build/port/link'));
    writeFileSync(join(root, 'trace.log'), 'TRACE\n');
    const stages = [stage('build', ['build/port']), stage('trace', ['trace.log', 'missing.json']), stage('again', ['trace.log'])];

    const all = await listOuts(root, stages);
    expect(all).toMatchObject({ more: 0, unhashed: 0 });
    expect(all.outs).toEqual([
      { path: 'build/port/a.js', stage: 'build', size: 20, sha256: sha256(Buffer.from('a'.repeat(20))) },
      { path: 'build/port/b.js', stage: 'build', size: 10, sha256: sha256(Buffer.from('b'.repeat(10))) },
      { path: 'build/port/link', stage: 'build', size: null, sha256: null, symlink: '/etc/passwd' },
      { path: 'build/port/sub/c.js', stage: 'build', size: 30, sha256: sha256(Buffer.from('c'.repeat(30))) },
      { path: 'trace.log', stage: 'trace', size: 6, sha256: sha256(Buffer.from('TRACE\n')) },
      { path: 'missing.json', stage: 'trace', size: null, sha256: null },
    ]);

    // 35 bytes of budget: a.js (20) and b.js (10) are hashed; c.js (30) and trace.log (6) would pass it.
    const capped = await listOuts(root, stages, 3, 35);
    expect(capped.outs.map((o) => [o.path, o.sha256 !== null])).toEqual([
      ['build/port/a.js', true],
      ['build/port/b.js', true],
      ['build/port/link', false],
    ]);
    expect(capped).toMatchObject({ more: 3, unhashed: 0 });
    const budget = await listOuts(root, stages, 1000, 35);
    expect(budget.outs.filter((o) => o.size !== null && o.sha256 === null).map((o) => o.path)).toEqual(['build/port/sub/c.js', 'trace.log']);
    expect(budget.unhashed).toBe(2);
  });
});
