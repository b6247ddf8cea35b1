// The live page's server in this process, on a real socket and real files: which URL paths become
// project paths, where the script goes into a page, the heartbeat of an idle stream, a cycle event
// only naming a changed page as changed, and close() ending open streams.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { injectLive } from '../../src/report/live-page.js';
import { projectPathOf, startLiveServer, type LiveServer } from '../../src/report/live-server.js';
import { openEvents, rawGet, type EventStream } from '../watch/serve-harness.js';

describe('projectPathOf', () => {
  it.each([
    ['/out/page.html', 'out/page.html'],
    ['/out/a%20b.html', 'out/a b.html'],
    ['/r%C3%A9sum%C3%A9.html', 'résumé.html'],
  ])('maps %s to %s', (url, path) => expect(projectPathOf(url)).toBe(path));

  it.each(['/../x', '/a/../x', '/a/%2e%2e/x', '/a/..%2Fx', '//x', '/a//x', '/./x', '/a\\x', '/a%5cx', '/a%00', '/%zz', 'x', '/a/'])('refuses %s', (url) => {
    expect(projectPathOf(url)).toBeUndefined();
  });
});

describe('injectLive', () => {
  const state = { key: 'r/report.html', sig: '1:2:3' };
  it('puts the script before the last </body>, whatever its case', () => {
    const html = '<html><body><p>a</p><pre>&lt;/body&gt;</pre></BODY></html>';
    const out = injectLive(html, state);
    expect(out.startsWith('<html><body><p>a</p><pre>&lt;/body&gt;</pre><script data-evidence-live>')).toBe(true);
    expect(out.endsWith('</script></BODY></html>')).toBe(true);
  });
  it('appends it to a page without </body>', () => {
    expect(injectLive('<p>x', state)).toMatch(/^<p>x<script data-evidence-live>.*<\/script>$/);
  });
  it("lets a page whose Content-Security-Policy forbids fetches open /events, and keeps a policy that says where it may connect", () => {
    const report = `<head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head><body></body>`;
    expect(injectLive(report, state)).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'"`);
    const single = `<meta http-equiv='content-security-policy' content='default-src "none"'><body></body>`;
    expect(injectLive(single, state)).toContain(`content="default-src &quot;none&quot;; connect-src 'self'"`);
    const own = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src https://x.test"><body></body>`;
    expect(injectLive(own, state)).toContain(`content="default-src 'none'; connect-src https://x.test"`);
    expect(injectLive('<body></body>', state)).not.toContain('connect-src');
  });
  it('cannot be closed early by a key holding </script>', () => {
    const out = injectLive('<body></body>', { key: '</script><script>alert(1)</script>', sig: 's' });
    expect(out.match(/<\/script>/g)).toHaveLength(1);
  });
});

let server: LiveServer | undefined;
let streams: EventStream[] = [];
afterEach(async () => {
  for (const s of streams) s.close();
  streams = [];
  await server?.close();
  server = undefined;
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'evidence-live-'));
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out', 'a.html'), '<body><p id=a>a1</p></body>');
  writeFileSync(join(root, 'secret.txt'), 'not an out');
  return root;
}

async function serve(root: string, pages: Array<{ stage: string; path: string }>, outs: string[], heartbeatMs?: number): Promise<LiveServer> {
  const r = await startLiveServer({ root, host: '127.0.0.1', port: 0, pages: () => pages, isOut: (p) => outs.includes(p), heartbeatMs });
  if (!r.ok) throw new Error(r.message);
  server = r.server;
  return r.server;
}

describe('startLiveServer', () => {
  it('sends a heartbeat comment on an idle stream, and ends open streams on close', async () => {
    const root = project();
    const s = await serve(root, [{ stage: 'a', path: 'out/a.html' }], ['out/a.html'], 30);
    const stream = await openEvents(s.url);
    streams.push(stream);
    await until(() => (stream.text().match(/: heartbeat\n\n/g) ?? []).length >= 2, 'two heartbeats');
    await s.close();
    server = undefined;
    await until(() => stream.ended(), 'the stream to end');
  });

  it('announces a cycle with the signature of each page, changed only for the page that changed', async () => {
    const root = project();
    writeFileSync(join(root, 'out', 'b.html'), '<body>b</body>');
    const pages = [
      { stage: 'a', path: 'out/a.html' },
      { stage: 'b', path: 'out/b.html' },
    ];
    const s = await serve(root, pages, pages.map((p) => p.path));
    const stream = await openEvents(s.url);
    streams.push(stream);
    await until(() => stream.events().length === 1, 'the state on connect');
    const before = stream.events()[0]!.data.sigs;
    writeFileSync(join(root, 'out', 'a.html'), '<body><p id=a>a2, longer</p></body>');
    s.watch({ type: 'cycle-finished', time: Date.now(), cycle: 2, durationMs: 5, status: 'success', results: [], waiting: [], findings: [] });
    await until(() => stream.events().length === 2, 'the cycle event');
    const after = stream.events()[1]!;
    expect(after.event).toBe('cycle');
    expect(after.data.cycle).toBe(2);
    expect(after.data.sigs['out/a.html']).not.toBe(before['out/a.html']);
    expect(after.data.sigs['out/b.html']).toBe(before['out/b.html']);
    expect(after.data.sigs['/']).toBe(before['/']);

    // Two pages: an index linking both.
    const index = await rawGet(s.url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<a href="/out/a.html">out/a.html</a>');
    expect(index.body).toContain('<a href="/out/b.html">out/b.html</a>');
  });

  it('serves no file that is not an out, not even through a link inside an out folder', async () => {
    const root = project();
    symlinkSync(join(root, 'secret.txt'), join(root, 'out', 'link.txt'));
    const outside = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
    writeFileSync(join(outside, 'x.txt'), 'content from elsewhere');
    symlinkSync(join(outside, 'x.txt'), join(root, 'out', 'away.txt'));
    const s = await serve(root, [{ stage: 'a', path: 'out/a.html' }], ['out/a.html', 'out/link.txt', 'out/away.txt']);
    expect((await rawGet(s.url, '/secret.txt')).status).toBe(404);
    // A link to a file of the project is that file, written there by its stage; a link out is refused.
    expect((await rawGet(s.url, '/out/link.txt')).status).toBe(200);
    expect((await rawGet(s.url, '/out/away.txt')).status).toBe(404);
    expect((await rawGet(s.url, '/out/away.txt')).body).not.toContain('content from elsewhere');
    expect((await rawGet(s.url, '/out/a.html', { Host: 'example.org' })).status).toBe(403);
    const post = await new Promise<number>((resolve, reject) => {
      const u = new URL(s.url);
      import('node:http').then(({ request }) => {
        const req = request({ host: u.hostname, port: u.port, path: '/out/a.html', method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end('x');
      }, reject);
    });
    expect(post).toBe(405);
  });
});
