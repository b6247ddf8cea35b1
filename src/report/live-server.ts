// The HTTP side of `evidence watch --serve` (node:http, no framework): serves the reports of the
// watched pipeline with a live script injected, and `/events`, a server-sent event stream that
// tells each open page, after every watch cycle, whether what it shows changed. A reporter of watch
// events like src/report/watch.ts: the watch loop never hears of it.
// What it serves is narrow on purpose: only files that are outs of the pipeline (the caller's
// `isOut`), resolved inside the project root, never a path with '..' or an encoded separator; only
// the Host names of the loopback address when bound to it (a page elsewhere that rebinds its DNS
// name to 127.0.0.1 must not read the project's outs).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, realpath, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import type { WatchEvent, WatchSink } from '../watch/events.js';
import { indexPage, injectLive, noPagesPage, pageUrl, waitingPage, type LivePage, type LiveState } from './live-page.js';

export interface LiveServerOptions {
  /** Absolute project root. */
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The pages to offer, asked at each request: pipeline.yaml may have been reloaded. */
  pages(): LivePage[];
  /** Whether a project-relative path is one of the pipeline's outs (or inside an out folder). */
  isOut(path: string): boolean;
  /** How often an idle event stream gets a comment, so that proxies and browsers keep it open. */
  heartbeatMs?: number;
}

export interface LiveServer {
  /** The page's URL, e.g. http://127.0.0.1:4178/ */
  url: string;
  address: AddressInfo;
  /** Feed it the watch events: each finished cycle is announced on /events. */
  watch: WatchSink;
  /** Ends every event stream and stops listening. */
  close(): Promise<void>;
}

export type Listening = { ok: true; server: LiveServer } | { ok: false; message: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** A file's content identity (as the watch loop judges saves): changes when the file may have. */
function signature(abs: string): string {
  try {
    const st = statSync(abs);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** A URL path as a project-relative path, or undefined when it could lead anywhere else. */
export function projectPathOf(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return segments.join('/');
}

export function startLiveServer(opts: LiveServerOptions): Promise<Listening> {
  const streams = new Set<ServerResponse>();
  const loopbackOnly = LOOPBACK.has(opts.host);
  let port = opts.port;
  let rootReal: Promise<string> | undefined;

  /** Stage → why what it wrote last is older than the last cycle (it failed, or did not run). */
  const stale = new Map<string, string>();

  const exists = (p: string) => signature(join(opts.root, p)) !== 'missing';
  const pageSig = (p: LivePage) => signature(join(opts.root, p.path)) + (stale.has(p.stage) ? ' stale' : '');

  function sigs(): Record<string, string> {
    const pages = opts.pages();
    const out: Record<string, string> = { '/': pages.map((p) => `${p.path}${exists(p.path) ? '+' : '-'}${stale.has(p.stage) ? '!' : ''}`).join('\n') };
    for (const p of pages) out[p.path] = pageSig(p);
    return out;
  }

  function send(res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function reply(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(head ? undefined : body);
  }

  function hostAllowed(req: IncomingMessage): boolean {
    if (!loopbackOnly) return true;
    const host = (req.headers.host ?? '').toLowerCase();
    const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
    return LOOPBACK.has(name);
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 1000\n\n');
    send(res, 'state', { sigs: sigs() });
    streams.add(res);
    req.on('close', () => streams.delete(res));
  }

  async function servePath(path: string, res: ServerResponse, head: boolean): Promise<void> {
    const pages = opts.pages();
    const page = pages.find((p) => p.path === path);
    if (!page && !opts.isOut(path)) return reply(res, 404, 'text/plain; charset=utf-8', `not found: ${path} is not an out of the pipeline\n`, head);
    const abs = join(opts.root, path);
    let real: string;
    try {
      real = await realpath(abs);
      if (!(await stat(real)).isFile()) throw new Error('not a file');
    } catch {
      if (page) return reply(res, 200, TYPES['.html']!, waitingPage(page, { key: page.path, sig: pageSig(page) }, stale.get(page.stage)), head);
      return reply(res, 404, 'text/plain; charset=utf-8', `not found: ${path} has not been written\n`, head);
    }
    // An out that is a link leading out of the project is not served (runs refuse to write one).
    rootReal ??= realpath(opts.root);
    if (!real.startsWith((await rootReal) + sep)) return reply(res, 404, 'text/plain; charset=utf-8', `not found: ${path} leads outside the project\n`, head);
    const sig = pageSig(page ?? { stage: '', path });
    const body = await readFile(real);
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    if (page && type.startsWith('text/html')) return reply(res, 200, type, injectLive(body.toString('utf8'), { key: page.path, sig }, stale.get(page.stage)), head);
    reply(res, 200, type, body, head);
  }

  function serveRoot(res: ServerResponse, head: boolean): void {
    const pages = opts.pages();
    const state: LiveState = { key: '/', sig: sigs()['/']! };
    if (pages.length === 0) return reply(res, 200, TYPES['.html']!, noPagesPage(state), head);
    if (pages.length === 1) {
      const only = pages[0]!;
      if (!exists(only.path)) return reply(res, 200, TYPES['.html']!, waitingPage(only, state, stale.get(only.stage)), head);
      // A redirect, not the page at '/': its relative links then resolve beside it, as on disk.
      res.writeHead(302, { Location: pageUrl(only.path), 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    reply(res, 200, TYPES['.html']!, indexPage(pages.map((p) => ({ ...p, exists: exists(p.path), stale: stale.get(p.stage) })), state), head);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return reply(res, 403, 'text/plain; charset=utf-8', 'forbidden: this server answers only to the loopback address\n', false);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', false);
    }
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath === '/') return serveRoot(res, head);
    if (rawPath === '/events') return openStream(req, res);
    // Browsers ask for it unprompted; a 404 would show as a console error on every page.
    if (rawPath === '/favicon.ico' && !opts.isOut('favicon.ico')) {
      res.writeHead(204, { 'Cache-Control': 'max-age=3600' });
      res.end();
      return;
    }
    const path = projectPathOf(rawPath);
    if (path === undefined) return reply(res, 400, 'text/plain; charset=utf-8', 'bad path\n', head);
    await servePath(path, res, head);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `error: ${(err as Error)?.message ?? String(err)}\n`, false);
      else res.destroy();
    });
  });
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': heartbeat\n\n');
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const watch: WatchSink = (e: WatchEvent) => {
    if (e.type === 'cycle-finished') {
      // An interrupted cycle (Ctrl-C) says nothing about the stages' inputs.
      if (e.status !== 'interrupted') {
        for (const r of e.results) {
          if (r.status === 'failed') stale.set(r.stage, `stage ${r.stage} failed in cycle ${e.cycle}`);
          // A stage waiting for new inputs after a failure keeps the failure as its reason.
          else if (r.status === 'not-run') stale.set(r.stage, stale.get(r.stage) ?? `stage ${r.stage} did not run in cycle ${e.cycle} (a stage before it failed)`);
          else stale.delete(r.stage);
        }
      }
      const data = { cycle: e.cycle, status: e.status, sigs: sigs() };
      for (const res of streams) send(res, 'cycle', data);
    } else if (e.type === 'pipeline-reloaded') {
      const data = { sigs: sigs() };
      for (const res of streams) send(res, 'state', data);
    }
  };

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve) => {
      clearInterval(heartbeat);
      for (const res of streams) res.end();
      streams.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  }

  return new Promise<Listening>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      clearInterval(heartbeat);
      const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${opts.host} is in use (another evidence watch --serve?); choose another with --port N, or --port 0 for a free one`
          : err.code === 'EACCES'
            ? `port ${port} on ${opts.host} needs privileges; choose a port above 1023 with --port N`
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
              ? `cannot listen on ${where}: no such address on this machine (--host)`
              : `cannot listen on ${where}: ${err.message}`;
      resolve({ ok: false, message: why });
    });
    server.listen(opts.port, opts.host, () => {
      const address = server.address() as AddressInfo;
      port = address.port;
      const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ ok: true, server: { url: `http://${hostInUrl}:${address.port}/`, address, watch, close } });
    });
  });
}
