// `evidence watch --serve` for tests: a project whose one stage writes an HTML page from its input
// (held back, when asked, until the test opens a gate: a controllable fake, not a sleep), the URL
// the watch prints, raw HTTP requests (fetch would normalise '..' away before sending), and a
// server-sent event stream read as it arrives.
import { request, type IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestProject } from '../helpers/project.js';
import type { WatchProcess } from './harness.js';

export const SERVING = /^watch: serving (http:\/\/\S+\/) /m;

export interface PageProject {
  project: TestProject;
  /** Lets the stage finish (a no-op without `gated`). */
  openGate(): void;
}

/**
 * Stage `page`: out/page.html holds src/port.txt in <h1 id="v"> (it fails when that says 'fail'),
 * under the report kind's Content-Security-Policy, which allows no fetch (the live script's /events included),
 * out/data.txt is a second out; stage
 * `other` copies src/other.txt and leaves the page alone.
 */
export function pageProject(opts: { gated?: boolean } = {}): PageProject {
  const gate = join(mkdtempSync(join(tmpdir(), 'evidence-gate-')), 'open');
  if (!opts.gated) writeFileSync(gate, '');
  const wait = `while [ ! -f "${gate}" ]; do sleep 0.02; done; `;
  const pipeline = `version: 1
stages:
  page:
    cmd: '${wait}echo page >> "$RUNLOG"; v=$(cat src/port.txt); [ "$v" != fail ] || exit 1; printf "<!doctype html><html><head><meta http-equiv=\\042Content-Security-Policy\\042 content=\\042default-src \\047none\\047; style-src \\047unsafe-inline\\047; script-src \\047unsafe-inline\\047\\042><title>t</title></head><body><h1 id=v>%s</h1></body></html>" "$v" > out/page.html; echo "$v" > out/data.txt'
    deps: [src/port.txt]
    outs: [out/page.html, out/data.txt]
  other:
    cmd: 'echo other >> "$RUNLOG"; cp src/other.txt out/other.txt'
    deps: [src/other.txt]
    outs: [out/other.txt]
`;
  const project = new TestProject({ 'pipeline.yaml': pipeline, 'src/port.txt': 'one\n', 'src/other.txt': 'a\n' });
  return { project, openGate: () => writeFileSync(gate, '') };
}

export async function servingUrl(w: WatchProcess): Promise<string> {
  await w.waitFor(SERVING);
  return SERVING.exec(w.output)![1]!;
}

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A GET with the path sent exactly as given. */
export function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface EventStream {
  /** Everything received so far. */
  text(): string;
  /** Parsed `event:`/`data:` messages so far (comments left out). */
  events(): Array<{ event: string; data: any }>;
  ended(): boolean;
  close(): void;
}

export function openEvents(url: string): Promise<EventStream> {
  const u = new URL('/events', url);
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`/events answered ${res.statusCode} ${res.headers['content-type']}`));
        return;
      }
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({
        text: () => text,
        events: () =>
          text
            .split('\n\n')
            .slice(0, -1)
            .map((block) => {
              const event = /^event: (.*)$/m.exec(block)?.[1];
              const data = /^data: (.*)$/m.exec(block)?.[1];
              return event && data ? { event, data: JSON.parse(data) } : undefined;
            })
            .filter((e): e is { event: string; data: any } => e !== undefined),
        ended: () => ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
