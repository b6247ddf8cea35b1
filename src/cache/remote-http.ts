// The HTTP side of the remote cache: GET, HEAD and PUT of `{base}/cas/{sha256}` and
// `{base}/ac/{fingerprint}`, each bounded by a connect timeout and a total timeout. Every outcome
// is a value; a problem is described by its status or its network error code, and never holds the
// token (it only ever goes into the Authorization header). Knows nothing about what the bytes mean.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { RemoteSettings } from './remote-settings.js';

// TLS costs milliseconds to load: only an https:// remote pays for it.
const require = createRequire(import.meta.url);
const tls = (): typeof import('node:https') => require('node:https') as typeof import('node:https');

export type HttpResult<T> = { ok: true; value: T } | { ok: false; problem: string; status?: number };

type Body = { file: string } | { bytes: Uint8Array };

/** Where a response body goes: a buffer (bounded) or a file, seeing every chunk on the way. */
type Sink = { kind: 'buffer'; maxBytes: number } | { kind: 'file'; path: string; onChunk: (chunk: Buffer) => void };

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

function describeNetworkError(err: NodeJS.ErrnoException): string {
  const code = err.code;
  if (code && NETWORK_WORDS[code]) return `${NETWORK_WORDS[code]} (${code})`;
  // Node's messages name the address and the code, never request headers.
  return code ? `${err.message.split('\n')[0]} (${code})` : err.message.split('\n')[0]!;
}

export class HttpCacheClient {
  private readonly base: URL;
  private readonly agent: http.Agent;

  constructor(private readonly settings: RemoteSettings) {
    this.base = new URL(settings.url.endsWith('/') ? settings.url : settings.url + '/');
    const Agent = this.base.protocol === 'https:' ? tls().Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** true: present; false: absent (404). */
  async head(path: string): Promise<HttpResult<boolean>> {
    const r = await this.request('HEAD', path);
    if (!r.ok) return r;
    if (r.value.status === 404) return { ok: true, value: false };
    return r.value.status < 300 ? { ok: true, value: true } : this.statusProblem(r.value.status, r.value.statusText);
  }

  /** The body as text; undefined when the server has nothing under this name (404). */
  async getText(path: string, maxBytes: number): Promise<HttpResult<string | undefined>> {
    const r = await this.request('GET', path, undefined, { kind: 'buffer', maxBytes });
    if (!r.ok) return r;
    if (r.value.status === 404) return { ok: true, value: undefined };
    if (r.value.status >= 300) return this.statusProblem(r.value.status, r.value.statusText);
    return { ok: true, value: r.value.body!.toString('utf8') };
  }

  /** Writes the body to `dest` (the caller verifies and renames it); false when absent (404). */
  async getToFile(path: string, dest: string, onChunk: (chunk: Buffer) => void): Promise<HttpResult<boolean>> {
    const r = await this.request('GET', path, undefined, { kind: 'file', path: dest, onChunk });
    if (!r.ok) return r;
    if (r.value.status === 404) return { ok: true, value: false };
    if (r.value.status >= 300) return this.statusProblem(r.value.status, r.value.statusText);
    return { ok: true, value: true };
  }

  async put(path: string, body: Body): Promise<HttpResult<void>> {
    const r = await this.request('PUT', path, body);
    if (!r.ok) return r;
    if (r.value.status >= 300) return this.statusProblem(r.value.status, r.value.statusText);
    return { ok: true, value: undefined };
  }

  close(): void {
    this.agent.destroy();
  }

  private statusProblem(status: number, statusText: string): HttpResult<never> {
    let why = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
    if (status === 405) why += ' (the server does not take this method here: for nginx, dav_methods PUT in the location)';
    if (status === 401 || status === 403) {
      why += this.settings.token ? ` (the token in ${this.settings.tokenEnv} was refused)` : ` (no token: ${this.settings.tokenEnv} is not set)`;
    }
    return { ok: false, problem: why, status };
  }

  private request(method: string, path: string, body?: Body, sink?: Sink): Promise<HttpResult<{ status: number; statusText: string; body?: Buffer }>> {
    const url = new URL(path, this.base);
    const { connectTimeoutMs, timeoutMs, token } = this.settings;
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = 'file' in body ? statSync(body.file).size : body.bytes.byteLength;
    }
    const send = url.protocol === 'https:' ? tls().request : http.request;
    return new Promise((resolve) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (r: HttpResult<{ status: number; statusText: string; body?: Buffer }>) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        resolve(r);
      };
      const req = send(url, { method, headers, agent: this.agent });
      let out: ReturnType<typeof createWriteStream> | undefined;
      const abort = (problem: string) => {
        finish({ ok: false, problem });
        req.destroy();
        out?.destroy();
      };
      const connectTimer = setTimeout(() => abort(`no connection within ${seconds(connectTimeoutMs)}`), connectTimeoutMs);
      timers.push(connectTimer, setTimeout(() => abort(`no complete answer within ${seconds(timeoutMs)}`), timeoutMs));
      req.on('socket', (socket) => {
        // A kept-alive socket is connected already; a new one says so once it is.
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (err) => finish({ ok: false, problem: describeNetworkError(err) }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const statusText = res.statusMessage ?? '';
        const done = (extra?: Buffer) => finish({ ok: true, value: { status, statusText, body: extra } });
        res.on('error', (err) => finish({ ok: false, problem: describeNetworkError(err) }));
        if (status >= 300 || !sink || method === 'HEAD') {
          // Drained, so that the socket can serve the next request.
          res.resume();
          res.on('end', () => done());
          return;
        }
        if (sink.kind === 'buffer') {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > sink.maxBytes) abort(`answer larger than ${sink.maxBytes} bytes`);
            else chunks.push(c);
          });
          res.on('end', () => done(Buffer.concat(chunks)));
          return;
        }
        out = createWriteStream(sink.path, { mode: 0o644 });
        out.on('error', (err) => abort(`cannot write ${sink.path}: ${err.message}`));
        res.on('data', (c: Buffer) => sink.onChunk(c));
        res.on('aborted', () => abort('connection closed mid-answer'));
        res.pipe(out);
        out.on('close', () => {
          // A body cut short by the server is caught by the caller's hash check as well.
          if (!res.complete) abort('connection closed mid-answer');
          else done();
        });
      });
      if (!body) req.end();
      else if ('bytes' in body) req.end(body.bytes);
      else {
        const input = createReadStream(body.file);
        input.on('error', (err) => abort(`cannot read ${body.file}: ${err.message}`));
        input.pipe(req);
      }
    });
  }
}
