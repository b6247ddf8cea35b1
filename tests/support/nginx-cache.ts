// A real nginx serving a remote cache for tests: WebDAV PUT into a temp root on 127.0.0.1, a free
// port, optionally a bearer token checked in the location. Installs nothing: CI installs Debian's
// nginx (.ci/run); elsewhere nginxSkipReason() says why the tests cannot run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];

function nginxBinary(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why nginx tests cannot run here, or undefined when they can. */
export function nginxSkipReason(): string | undefined {
  const bin = nginxBinary();
  if (!bin) return 'nginx is not installed (apt-get install nginx)';
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  if (r.status !== 0) return `nginx -v failed: ${r.stderr.trim()}`;
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface NginxCache {
  /** Base URL of the cache (http://127.0.0.1:PORT/cache). */
  url: string;
  /** The folder nginx serves the cache from: cas/ and ac/ are under it. */
  root: string;
  /** Every request nginx logged: `METHOD /path STATUS` per line, with the Authorization header as nginx saw it. */
  requests(): string[];
  /** The server's error log, for a failing test's message. */
  errorLog(): string;
  /** SIGKILL: the server is gone mid-run, as a crash would leave it. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** token: a bearer token the location requires; readOnly: no WebDAV, so every PUT is refused (405). */
export async function startNginxCache(opts: { token?: string; readOnly?: boolean } = {}): Promise<NginxCache> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'evidence-nginx-'));
  const docroot = join(dir, 'www');
  mkdirSync(join(docroot, 'cache'), { recursive: true });
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const auth = opts.token ? `if ($http_authorization != "Bearer ${opts.token}") { return 401; }` : '';
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // Workers run as root when the tests do: they must write into a root-owned temp folder.
    const user = process.getuid?.() === 0 ? 'user root root;' : '';
    writeFileSync(
      join(dir, 'nginx.conf'),
      `${user}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  log_format cache '$request_method $uri $status auth=[$http_authorization]';
  access_log ${dir}/access.log cache;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
    location /cache/ {
      ${auth}
      ${opts.readOnly ? '' : 'dav_methods PUT DELETE MOVE;\n      create_full_put_path on;'}
      dav_access user:rw group:r all:r;
    }
  }
}
`,
    );
    const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 200 && child.exitCode === null; i++) {
      if (await accepting(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!up) {
      child.kill('SIGKILL');
      await exited;
      lastError = stderr + (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
      continue;
    }
    const logFile = join(dir, 'access.log');
    const end = async (signal: NodeJS.Signals) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        // Its own process group (detached): the master and its worker end together, as in a crash.
        process.kill(signal === 'SIGKILL' ? -child.pid! : child.pid!, signal);
      } catch {
        // Gone already.
      }
      await exited;
      for (let i = 0; i < 100 && (await accepting(port)); i++) await new Promise((r) => setTimeout(r, 20));
    };
    return {
      url: `http://127.0.0.1:${port}/cache`,
      root: join(docroot, 'cache'),
      requests: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : []),
      errorLog: () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''),
      kill: () => end('SIGKILL'),
      stop: () => end('SIGTERM'),
    };
  }
  throw new Error(`nginx did not start: ${lastError}`);
}
