// The shared remote cache against a real nginx (WebDAV PUT) on 127.0.0.1: CI pushes from one clone
// and a clean clone restores without running; a corrupted object on the server is rejected; the
// server dying mid-run, a refused token and a server that never answers each give one warning and
// a run that succeeds locally; two pushes at once leave a cache every clone can restore from.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, TestProject, logged, type CliResult } from '../helpers/project.js';
import { nginxSkipReason, startNginxCache, type NginxCache } from '../support/nginx-cache.js';
import { checksumOf, type RunRecord } from '../../src/cache/store.js';

const skip = nginxSkipReason();
if (skip && process.env.CI) throw new Error(`remote cache tests cannot be skipped in CI: ${skip}`);

const TOKEN = 'tok-7f3a9c1e5b2d4680';

function pipelineText(url: string, extraStages = ''): string {
  return `version: 1
remote: { url: "${url}", token_env: CACHE_TOKEN, timeout: 10s }
stages:
  gen:
    cmd: ${JSON.stringify(logged('gen', 'mkdir -p out && cat input.txt > out/a.txt && printf "%s\\n" extra > out/b.txt'))}
    deps: [input.txt]
    outs: [out/a.txt, out/b.txt]
  sum:
    cmd: ${JSON.stringify(logged('sum', 'cat out/a.txt out/b.txt | wc -c | tr -d " " > out/sum.txt'))}
    deps: [out/a.txt, out/b.txt]
    outs: [out/sum.txt]
${extraStages}`;
}

/** A committed project (evidence.lock included once it exists), as CI checks it out. */
function origin(url: string, extraStages = ''): TestProject {
  const p = new TestProject({ 'pipeline.yaml': pipelineText(url, extraStages), 'input.txt': 'hello remote cache\n', '.gitignore': '.evidence/\nout/\n' });
  p.initGit();
  return p;
}

/** A fresh clone of `from` (no .evidence/, no outs), with its own run log. */
function cloneOf(from: TestProject): TestProject {
  const p = new TestProject();
  rmProjectDir(p);
  const r = spawnSync('git', ['clone', '-q', from.dir, p.dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return p;
}

function rmProjectDir(p: TestProject): void {
  spawnSync('rm', ['-rf', p.dir]);
}

function commitLock(p: TestProject): void {
  p.git('add', 'evidence.lock');
  p.git('commit', '-qm', 'evidence.lock');
}

function output(r: CliResult): string {
  return r.stdout + r.stderr;
}

/** Lines of a run's output that warn about the remote cache. */
function remoteWarnings(r: CliResult): string[] {
  return output(r)
    .split('\n')
    .filter((l) => l.includes('remote cache'));
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') walk(f);
      } else if (e.isFile() && readFileSync(f).includes(needle)) found.push(f);
    }
  };
  walk(dir);
  return found;
}

function objectsUnder(root: string): string[] {
  return existsSync(join(root, 'cas')) ? readdirSync(join(root, 'cas')) : [];
}

const env = { CACHE_TOKEN: TOKEN };

/** `evidence ARGS` without blocking this process (a server in it must keep answering). */
function cliAsync(p: TestProject, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd: p.dir, env: p.env(extra) });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skip !== undefined)('remote cache over HTTP (nginx)', () => {
  let server: NginxCache | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('a CI push from one clone lets a clean clone restore every stage without running it, and the token is written nowhere', async () => {
    server = await startNginxCache({ token: TOKEN });
    const ci = origin(server.url);
    const first = ci.cli(['run'], { ...env, EVIDENCE_REMOTE_PUSH: 'true' });
    expect(first.code, output(first)).toBe(0);
    expect(ci.takeRuns()).toEqual(['gen', 'sum']);
    expect(first.stdout).toMatch(/pushed 2 stages to http:\/\/127\.0\.0\.1:\d+\/cache \(3 new objects\)/);
    // Each record went up after the objects it names, and every request carried the token.
    const puts = server.requests().filter((l) => l.startsWith('PUT'));
    expect(puts.map((l) => (l.includes('/cas/') ? 'cas' : 'ac'))).toEqual(['cas', 'cas', 'ac', 'cas', 'ac']);
    expect(puts.every((l) => / 20[14] auth=\[Bearer /.test(l))).toBe(true);
    commitLock(ci);

    // An engineer's clean clone: every stage comes from the remote, nothing runs.
    const dev = cloneOf(ci);
    const run = dev.cli(['run'], env);
    expect(run.code, output(run)).toBe(0);
    expect(dev.takeRuns()).toEqual([]);
    expect(run.stdout).toMatch(/gen restored from remote/);
    expect(run.stdout).toMatch(/sum restored from remote/);
    expect(dev.read('out/a.txt')).toBe('hello remote cache\n');
    expect(dev.read('out/sum.txt')).toBe(ci.read('out/sum.txt'));
    expect(remoteWarnings(run)).toEqual([]);
    // The run settled: the next one finds everything up to date, asking the server nothing.
    const before = server.requests().length;
    const again = dev.cli(['run'], env);
    expect(again.stdout).toMatch(/2 up to date/);
    expect(server.requests().length).toBe(before);

    // `evidence pull` into another clean clone, then a run that restores from the local cache.
    const other = cloneOf(ci);
    const pulled = other.cli(['pull'], env);
    expect(pulled.code, output(pulled)).toBe(0);
    expect(pulled.stdout).toMatch(/pulled 2 stages of evidence.lock from http:\/\/127\.0\.0\.1:\d+\/cache \(3 objects downloaded\)/);
    const afterPull = other.cli(['run'], { ...env, EVIDENCE_REMOTE: 'off' });
    expect(afterPull.code, output(afterPull)).toBe(0);
    expect(other.takeRuns()).toEqual([]);
    expect(afterPull.stdout).toMatch(/gen restored from cache/);

    for (const r of [first, run, again, pulled, afterPull]) expect(output(r)).not.toContain(TOKEN);
    for (const p of [ci, dev, other]) expect(filesContaining(join(p.dir, '..'), TOKEN)).toEqual([]);
  });

  it('rejects an object corrupted on the server: the stage runs here, and its push puts the good copy back', async () => {
    server = await startNginxCache();
    const ci = origin(server.url);
    const first = ci.cli(['run'], { EVIDENCE_REMOTE_PUSH: '1' });
    expect(first.code, output(first)).toBe(0);
    ci.takeRuns();
    commitLock(ci);
    const aHash = createHash('sha256').update('hello remote cache\n').digest('hex');
    const onServer = join(server.root, 'cas', aHash);
    expect(readFileSync(onServer, 'utf8')).toBe('hello remote cache\n');
    writeFileSync(onServer, 'hello remote cachf\n');

    const dev = cloneOf(ci);
    const run = dev.cli(['run'], { EVIDENCE_REMOTE_PUSH: '1' });
    expect(run.code, output(run)).toBe(0);
    // gen's record is refused; gen runs and makes the same outs, so sum's record fits and is restored.
    expect(dev.takeRuns()).toEqual(['gen']);
    expect(run.stdout).toMatch(/gen: the remote cache's run record [0-9a-f]{12}… names out\/a\.txt, but the server's object [0-9a-f]{12}… does not match its sha256 \(corrupt\); rejected; not trusted, the stage runs here/);
    expect(run.stdout).toMatch(/sum restored from remote/);
    expect(dev.read('out/a.txt')).toBe('hello remote cache\n');
    const local = join(dev.dir, '.evidence', 'cache', 'objects', aHash.slice(0, 2), aHash.slice(2));
    expect(readFileSync(local, 'utf8')).toBe('hello remote cache\n');
    // The run pushed gen again, replacing the corrupt object rather than trusting that it is there.
    expect(readFileSync(onServer, 'utf8')).toBe('hello remote cache\n');

    const third = cloneOf(ci);
    const r3 = third.cli(['run']);
    expect(r3.code, output(r3)).toBe(0);
    expect(third.takeRuns()).toEqual([]);
    expect(remoteWarnings(r3)).toEqual([]);
  });

  it('a forged record (checksum recomputed, outs pointed at an input) is refused: nothing outside the outs is written', async () => {
    server = await startNginxCache();
    const ci = origin(server.url);
    expect(ci.cli(['run'], { EVIDENCE_REMOTE_PUSH: '1' }).code).toBe(0);
    ci.takeRuns();
    commitLock(ci);
    const acDir = join(server.root, 'ac');
    const genFile = readdirSync(acDir).map((f) => join(acDir, f)).find((f) => JSON.parse(readFileSync(f, 'utf8')).stage === 'gen')!;
    const { checksum: _, ...record } = JSON.parse(readFileSync(genFile, 'utf8')) as RunRecord & { checksum: string };
    record.outs[0]!.path = 'input.txt';
    writeFileSync(genFile, JSON.stringify({ ...record, checksum: checksumOf(record) }));

    const dev = cloneOf(ci);
    const run = dev.cli(['run']);
    expect(run.code, output(run)).toBe(0);
    expect(run.stdout).toMatch(/gen: the remote cache's run record [0-9a-f]{12}… does not restore this stage's outs; not trusted, the stage runs here/);
    expect(dev.takeRuns()).toEqual(['gen']);
    expect(dev.read('input.txt')).toBe('hello remote cache\n');
    expect(dev.git('status', '--porcelain')).toBe('');
  });

  it('a record whose objects the server lacks is never trusted', async () => {
    server = await startNginxCache();
    const ci = origin(server.url);
    expect(ci.cli(['run'], { EVIDENCE_REMOTE_PUSH: '1' }).code).toBe(0);
    ci.takeRuns();
    commitLock(ci);
    spawnSync('rm', ['-f', join(server.root, 'cas', createHash('sha256').update('extra\n').digest('hex'))]);
    const dev = cloneOf(ci);
    const pulled = dev.cli(['pull']);
    expect(pulled.code, output(pulled)).toBe(0);
    expect(pulled.stderr).toMatch(/gen: the remote cache's run record [0-9a-f]{12}… names out\/b\.txt \(object [0-9a-f]{12}…\), which the server does not have; not trusted/);
    expect(pulled.stdout).toMatch(/pulled 1 stage .*\nnot on the remote: gen/);
    expect(existsSync(join(dev.dir, '.evidence', 'cache', 'runs'))).toBe(true);
    const run = dev.cli(['run'], { EVIDENCE_REMOTE: 'off' });
    expect(run.code, output(run)).toBe(0);
    expect(dev.takeRuns()).toEqual(['gen']);
  });

  it('the server killed mid-run: one warning, the rest of the run works locally and succeeds', async () => {
    server = await startNginxCache();
    const go = join(mkdtempSync(join(tmpdir(), 'evidence-go-')), 'go');
    const wait = `while [ ! -f "$GO" ]; do sleep 0.05; done`;
    const stages = `  hold:
    cmd: ${JSON.stringify(logged('hold', `${wait}; echo held > out/held.txt`))}
    deps: [out/sum.txt]
    outs: [out/held.txt]
  after1:
    cmd: ${JSON.stringify(logged('after1', 'cat out/held.txt > out/after1.txt'))}
    deps: [out/held.txt]
    outs: [out/after1.txt]
  after2:
    cmd: ${JSON.stringify(logged('after2', 'cat out/after1.txt > out/after2.txt'))}
    deps: [out/after1.txt]
    outs: [out/after2.txt]
`;
    const p = origin(server.url, stages);
    const child = p.spawnCli(['run', '-j', '1'], { EVIDENCE_REMOTE_PUSH: '1', GO: go });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !(existsSync(p.runLog) && readFileSync(p.runLog, 'utf8').includes('hold')); i++) await new Promise((r) => setTimeout(r, 50));
    // gen, sum and hold were looked up (misses) before hold started (nginx logs just after it answers).
    const lookups = () => server!.requests().filter((l) => l.startsWith('GET /cache/ac/'));
    for (let i = 0; i < 40 && lookups().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(lookups()).toHaveLength(3);
    await server.kill();
    writeFileSync(go, '');
    const code = await exited;
    expect(code, out).toBe(0);
    expect(p.takeRuns()).toEqual(['after1', 'after2', 'gen', 'hold', 'sum']);
    const warnings = out.split('\n').filter((l) => l.includes('remote cache'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/remote cache http:\/\/127\.0\.0\.1:\d+\/cache: connection refused \(ECONNREFUSED\); continuing with the local cache only/);
    expect(out).not.toMatch(/pushed/);
    expect(p.read('out/after2.txt')).toBe('held\n');
  });

  it('a refused token: one warning naming the 401, no token printed, no further request, the run succeeds', async () => {
    server = await startNginxCache({ token: TOKEN });
    const wrong = 'wrong-0d9c8b7a6f5e';
    const p = origin(server.url);
    const run = p.cli(['run'], { CACHE_TOKEN: wrong, EVIDENCE_REMOTE_PUSH: '1' });
    expect(run.code, output(run)).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'sum']);
    expect(remoteWarnings(run)).toEqual([expect.stringMatching(/remote cache http:\/\/127\.0\.0\.1:\d+\/cache: HTTP 401 Unauthorized \(the token in CACHE_TOKEN was refused\); continuing with the local cache only/)]);
    expect(output(run)).not.toContain(wrong);
    // One request, refused; nothing after it (no lookup for sum, no push).
    expect(server.requests()).toEqual([expect.stringMatching(/^GET \/cache\/ac\/[0-9a-f]{64} 401 auth=\[Bearer wrong-0d9c8b7a6f5e\]$/)]);
    expect(filesContaining(join(p.dir, '..'), wrong)).toEqual([]);

    const push = p.cli(['push'], { CACHE_TOKEN: wrong });
    expect(push.code).toBe(1);
    expect(push.stderr).toMatch(/HTTP 401 Unauthorized \(the token in CACHE_TOKEN was refused\)/);
    expect(output(push)).not.toContain(wrong);
    const none = p.cli(['push']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/HTTP 401 Unauthorized \(no token: CACHE_TOKEN is not set\)/);
  });

  it('a read-only server: the push gets one warning naming the 405, the run succeeds', async () => {
    server = await startNginxCache({ readOnly: true });
    const p = origin(server.url);
    const run = p.cli(['run'], { EVIDENCE_REMOTE_PUSH: 'true' });
    expect(run.code, output(run)).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'sum']);
    expect(remoteWarnings(run)).toEqual([expect.stringMatching(/remote cache http:\/\/127\.0\.0\.1:\d+\/cache: HTTP 405 Not Allowed \(the server does not take this method here: for nginx, dav_methods PUT in the location\); continuing with the local cache only/)]);
    // Two lookups (misses), then gen's objects (two at most in flight), refused; no record, nothing for sum.
    const asked = server.requests();
    expect(asked.slice(0, 2)).toEqual([expect.stringMatching(/^GET \/cache\/ac\/\S+ 404/), expect.stringMatching(/^GET \/cache\/ac\/\S+ 404/)]);
    const rest = asked.slice(2);
    expect(rest.every((l) => /^(HEAD \/cache\/cas\/\S+ 404|PUT \/cache\/cas\/\S+ 405)/.test(l))).toBe(true);
    expect(rest.filter((l) => l.startsWith('PUT')).length).toBeGreaterThanOrEqual(1);
    expect(rest.length).toBeLessThanOrEqual(4);
  });

  it('two runners pushing at once leave complete records that a clean clone restores from', async () => {
    server = await startNginxCache({ token: TOKEN });
    const ci = origin(server.url);
    const first = ci.cli(['run'], { EVIDENCE_REMOTE: 'off' });
    expect(first.code, output(first)).toBe(0);
    commitLock(ci);
    const twin = cloneOf(ci);
    expect(twin.cli(['run'], { EVIDENCE_REMOTE: 'off' }).code).toBe(0);
    expect(twin.takeRuns()).toEqual(['gen', 'sum']);
    const pushes = [ci, twin].map((p) => cliAsync(p, ['push'], env));
    for (const r of await Promise.all(pushes)) {
      expect(r.code, output(r)).toBe(0);
      expect(r.stdout).toMatch(/pushed 2 stages of evidence.lock/);
    }
    expect(objectsUnder(server.root)).toHaveLength(3);
    const dev = cloneOf(ci);
    const run = dev.cli(['run', '--json'], env);
    expect(run.code, output(run)).toBe(0);
    expect(dev.takeRuns()).toEqual([]);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stage?: string; from?: string });
    expect(events.filter((e) => e.type === 'stage-restored').map((e) => [e.stage, e.from])).toEqual([
      ['gen', 'remote'],
      ['sum', 'remote'],
    ]);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
  });
});

describe('remote cache faults without a server', () => {
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it('a server that accepts and never answers costs one bounded timeout and one warning', async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const p = new TestProject({
      'pipeline.yaml': pipelineText(`http://127.0.0.1:${port}/cache`).replace('timeout: 10s', 'timeout: 1s'),
      'input.txt': 'hello remote cache\n',
    });
    const run = await cliAsync(p, ['run']);
    expect(run.code, output(run)).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'sum']);
    expect(remoteWarnings(run)).toEqual([expect.stringMatching(/remote cache http:\/\/127\.0\.0\.1:\d+\/cache: no complete answer within 1s; continuing with the local cache only/)]);
    // One connection: after the timeout, sum did not ask again.
    expect(sockets).toHaveLength(1);
  });

  it('a server that answers every lookup slowly, within the timeout, is given up after three slow lookups', async () => {
    let lookups = 0;
    const slowServer = createHttpServer((req, res) => {
      lookups++;
      setTimeout(() => res.writeHead(404).end(), 700);
    });
    await new Promise<void>((r) => slowServer.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (slowServer.address() as { port: number }).port;
      // A chain, so that each lookup waits for the one before (independent stages look up at once).
      const chain = Array.from({ length: 6 }, (_, i) => `  s${i}:\n    cmd: "echo ${i} > s${i}.txt"\n    deps: [${i ? `s${i - 1}.txt` : 'in.txt'}]\n    outs: [s${i}.txt]\n`).join('');
      const p = new TestProject({ 'pipeline.yaml': `version: 1\nremote: { url: "http://127.0.0.1:${port}/cache", timeout: 1s }\nstages:\n${chain}`, 'in.txt': 'x\n' });
      const run = await cliAsync(p, ['run']);
      expect(run.code, output(run)).toBe(0);
      expect(remoteWarnings(run)).toEqual([expect.stringMatching(/remote cache http:\/\/127\.0\.0\.1:\d+\/cache: 3 lookups took over 500 ms each \(too slow to wait for at every stage\); continuing with the local cache only/)]);
      // Six stages missed locally; the three after the third slow lookup did not ask.
      expect(lookups).toBe(3);
      for (let i = 0; i < 6; i++) expect(p.read(`s${i}.txt`)).toBe(`${i}\n`);
    } finally {
      slowServer.close();
      slowServer.closeAllConnections();
    }
  });

  it('nothing listening: connection refused, one warning, exit 0; the stages never see the token', () => {
    const dump = `  dump:\n    cmd: "env > out/env.txt"\n    deps: [out/sum.txt]\n    outs: [out/env.txt]\n`;
    const p = new TestProject({ 'pipeline.yaml': pipelineText('http://127.0.0.1:9/cache', dump), 'input.txt': 'x\n' });
    const run = p.cli(['run'], env);
    expect(run.code, output(run)).toBe(0);
    expect(remoteWarnings(run)).toHaveLength(1);
    expect(remoteWarnings(run)[0]).toMatch(/connection refused \(ECONNREFUSED\)/);
    expect(p.read('out/env.txt')).toContain(`RUNLOG=${p.runLog}`);
    expect(p.read('out/env.txt')).not.toContain(TOKEN);
  });
});
