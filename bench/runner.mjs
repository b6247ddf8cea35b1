// Benchmarks of the runner itself, as ratios to a baseline measured in the same run on the same
// machine (these machines are noisy): a bare `node -e 0` start, or node's own sha256 throughput.
// Run alone with `node bench/runner.mjs`, or through `npm run bench`.
import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeOnce(args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', CI: '' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Interleaves the baseline and the subject so both see the same machine noise. */
function compareWithBareNode(args, cwd, runs = 15) {
  const bare = [];
  const subject = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timeOnce(['-e', '0'], cwd));
    subject.push(timeOnce(args, cwd));
  }
  return { bareMs: median(bare), ms: median(subject) };
}

function project(files) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** No-op run of the default pipeline (copied to a temp folder with the example it runs). */
export function benchNoopDefault() {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-default-'));
  cpSync(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(ROOT, 'example'), join(dir, 'example'), { recursive: true });
  cpSync(join(ROOT, 'schemas'), join(dir, 'schemas'), { recursive: true });
  // The port's build uses the typescript package installed with the tool.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  timeOnce([CLI, 'run'], dir);
  timeOnce([CLI, 'run'], dir);
  // Let the stat cache's racy window pass so the no-op runs measure the steady state.
  spawnSync('sleep', ['1.2']);
  timeOnce([CLI, 'run'], dir);
  const r = compareWithBareNode([CLI, 'run'], dir);
  rmSync(dir, { recursive: true, force: true });
  return { name: 'no-op run of the default pipeline', ...r, ratio: r.ms / r.bareMs, target: 'ratio ≤ 1.5' };
}

/** Overhead of a cold run of a 7-stage pipeline whose critical path sleeps 0.2 s. */
export function benchColdSeven() {
  const yaml = `version: 1
stages:
  snapshot: { cmd: 'echo s > s.txt', outs: [s.txt] }
  build:    { cmd: 'sleep 0.2; echo b > b.txt', deps: [s.txt], outs: [b.txt] }
  trace_a:  { cmd: 'cat b.txt > ta.txt', deps: [b.txt], outs: [ta.txt] }
  trace_b:  { cmd: 'cat s.txt > tb.txt', deps: [s.txt], outs: [tb.txt] }
  parse_a:  { cmd: 'cat ta.txt > pa.txt', deps: [ta.txt], outs: [pa.txt] }
  parse_b:  { cmd: 'cat tb.txt > pb.txt', deps: [tb.txt], outs: [pb.txt] }
  compare:  { cmd: 'cat pa.txt pb.txt > c.txt', deps: [pa.txt, pb.txt], outs: [c.txt] }
`;
  const makefile = `all: c.txt
s.txt:
\techo s > s.txt
b.txt: s.txt
\tsleep 0.2; echo b > b.txt
ta.txt: b.txt
\tcat b.txt > ta.txt
tb.txt: s.txt
\tcat s.txt > tb.txt
pa.txt: ta.txt
\tcat ta.txt > pa.txt
pb.txt: tb.txt
\tcat tb.txt > pb.txt
c.txt: pa.txt pb.txt
\tcat pa.txt pb.txt > c.txt
`;
  const ev = [];
  const mk = [];
  const bare = [];
  for (let i = 0; i < 7; i++) {
    const d1 = project({ 'pipeline.yaml': yaml });
    bare.push(timeOnce(['-e', '0'], d1));
    ev.push(timeOnce([CLI, 'run', '-j', '2'], d1) - 200);
    const d2 = project({ Makefile: makefile });
    const t0 = process.hrtime.bigint();
    spawnSync('make', ['-s', '-j2'], { cwd: d2 });
    mk.push(Number(process.hrtime.bigint() - t0) / 1e6 - 200);
    rmSync(d1, { recursive: true, force: true });
    rmSync(d2, { recursive: true, force: true });
  }
  const ms = median(ev);
  return { name: 'cold 7-stage run, overhead above the 0.2 s critical path', ms, bareMs: median(bare), ratio: ms / median(bare), makeMs: median(mk), target: 'overhead ≤ 60 ms' };
}

/** No-op of a generated 200-stage pipeline: a 100-stage chain and a 100-way fan-in. */
export function benchNoop200() {
  const lines = ['version: 1', 'stages:'];
  lines.push(`  c0: { cmd: 'echo 0 > o/c0.txt', deps: [in.txt], outs: [o/c0.txt] }`);
  for (let i = 1; i < 100; i++) lines.push(`  c${i}: { cmd: 'cat o/c${i - 1}.txt > o/c${i}.txt', deps: [o/c${i - 1}.txt], outs: [o/c${i}.txt] }`);
  for (let i = 0; i < 99; i++) lines.push(`  f${i}: { cmd: 'echo ${i} > o/f${i}.txt', deps: [in.txt], outs: [o/f${i}.txt] }`);
  lines.push(`  fanin: { cmd: 'cat o/f*.txt > o/all.txt', deps: [${Array.from({ length: 99 }, (_, i) => `o/f${i}.txt`).join(', ')}], outs: [o/all.txt] }`);
  const dir = project({ 'pipeline.yaml': lines.join('\n') + '\n', 'in.txt': 'x\n' });
  timeOnce([CLI, 'run', '-j', '2'], dir);
  spawnSync('sleep', ['1.2']);
  timeOnce([CLI, 'run'], dir);
  const r = compareWithBareNode([CLI, 'run'], dir, 9);
  rmSync(dir, { recursive: true, force: true });
  return { name: 'no-op run of a 200-stage pipeline', ...r, ratio: r.ms / r.bareMs, target: 'ms ≤ 150' };
}

/** sha256 of a 1 GiB file through the runner's hasher, against node's sha256 over memory. */
export async function benchHash1G() {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-hash-'));
  const file = join(dir, 'big.bin');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = openSync(file, 'w');
  for (let i = 0; i < 1024; i++) writeSync(fd, chunk);
  closeSync(fd);
  const { hashFileContent } = await import(pathToFileURL(join(ROOT, 'dist', 'src', 'cache', 'hash.js')).href);
  await hashFileContent(file); // warm the page cache
  const t0 = process.hrtime.bigint();
  await hashFileContent(file);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const h = createHash('sha256');
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < 1024; i++) h.update(chunk);
  h.digest();
  const memMs = Number(process.hrtime.bigint() - t1) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  const gbps = (1 << 30) / 1e9 / (ms / 1000);
  return { name: 'sha256 of a 1 GiB file', ms, gbps, memoryGbps: (1 << 30) / 1e9 / (memMs / 1000), ratio: memMs / ms, target: '≥ 1.1 GB/s' };
}

export async function benchRunner({ skipDefault = false } = {}) {
  const results = [];
  if (!skipDefault) results.push(benchNoopDefault());
  results.push(benchColdSeven());
  results.push(benchNoop200());
  results.push(await benchHash1G());
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchRunner({ skipDefault: process.argv.includes('--skip-default') })) console.log(JSON.stringify(r));
}
