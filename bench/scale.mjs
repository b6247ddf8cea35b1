// Benchmarks of the runner's cost as pipelines grow: cold runs of generated 200-stage pipelines
// against `make -j2` on the same graph (and wireit, when the registry lets it be installed into a
// temp folder), the per-stage cost of a cold fan-in at 200, 1,000 and 5,000 stages, and `validate`
// and a no-op run at 5,000 stages. Every figure comes with a baseline measured in the same run, the
// two interleaved so that both see the same machine noise. Used by `npm run bench`; alone:
//   node bench/scale.mjs [--quick]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');
const HELPER = join(ROOT, 'dist', 'native', 'evidence-spawner');
const ENV = { ...process.env, NO_COLOR: '1', CI: '' };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time of one command; throws unless it exits 0 (or was stopped at `timeoutMs`). */
function timed(file, args, cwd, { timeoutMs, env = ENV } = {}) {
  const t0 = process.hrtime.bigint();
  // SIGINT: evidence then ends its stages' process groups and exits 130, as on Ctrl-C.
  const r = spawnSync(file, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs, killSignal: 'SIGINT', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const stopped = r.error?.code === 'ETIMEDOUT' || (timeoutMs !== undefined && ms >= timeoutMs && r.status !== 0);
  if (r.status !== 0 && !stopped) throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').slice(-600)}`);
  return { ms, stopped, stdout: r.stdout ?? '' };
}

const bare = (cwd) => timed(process.execPath, ['-e', '0'], cwd).ms;

/**
 * A pipeline of trivial stages and the Makefile of the same graph. `chain`: each stage copies the
 * previous one's out; `fan-in`: n − 1 independent stages, then one that reads all of their outs
 * through a glob dep (make lists them).
 */
export function generate(shape, n) {
  const yaml = ['version: 1', 'stages:'];
  const make = [];
  const stages = [];
  if (shape === 'chain') {
    for (let i = 0; i < n; i++) {
      const cmd = i === 0 ? 'echo 0 > o/s0.txt' : `cat o/s${i - 1}.txt > o/s${i}.txt`;
      const dep = i === 0 ? 'in.txt' : `o/s${i - 1}.txt`;
      yaml.push(`  s${i}: { cmd: '${cmd}', deps: [${dep}], outs: [o/s${i}.txt] }`);
      make.push(`o/s${i}.txt: ${dep}\n\t${cmd}`);
      stages.push({ name: `s${i}`, cmd, deps: i ? [`s${i - 1}`] : [], out: `o/s${i}.txt` });
    }
    make.unshift(`all: o/s${n - 1}.txt`);
  } else {
    for (let i = 0; i < n - 1; i++) {
      const cmd = `echo ${i} > o/f${i}.txt`;
      yaml.push(`  f${i}: { cmd: '${cmd}', deps: [in.txt], outs: [o/f${i}.txt] }`);
      make.push(`o/f${i}.txt: in.txt\n\t${cmd}`);
      stages.push({ name: `f${i}`, cmd, deps: [], out: `o/f${i}.txt` });
    }
    const all = Array.from({ length: n - 1 }, (_, i) => `o/f${i}.txt`);
    yaml.push(`  fanin: { cmd: 'cat o/f*.txt > o/all.txt', deps: ['o/f*.txt'], outs: [o/all.txt] }`);
    make.push(`o/all.txt: ${all.join(' ')}\n\tcat o/f*.txt > o/all.txt`);
    stages.push({ name: 'fanin', cmd: 'cat o/f*.txt > o/all.txt', deps: stages.map((s) => s.name), out: 'o/all.txt' });
    make.unshift('all: o/all.txt');
  }
  return { yaml: yaml.join('\n') + '\n', makefile: make.join('\n') + '\n', stages };
}

/** A fresh project folder with the generated files, `in.txt` and an empty `o/` (make does not make folders). */
function project(files) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-scale-'));
  mkdirSync(join(dir, 'o'));
  writeFileSync(join(dir, 'in.txt'), 'x\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** wireit's package.json for the same graph (every stage a wireit script; `all` the last one). */
function wireitPackage(stages) {
  const scripts = {};
  const wireit = {};
  for (const s of stages) {
    scripts[s.name] = 'wireit';
    wireit[s.name] = { command: s.cmd, dependencies: s.deps, files: s.deps.length ? [] : ['in.txt'], output: [s.out] };
  }
  return JSON.stringify({ name: 'bench', private: true, scripts, wireit });
}

/**
 * Installs wireit from the npm registry into a temp folder (nothing in the project's node_modules).
 * Returns its folder, or why it could not.
 */
export function installWireit() {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-wireit-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"wireit-bench","private":true}');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--silent', 'wireit'], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0 || !existsSync(join(dir, 'node_modules', 'wireit', 'bin', 'wireit.js'))) {
    rmSync(dir, { recursive: true, force: true });
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop() || `npm exited ${r.status}`;
    return { error: `npm install wireit failed: ${why}` };
  }
  return { dir };
}

function runWireit(wireitDir, dir, script) {
  symlinkSync(join(wireitDir, 'node_modules'), join(dir, 'node_modules'));
  // How npm starts a wireit script, without npm's own start-up in the figure.
  const env = { ...ENV, npm_lifecycle_event: script, npm_package_json: join(dir, 'package.json'), npm_config_user_agent: 'npm/10 node/v20', WIREIT_PARALLEL: '2', WIREIT_CACHE: 'none', WIREIT_LOGGER: 'simple' };
  return timed(process.execPath, [join(wireitDir, 'node_modules', 'wireit', 'bin', 'wireit.js')], dir, { env }).ms;
}

/**
 * Cold runs of a generated pipeline with `-j 2`, against `make -j2` (and wireit) on the same graph,
 * interleaved; and the floor (bench/floor.mjs): a bare Node loop starting the same commands through
 * the same helper with nothing recorded, which is what any Node runner pays before its bookkeeping.
 */
export function benchColdVsMake(shape, n, { reps = 3, wireitDir } = {}) {
  const g = generate(shape, n);
  const ev = [];
  const mk = [];
  const wi = [];
  const fl = [];
  const floor = existsSync(HELPER);
  for (let i = 0; i < reps; i++) {
    const a = project({ 'pipeline.yaml': g.yaml });
    ev.push(timed(process.execPath, [CLI, 'run', '-j', '2'], a).ms);
    const b = project({ Makefile: g.makefile });
    mk.push(timed('make', ['-s', '-j2'], b).ms);
    if (floor) {
      const f = project({ 'graph.json': JSON.stringify(g.stages) });
      fl.push(timed(process.execPath, [join(ROOT, 'bench', 'floor.mjs'), 'graph.json'], f).ms);
      rmSync(f, { recursive: true, force: true });
    }
    if (wireitDir) {
      const c = project({ 'package.json': wireitPackage(g.stages) });
      wi.push(runWireit(wireitDir, c, g.stages.at(-1).name));
      rmSync(c, { recursive: true, force: true });
    }
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
  const ms = median(ev);
  const makeMs = median(mk);
  return { shape, n, ms, makeMs, ratio: ms / makeMs, wireitMs: wi.length ? median(wi) : undefined, floorMs: fl.length ? median(fl) : undefined };
}

/**
 * Cold fan-in runs at each size: the time per stage from the first stage's start to the last one's
 * end (the run's JSON events), so that loading the pipeline is not spread over the stages. A run
 * still going at `timeoutMs` is stopped (SIGINT) and its figure is over the stages done by then.
 * The folder of the largest run that finished is kept for the no-op bench (the caller removes it).
 */
export function benchPerStage(sizes, { timeoutMs }) {
  const rows = [];
  let kept;
  for (const n of sizes) {
    const dir = project({ 'pipeline.yaml': generate('fan-in', n).yaml });
    const bareMs = bare(dir);
    const r = timed(process.execPath, [CLI, 'run', '-j', '2', '--json'], dir, { timeoutMs });
    const events = r.stdout.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
    const started = events.filter((e) => e.type === 'stage-started').map((e) => e.time);
    const finished = events.filter((e) => e.type === 'stage-done').map((e) => e.time);
    const done = finished.length;
    const spanMs = done ? Math.max(...finished) - Math.min(...started) : r.ms;
    rows.push({ n, ms: r.ms, done, stopped: r.stopped, perStageMs: spanMs / Math.max(1, done), bareMs });
    if (!r.stopped) {
      if (kept) rmSync(kept.dir, { recursive: true, force: true });
      kept = { n, dir };
    } else rmSync(dir, { recursive: true, force: true });
  }
  return { rows, kept };
}

/** `validate` of 5,000-stage pipelines: the first load (YAML parsed) and a load from the model cache. */
export function benchValidate(n, { reps = 5 } = {}) {
  const out = {};
  for (const shape of ['chain', 'fan-in']) {
    const first = project({ 'pipeline.yaml': generate(shape, n).yaml });
    const cached = project({ 'pipeline.yaml': generate(shape, n).yaml });
    mkdirSync(join(cached, '.evidence'));
    timed(process.execPath, [CLI, 'validate'], cached);
    const b = [];
    const f = [];
    const c = [];
    for (let i = 0; i < reps; i++) {
      b.push(bare(first));
      // Without .evidence/ the model cache is never written: every validate parses the YAML.
      f.push(timed(process.execPath, [CLI, 'validate'], first).ms);
      c.push(timed(process.execPath, [CLI, 'validate'], cached).ms);
    }
    out[shape] = { firstMs: median(f), cachedMs: median(c), bareMs: median(b) };
    rmSync(first, { recursive: true, force: true });
    rmSync(cached, { recursive: true, force: true });
  }
  return out;
}

/** A no-op run of a project a cold run left complete, against a bare node start. */
export function benchNoop(dir, { reps = 5 } = {}) {
  timed(process.execPath, [CLI, 'run'], dir);
  // Let the stat cache's racy window pass so the no-op runs measure the steady state.
  spawnSync('sleep', ['1.2']);
  timed(process.execPath, [CLI, 'run'], dir);
  const b = [];
  const s = [];
  for (let i = 0; i < reps; i++) {
    b.push(bare(dir));
    s.push(timed(process.execPath, [CLI, 'run'], dir).ms);
  }
  return { ms: median(s), bareMs: median(b) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const w = installWireit();
  for (const shape of ['chain', 'fan-in']) console.log(JSON.stringify(benchColdVsMake(shape, 200, { wireitDir: w.dir })));
  const per = benchPerStage([200, 1000, 5000], { timeoutMs: quick ? 60_000 : 180_000 });
  console.log(JSON.stringify(per.rows));
  if (per.kept?.n === 5000) console.log(JSON.stringify(benchNoop(per.kept.dir)));
  if (per.kept) rmSync(per.kept.dir, { recursive: true, force: true });
  console.log(JSON.stringify(benchValidate(5000)));
  if (w.dir) rmSync(w.dir, { recursive: true, force: true });
  else console.log(w.error);
}
