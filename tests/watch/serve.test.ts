// `evidence watch --serve` over HTTP, as real processes: the page and its live stream through a
// watch cycle, a port in use refused before anything runs, the addresses it listens on, and the
// paths it refuses to serve.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { WatchProcess } from './harness.js';
import { openEvents, pageProject, rawGet, servingUrl, type EventStream } from './serve-harness.js';
import type { TestProject } from '../helpers/project.js';

let running: WatchProcess[] = [];
let streams: EventStream[] = [];
let servers: Server[] = [];
afterEach(() => {
  for (const w of running) w.kill();
  for (const s of streams) s.close();
  for (const s of servers) s.close();
  running = [];
  streams = [];
  servers = [];
});

function start(p: TestProject, args: string[]): WatchProcess {
  const w = new WatchProcess(p, args);
  running.push(w);
  return w;
}

async function events(url: string): Promise<EventStream> {
  const s = await openEvents(url);
  streams.push(s);
  return s;
}

async function until(cond: () => boolean, what: string, w: WatchProcess): Promise<void> {
  await w.waitFor(cond).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
}

/** host:port of every TCP socket the process listens on (Linux: its fds matched in /proc/net). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      const [hex, port] = f[1]!.split(':');
      // Each 32-bit word of the address is written in the host's (little-endian) byte order.
      const words = hex!.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
      const address =
        table === 'tcp'
          ? words[0]!.match(/../g)!.map((b) => parseInt(b, 16)).join('.')
          : words.join('').match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16)).join(':');
      out.push(`${address}:${parseInt(port!, 16)}`);
    }
  }
  return out;
}

describe('evidence watch --serve', () => {
  it('says there is no report yet, then shows it, and after an edit tells the open stream and serves the new content', async () => {
    const { project: p, openGate } = pageProject({ gated: true });
    const w = start(p, ['--serve', '--port', '0']);
    const url = await servingUrl(w);
    expect(w.output).toMatch(/serving http:\/\/127\.0\.0\.1:\d+\/ — out\/page\.html \(page\)/);

    // The stage is held at its gate: no report yet.
    const waiting = await rawGet(url, '/');
    expect(waiting.status).toBe(200);
    expect(waiting.body).toContain('No report yet');
    expect(waiting.body).toContain('out/page.html');
    expect(waiting.body).toContain('<noscript><meta http-equiv="refresh"'); // without JavaScript it polls
    const stream = await events(url);
    await until(() => stream.events().some((e) => e.event === 'state'), 'the state sent on connect', w);
    const initial = stream.events()[0]!.data.sigs;
    expect(initial['out/page.html']).toBe('missing');

    openGate();
    await w.waitForCycle(1);
    await until(() => stream.events().some((e) => e.event === 'cycle' && e.data.cycle === 1), 'the event of cycle 1', w);
    const after1 = stream.events().find((e) => e.event === 'cycle')!.data.sigs;
    expect(after1['out/page.html']).not.toBe('missing');
    expect(after1['/']).not.toBe(initial['/']);

    const root = await rawGet(url, '/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/out/page.html');
    const page1 = await rawGet(url, '/out/page.html');
    expect(page1.status).toBe(200);
    expect(page1.headers['content-type']).toMatch(/^text\/html/);
    expect(page1.body).toContain('<h1 id=v>one</h1>');
    expect(page1.body).toMatch(/<script data-evidence-live>.*<\/script><\/body>/);
    expect(p.read('out/page.html')).not.toContain('<script'); // injected when served, not on disk

    p.write('src/port.txt', 'two\n');
    await w.waitForCycle(2);
    await until(() => stream.events().some((e) => e.event === 'cycle' && e.data.cycle === 2), 'the event of cycle 2', w);
    const after2 = stream.events().find((e) => e.event === 'cycle' && e.data.cycle === 2)!.data;
    expect(after2.status).toBe('success');
    expect(after2.sigs['out/page.html']).not.toBe(after1['out/page.html']);
    expect((await rawGet(url, '/out/page.html')).body).toContain('<h1 id=v>two</h1>');
    expect((await rawGet(url, '/out/data.txt')).body).toBe('two\n'); // another out, served as it is

    // A failed cycle leaves the last report, marked out of date (in HTML: JavaScript is not needed).
    p.write('src/port.txt', 'fail\n');
    await w.waitForCycle(3);
    expect(w.cycleLine(3)).toMatch(/failed page/);
    await until(() => stream.events().some((e) => e.event === 'cycle' && e.data.cycle === 3), 'the event of cycle 3', w);
    expect(stream.events().find((e) => e.event === 'cycle' && e.data.cycle === 3)!.data.sigs['out/page.html']).not.toBe(after2.sigs['out/page.html']);
    const stale = (await rawGet(url, '/out/page.html')).body;
    expect(stale).toContain('<h1 id=v>two</h1>');
    expect(stale).toMatch(/<div data-evidence-stale[^>]*>Out of date: stage page failed in cycle 3\. This is the last report it wrote\.<\/div>/);
    p.write('src/port.txt', 'three\n');
    await w.waitForCycle(4);
    const fixed = (await rawGet(url, '/out/page.html')).body;
    expect(fixed).toContain('<h1 id=v>three</h1>');
    expect(fixed).not.toContain('data-evidence-stale');

    // Ctrl-C ends the open stream and the process: the usual 130.
    expect(await w.stop()).toBe(130);
    expect(stream.ended()).toBe(true);
  });

  it('follows pipeline.yaml: a second page stage turns / into an index of both, and open pages hear of it', async () => {
    const { project: p } = pageProject();
    const w = start(p, ['--serve', '--port', '0', '--json']);
    await w.waitFor(/"type":"serve-ready"/);
    const ready = JSON.parse(w.output.split('\n').find((l) => l.includes('"serve-ready"'))!);
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(ready.pages).toEqual([{ stage: 'page', path: 'out/page.html' }]);
    const url: string = ready.url;
    await w.waitFor(/"type":"cycle-finished"/);
    expect((await rawGet(url, '/')).status).toBe(302);
    const stream = await events(url);
    await until(() => stream.events().length === 1, 'the state sent on connect', w);

    p.write('pipeline.yaml', p.read('pipeline.yaml') + `  second:\n    cmd: 'echo "<p id=s>second</p>" > out/second.html'\n    outs: [out/second.html]\n`);
    await w.waitFor(/"type":"pipeline-reloaded"/);
    await until(() => stream.events().some((e) => e.event === 'state' && 'out/second.html' in e.data.sigs), 'a state naming the new page', w);
    await w.waitFor(() => (w.output.match(/"type":"cycle-finished"/g) ?? []).length >= 2);
    const index = await rawGet(url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<a href="/out/page.html">out/page.html</a>');
    expect(index.body).toContain('<a href="/out/second.html">out/second.html</a>');
    expect((await rawGet(url, '/out/second.html')).body).toContain('<p id=s>second</p>');
    expect(await w.stop()).toBe(130);
  });

  it('refuses a port in use with a message naming it, exit 2, before running or watching anything', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const { project: p } = pageProject();
    const w = start(p, ['--serve', '--port', String(port)]);
    const code = await new Promise<number | null>((resolve) => w.child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(w.output).toContain(`evidence watch: port ${port} on 127.0.0.1 is in use`);
    expect(w.output).toContain('--port 0');
    expect(w.output).not.toMatch(/watch: (watching|cycle)/);
    expect(p.takeRuns()).toEqual([]);
    expect(p.exists('out/page.html')).toBe(false);
  });

  it('rejects --port without --serve and a port that is not a number', () => {
    const { project: p } = pageProject();
    const bare = p.cli(['watch', '--port', '5000']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--port applies only with --serve');
    const bad = p.cli(['watch', '--serve', '--port', 'http']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port expects a port number from 0 to 65535 (0 picks a free one), got 'http'");
    expect(p.takeRuns()).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')('listens on 127.0.0.1 only, unless --host asks for another address', async () => {
    const { project: p } = pageProject();
    const w = start(p, ['--serve', '--port', '0']);
    const url = await servingUrl(w);
    const port = new URL(url).port;
    expect(listeningAddresses(w.child.pid!)).toEqual([`127.0.0.1:${port}`]);
    // And, where this machine has another address, nothing answers there.
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    if (other) await expect(rawGet(`http://${other.address}:${port}/`, '/')).rejects.toThrow(/ECONNREFUSED/);
    expect(await w.stop()).toBe(130);

    const { project: q } = pageProject();
    const v6 = start(q, ['--serve', '--port', '0', '--host', '::1']);
    await v6.waitFor(/watch: serving http:\/\/\[::1\]:\d+\/|cannot listen on/);
    // A machine without IPv6 cannot bind ::1; that is said plainly (exit 2) instead.
    if (/cannot listen on/.test(v6.output)) {
      expect(await new Promise((r) => v6.child.on('exit', r))).toBe(2);
      return;
    }
    const port6 = new URL(await servingUrl(v6)).port;
    expect(listeningAddresses(v6.child.pid!)).toEqual([`0:0:0:0:0:0:0:1:${port6}`]);
    expect(await v6.stop()).toBe(130);
  });

  it('serves only the outs of the pipeline: no other file, no way out of the project, no foreign Host', async () => {
    const { project: p } = pageProject();
    const w = start(p, ['--serve', '--port', '0']);
    const url = await servingUrl(w);
    await w.waitForCycle(1);
    const pipelineText = p.read('pipeline.yaml');
    expect((await rawGet(url, '/out/page.html')).status).toBe(200);
    const refused = [
      '/pipeline.yaml', // in the project, not an out
      '/src/port.txt', // a dep
      '/.evidence/',
      '/../pipeline.yaml',
      '/out/../pipeline.yaml',
      '/out/%2e%2e/pipeline.yaml',
      '/out/..%2fpipeline.yaml',
      '/out/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/%2fetc%2fpasswd',
      '//etc/passwd',
      '/out/page.html/../../pipeline.yaml',
      '/out\\..\\pipeline.yaml',
      '/out/%5c..%5cpipeline.yaml',
      '/out/page.html%00.txt',
      '/out/%zz',
      '/etc/passwd',
    ];
    for (const path of refused) {
      const r = await rawGet(url, path);
      expect([400, 404], `${path} answered ${r.status}`).toContain(r.status);
      expect(r.body).not.toContain(pipelineText.slice(0, 40));
      expect(r.body).not.toContain('root:');
    }
    const port = new URL(url).port;
    const foreign = await rawGet(url, '/out/page.html', { Host: `attacker.example:${port}` });
    expect(foreign.status).toBe(403);
    expect(foreign.body).not.toContain('id=v');
    expect((await rawGet(url, '/out/page.html', { Host: `localhost:${port}` })).status).toBe(200);
    expect(await w.stop()).toBe(130);
  });
});
