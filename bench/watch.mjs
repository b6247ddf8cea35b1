// Latency of watch mode (not a test). Build first (npx tsc -p tsconfig.json), then run alone with
// `node bench/watch.mjs [saves]`, or through `npm run bench` via benchWatch().
//
// benchWatch(): a temp project whose first stage records, as its very first action, the wall-clock
// time in ns (`date +%s%N`, a process exec'd by the stage's shell, so the figure includes starting
// the shell); `evidence watch` runs in it; each save is timestamped just before the write. Latency =
// stage start − save, median over the saves (target ≤ 100 ms). It includes the debounce (40 ms by
// default: the quiet time that turns a burst of saves into one run), chokidar's event delivery,
// hashing and judging the pipeline, and spawning the stage.
//
// benchSaveToArtifact({ projectDir, touch, artifact }): for an existing project (the default
// pipeline: touch the port's source, wait for summary.md), the time from a save of `touch` to
// `artifact` being rewritten, median over the saves. The project is used in place; `touch` is
// restored to its original content at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wall-clock now in ms with sub-ms resolution (same clock as `date +%s%N`). */
const nowMs = () => performance.timeOrigin + performance.now();

async function until(test, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Starts `evidence watch` in `dir`; returns the process, a getter of its output, and a stopper. */
function startWatch(dir, args = [], env = {}) {
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const exited = new Promise((r) => child.on('exit', r));
  return {
    output: () => output,
    cycles: () => (output.match(/^watch: cycle \d+ (?:done|interrupted) in /gm) ?? []).length,
    async stop() {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function benchWatch({ saves = 10, debounce } = {}) {
  const base = mkdtempSync(join(tmpdir(), 'evidence-bench-watch-'));
  const dir = join(base, 'project');
  const marks = join(base, 'starts.log');
  mkdirSync(join(dir, 'input'), { recursive: true });
  writeFileSync(join(dir, 'input', 'a.txt'), 'save -1\n');
  writeFileSync(join(dir, 'input', 'b.txt'), 'unrelated\n');
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    `version: 1
stages:
  first:
    cmd: 'date +%s%N >> "$MARKS"; cp input/a.txt out/first.txt'
    deps: [input/a.txt]
    outs: [out/first.txt]
  second:
    cmd: 'cat out/first.txt > out/second.txt'
    deps: [out/first.txt]
    outs: [out/second.txt]
  unrelated:
    cmd: 'cp input/b.txt out/unrelated.txt'
    deps: [input/b.txt]
    outs: [out/unrelated.txt]
`,
  );
  const w = startWatch(dir, debounce === undefined ? [] : ['--debounce', String(debounce)], { MARKS: marks });
  const starts = () => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean).map((l) => Number(BigInt(l) / 1000n) / 1000) : []);
  const latencies = [];
  try {
    await until(() => w.cycles() >= 1, 30_000, 'the initial run');
    for (let i = 0; i < saves; i++) {
      await sleep(150); // a quiet gap: each save is its own burst
      const before = starts().length;
      const cycles = w.cycles();
      const savedAt = nowMs();
      writeFileSync(join(dir, 'input', 'a.txt'), `save ${i}\n`);
      await until(() => starts().length > before, 10_000, `the stage started by save ${i}`);
      latencies.push(starts()[before] - savedAt);
      await until(() => w.cycles() > cycles, 10_000, `the cycle of save ${i}`);
    }
  } finally {
    await w.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const med = median(latencies);
  return {
    name: 'watch: save → first affected stage process started',
    saves,
    medianMs: Math.round(med * 10) / 10,
    p90Ms: Math.round(percentile(latencies, 0.9) * 10) / 10,
    minMs: Math.round(Math.min(...latencies) * 10) / 10,
    maxMs: Math.round(Math.max(...latencies) * 10) / 10,
    debounceMs: debounce ?? 40,
    target: 'median ≤ 100 ms',
    ok: med <= 100,
  };
}

/**
 * From a save of `touch` (project-relative) to `artifact` (project-relative) being rewritten, in a
 * project that `evidence watch` can run as it is. `mutate(original, i)` makes the i-th saved
 * content; by default a trailing comment line, which changes the file for a C or TypeScript source.
 */
export async function benchSaveToArtifact({
  projectDir,
  touch,
  artifact,
  saves = 5,
  mutate = (original, i) => `${original}${original.endsWith('\n') ? '' : '\n'}// evidence bench save ${i}\n`,
  timeoutMs = 120_000,
  args = [],
}) {
  const touchPath = join(projectDir, touch);
  const artifactPath = join(projectDir, artifact);
  const original = readFileSync(touchPath, 'utf8');
  const mtime = () => {
    try {
      return statSync(artifactPath).mtimeMs;
    } catch {
      return 0;
    }
  };
  const w = startWatch(projectDir, args);
  const latencies = [];
  try {
    await until(() => w.cycles() >= 1, timeoutMs, 'the initial run');
    if (!existsSync(artifactPath)) throw new Error(`the initial run did not produce ${artifact}:\n${w.output()}`);
    for (let i = 0; i < saves; i++) {
      await sleep(200);
      const before = mtime();
      const cycles = w.cycles();
      const savedAt = nowMs();
      writeFileSync(touchPath, mutate(original, i));
      await until(() => mtime() !== before, timeoutMs, `${artifact} after save ${i}`).catch((err) => {
        throw new Error(`${err.message}:\n${w.output()}`);
      });
      latencies.push(nowMs() - savedAt);
      await until(() => w.cycles() > cycles, timeoutMs, `the cycle of save ${i}`);
    }
  } finally {
    writeFileSync(touchPath, original);
    await w.stop();
  }
  return {
    name: `watch: save of ${touch} → ${artifact} updated`,
    saves,
    medianMs: Math.round(median(latencies)),
    minMs: Math.round(Math.min(...latencies)),
    maxMs: Math.round(Math.max(...latencies)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchWatch({ saves: Number(process.argv[2] ?? 10) });
  console.log(JSON.stringify(result));
  if (!result.ok) process.exitCode = 1;
}
