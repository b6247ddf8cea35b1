// The remote cache's costs, against baselines measured in the same run (these machines are noisy):
// - a no-op run with a remote configured, against the same run without one and a bare `node -e 0`
//   (an up-to-date stage never asks the server, so the remote must cost only its module load);
// - a clean clone restoring a 100-stage fan-out from nginx, against the same clone restoring from
//   its local cache (after `evidence pull`), and against running the 100 stages;
// - a cold 100-stage run whose every stage is a remote miss, against the same run without a remote;
// - requests per restored stage (from nginx's access log).
// Needs Debian's nginx; says so and exits 0 without it. `node bench/remote.mjs`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './runner.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');
const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));

function timeOnce(args, cwd, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', CI: '', ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return { ms, out: r.stdout + r.stderr };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startNginx() {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-nginx-'));
  mkdirSync(join(dir, 'www', 'cache'), { recursive: true });
  mkdirSync(join(dir, 'body'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root root;' : ''}
daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  log_format cache '$request_method $uri $status';
  access_log ${dir}/access.log cache;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/body; fastcgi_temp_path ${dir}/body;
  uwsgi_temp_path ${dir}/body; scgi_temp_path ${dir}/body;
  server { listen 127.0.0.1:${port}; root ${dir}/www;
    location /cache/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; } }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `http://127.0.0.1:${port}/cache`,
    requests: () => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean),
    stop: () => {
      process.kill(-child.pid, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pipelineYaml(url, n) {
  const lines = ['version: 1', ...(url ? [`remote: { url: "${url}" }`] : []), 'stages:'];
  for (let i = 0; i < n; i++) lines.push(`  s${i}: { cmd: 'echo ${i} > o/s${i}.txt', deps: [in.txt], outs: [o/s${i}.txt] }`);
  return lines.join('\n') + '\n';
}

/** Every project folder this bench made, removed at its end (the per-rep ones also as it goes). */
const made = [];

function project(url, n) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-remote-'));
  made.push(dir);
  writeFileSync(join(dir, 'pipeline.yaml'), pipelineYaml(url, n));
  writeFileSync(join(dir, 'in.txt'), 'x\n');
  mkdirSync(join(dir, 'o'));
  spawnSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

/** A copy of `from` as a clean clone would be: its pipeline, inputs and evidence.lock, no .evidence/ and no outs. */
function cleanCopy(from) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-clone-'));
  for (const f of ['pipeline.yaml', 'in.txt', 'evidence.lock']) writeFileSync(join(dir, f), readFileSync(join(from, f)));
  mkdirSync(join(dir, 'o'));
  return dir;
}

export async function benchRemote({ reps = 5 } = {}) {
  if (!NGINX) return { skipped: 'nginx is not installed (apt-get install nginx)' };
  const server = await startNginx();
  const N = 100;
  try {
    // No-op runs, interleaved: bare node, no remote, with a remote.
    const plain = project(undefined, 20);
    const withRemote = project(server.url, 20);
    for (const d of [plain, withRemote]) timeOnce([CLI, 'run', '-j', '2'], d);
    spawnSync('sleep', ['1.2']);
    const noop = { bare: [], plain: [], remote: [] };
    for (let i = 0; i < 15; i++) {
      noop.bare.push(timeOnce(['-e', '0'], plain).ms);
      noop.plain.push(timeOnce([CLI, 'run'], plain).ms);
      noop.remote.push(timeOnce([CLI, 'run'], withRemote).ms);
    }

    // CI: run and push N stages once.
    const ci = project(server.url, N);
    timeOnce([CLI, 'run', '-j', '2'], ci, { EVIDENCE_REMOTE_PUSH: 'true' });
    const restore = { remote: [], local: [], ran: [], missCold: [], plainCold: [] };
    let requestsPerStage = 0;
    for (let i = 0; i < reps; i++) {
      const a = cleanCopy(ci);
      const before = server.requests().length;
      const r = timeOnce([CLI, 'run', '-j', '2'], a);
      if (!/restored from remote/.test(r.out) || /started/.test(r.out)) throw new Error(`expected every stage restored from remote:\n${r.out}`);
      restore.remote.push(r.ms);
      requestsPerStage = (server.requests().length - before) / N;
      const b = cleanCopy(ci);
      timeOnce([CLI, 'pull'], b);
      restore.local.push(timeOnce([CLI, 'run', '-j', '2'], b, { EVIDENCE_REMOTE: 'off' }).ms);
      const c = cleanCopy(ci);
      restore.ran.push(timeOnce([CLI, 'run', '-j', '2', '--force'], c, { EVIDENCE_REMOTE: 'off' }).ms);
      // Every stage a miss: a fresh input no run has seen.
      const m = project(server.url, N);
      writeFileSync(join(m, 'in.txt'), `miss ${i} ${Date.now()}\n`);
      restore.missCold.push(timeOnce([CLI, 'run', '-j', '2'], m).ms);
      const p = project(undefined, N);
      writeFileSync(join(p, 'in.txt'), `miss ${i} ${Date.now()}\n`);
      restore.plainCold.push(timeOnce([CLI, 'run', '-j', '2'], p).ms);
      for (const d of [a, b, c, m, p]) rmSync(d, { recursive: true, force: true });
    }
    return {
      noop: { bareMs: median(noop.bare), plainMs: median(noop.plain), remoteMs: median(noop.remote) },
      restore: { remoteMs: median(restore.remote), localMs: median(restore.local), ranMs: median(restore.ran), requestsPerStage },
      misses: { remoteMs: median(restore.missCold), plainMs: median(restore.plainCold) },
      stages: N,
    };
  } finally {
    server.stop();
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchRemote();
  if (r.skipped) {
    console.log(`remote cache: not measured (${r.skipped})`);
    process.exit(0);
  }
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`no-op run, 20 stages, remote configured: ${ms(r.noop.remoteMs)} (${(r.noop.remoteMs / r.noop.plainMs).toFixed(2)}× the same run without a remote, ${ms(r.noop.plainMs)}; ${(r.noop.remoteMs / r.noop.bareMs).toFixed(2)}× bare node, ${ms(r.noop.bareMs)})`);
  console.log(`clean clone, ${r.stages} stages restored from nginx: ${ms(r.restore.remoteMs)} (${(r.restore.remoteMs / r.restore.localMs).toFixed(2)}× restoring from the local cache after pull, ${ms(r.restore.localMs)}; running them: ${ms(r.restore.ranMs)}); ${r.restore.requestsPerStage.toFixed(1)} requests per stage`);
  console.log(`cold run, ${r.stages} stages, every one a remote miss: ${ms(r.misses.remoteMs)} (${(r.misses.remoteMs / r.misses.plainMs).toFixed(2)}× the same run without a remote, ${ms(r.misses.plainMs)})`);
}
