// `npm run bench`: every benchmark of the project, each reported as figures and as a ratio to a
// baseline measured in the same run on the same machine (bare `node -e 0`, `grep -c TRACE`,
// node's own sha256, `make`), since these machines are noisy. Builds first if dist/ is missing.
//   node bench/run.mjs [--quick]     --quick: smaller parse input (50 MB) and compare (200k records),
//                                    fewer repetitions of the scale benches, cold runs stopped at 60 s
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

if (!existsSync(join(ROOT, 'dist', 'validators.js'))) {
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const { benchNoopDefault, benchColdSeven, benchNoop200, benchHash1G } = await import('./runner.mjs');
const { benchParse } = await import('./parse.mjs');
const { benchCompare } = await import('./compare.mjs');
const { benchWatch, benchSaveToArtifact } = await import('./watch.mjs');

const rows = [];
const add = (what, figure, ratio, target, ok) => {
  rows.push({ what, figure, ratio, target, ok });
  console.log(`${ok === undefined ? ' ' : ok ? '✓' : '✗'} ${what}: ${figure}${ratio ? ` (${ratio})` : ''}; target ${target}`);
};
const ms = (x) => `${x.toFixed(1)} ms`;

// The vCPUs of a VM need not be alike: on the 2-core VM these benchmarks were tuned on, a byte-scan
// loop ran 1.8× slower pinned to one vCPU than to the other (a busy neighbour on its physical
// core's other hyperthread, presumably: a latency-bound loop ran alike on both), so a single-threaded
// figure depends on where its process lands. Printed first, for reading the figures below.
function vcpuSpeeds() {
  const loop = 'const b=Buffer.alloc(1<<20,97);for(let i=0;i<b.length;i+=97)b[i]=10;let c=0;const t=performance.now();for(let r=0;r<256;r++)for(let i=0;i<b.length;i++)if(b[i]===10)c++;console.log(performance.now()-t)';
  const speeds = [];
  for (let cpu = 0; cpu < availableParallelism(); cpu++) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('taskset', ['-c', String(cpu), process.execPath, '-e', loop], { encoding: 'utf8' });
      if (r.status !== 0) return undefined;
      runs.push(Number(r.stdout));
    }
    speeds.push(runs.sort((a, b) => a - b)[1]);
  }
  return speeds;
}
const speeds = vcpuSpeeds();
if (speeds) {
  const spread = Math.max(...speeds) / Math.min(...speeds);
  console.log(`  vCPUs: a byte-scan loop pinned to each takes ${speeds.map((x, i) => `${i}: ${ms(x)}`).join(', ')} (${spread.toFixed(2)}× apart)${spread > 1.2 ? '; single-threaded figures vary with the vCPU a process lands on' : ''}`);
} else console.log('  vCPUs: not compared (taskset is missing)');

const noop = benchNoopDefault();
add('no-op run, default pipeline', ms(noop.ms), `${noop.ratio.toFixed(2)}× bare node (${ms(noop.bareMs)})`, '≤ 1.5× bare node', noop.ratio <= 1.5);

const cold = benchColdSeven();
// The figure includes node's own start (a bare `node -e 0`), which alone exceeds 60 ms here.
add(
  'cold 7-stage run, overhead above its 0.2 s critical path',
  ms(cold.ms),
  `bare node start ${ms(cold.bareMs)}, the rest ${ms(cold.ms - cold.bareMs)}; make: ${ms(cold.makeMs)} (${(cold.ms / cold.makeMs).toFixed(1)}×)`,
  '≤ 60 ms, or ≤ 1.5× make',
  cold.ms <= 60 || cold.ms <= 1.5 * cold.makeMs,
);

const n200 = benchNoop200();
add('no-op run, 200-stage pipeline', ms(n200.ms), `${n200.ratio.toFixed(2)}× bare node (${ms(n200.bareMs)})`, '≤ 150 ms', n200.ms <= 150);

const scale = await import('./scale.mjs');
const wireit = scale.installWireit();
if (!wireit.dir) console.log(`  wireit: not measured (${wireit.error})`);
console.log('  Snakemake: not measured (it cannot be installed here: PyPI is unreachable from this machine)');
for (const shape of ['chain', 'fan-in']) {
  const r = scale.benchColdVsMake(shape, 200, { reps: quick ? 1 : 3, wireitDir: wireit.dir });
  const peer = r.wireitMs === undefined ? '' : `; wireit ${ms(r.wireitMs)} (${(r.wireitMs / r.makeMs).toFixed(2)}× make)`;
  const floor = r.floorMs === undefined ? '' : `; floor (bare Node loop through the helper, nothing recorded) ${ms(r.floorMs)} (${(r.floorMs / r.makeMs).toFixed(2)}× make)`;
  add(`cold run, 200-stage ${shape}, -j 2`, ms(r.ms), `${r.ratio.toFixed(2)}× make -j2 (${ms(r.makeMs)})${peer}${floor}`, '≤ 2× make', r.ratio <= 2);
}
if (wireit.dir) rmSync(wireit.dir, { recursive: true, force: true });

const per = scale.benchPerStage([200, 1000, 5000], { timeoutMs: quick ? 60_000 : 180_000 });
for (const r of per.rows) {
  const how = r.stopped ? `stopped after ${(r.ms / 1000).toFixed(0)} s with ${r.done} of ${r.n} stages done` : `${(r.ms / 1000).toFixed(1)} s in all, loading included`;
  add(`cold fan-in, ${r.n.toLocaleString('en')} stages, -j 2: time per stage, first start to last end`, ms(r.perStageMs), `${how}; bare node ${ms(r.bareMs)}`, 'report the figure', undefined);
}
const [small, , large] = per.rows;
const growth = large.perStageMs / small.perStageMs;
add('cold fan-in: time per stage at 5,000 stages / at 200', `${growth.toFixed(2)}×`, large.stopped ? 'the 5,000-stage run did not finish' : undefined, '≤ 1.2×', growth <= 1.2 && !large.stopped);
if (per.kept?.n === 5000) {
  const r = scale.benchNoop(per.kept.dir, { reps: quick ? 3 : 5 });
  add('no-op run, 5,000-stage fan-in', ms(r.ms), `${(r.ms / r.bareMs).toFixed(2)}× bare node (${ms(r.bareMs)})`, '≤ 1 s', r.ms <= 1000);
} else add('no-op run, 5,000-stage fan-in', 'not measured: its cold run did not finish', undefined, '≤ 1 s', false);
if (per.kept) rmSync(per.kept.dir, { recursive: true, force: true });

const val = scale.benchValidate(5000, { reps: quick ? 3 : 5 });
for (const [shape, r] of Object.entries(val)) {
  add(`validate, 5,000-stage ${shape}`, ms(r.cachedMs), `${(r.cachedMs / r.bareMs).toFixed(2)}× bare node (${ms(r.bareMs)}); first load, YAML parsed: ${ms(r.firstMs)}`, '≤ 0.5 s', r.cachedMs <= 500);
}

const hash = await benchHash1G();
add('sha256 of a 1 GiB file', `${hash.gbps.toFixed(2)} GB/s`, `${hash.ratio.toFixed(2)}× node sha256 over memory (${hash.memoryGbps.toFixed(2)} GB/s)`, '≥ 1.1 GB/s', hash.gbps >= 1.1);

const parse = await benchParse({ sizeMB: quick ? 50 : 200, reps: quick ? 3 : 5 });
add(
  `parse-trace, ${parse.inputMB} MB of mixed formats`,
  `${parse.parseMBps.toFixed(0)} MB/s (median of ${parse.reps}: ${parse.slowestMBps.toFixed(0)}–${parse.fastestMBps.toFixed(0)}), peak RSS ${parse.peakRssMB.toFixed(0)} MB`,
  `${parse.slowerThanGrep.toFixed(1)}× the time of grep -c TRACE (${parse.grepMBps.toFixed(0)} MB/s)`,
  '≥ 150 MB/s, < 200 MB',
  parse.parseMBps >= 150 && parse.peakRssMB < 200,
);

const records = quick ? 200_000 : 1_000_000;
const cmp = await benchCompare(records);
// The baseline: grep over a log of as many trace lines as each side has records.
const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-grep-'));
const log = join(dir, 'trace.log');
writeFileSync(log, Array.from({ length: records }, (_, i) => `TRACE_C: key_${i % 97} ${i * 1.5} ${i / 3}\n`).join(''));
const t0 = process.hrtime.bigint();
spawnSync('grep', ['-c', 'TRACE', log]);
const grepMs = Number(process.hrtime.bigint() - t0) / 1e6;
rmSync(dir, { recursive: true, force: true });
add(`evidence compare (CLI, --json), ${records.toLocaleString('en')} records a side`, `${ms(cmp.compareMs)}, peak RSS ${cmp.peakRssMB} MB`, `${(cmp.compareMs / cmp.parseBaselineMs).toFixed(2)}× JSON.parse of both traces (${ms(cmp.parseBaselineMs)}); ${(cmp.compareMs / grepMs).toFixed(0)}× grep -c TRACE over ${records.toLocaleString('en')} lines (${ms(grepMs)})`, '≤ 3 s, ≤ 300 MB', cmp.compareMs <= 3000 && cmp.peakRssMB <= 300);

const { benchSweep } = await import('./sweep.mjs');
const sw = benchSweep({ reps: quick ? 3 : 5 });
add('validate, 1,000-instance sweep (matrix expanded from the YAML)', ms(sw.validateMs), `${(sw.validateMs / sw.bareMs).toFixed(2)}× bare node (${ms(sw.bareMs)})`, '≤ 0.3 s', sw.validateMs <= 300);
add('no-op run, 1,000-instance sweep', ms(sw.noopMs), `${(sw.noopMs / sw.bareMs).toFixed(2)}× bare node`, '≤ 1 s', sw.noopMs <= 1000);
const [few, , many] = sw.cold;
add('cold sweep: time per instance at 1,000 / at 10', `${(many.perInstanceMs / few.perInstanceMs).toFixed(2)}×`, sw.cold.map((c) => `${c.n}: ${ms(c.perInstanceMs)}`).join(', '), 'flat (≤ 1.2×)', many.perInstanceMs / few.perInstanceMs <= 1.2);

const { benchGc } = await import('./gc.mjs');
const gcr = benchGc({ objects: quick ? 5_000 : 20_000, reps: quick ? 3 : 5 });
add(`gc --dry-run, ${gcr.objects.toLocaleString('en')} objects and ${gcr.records.toLocaleString('en')} run records`, ms(gcr.gcMs), `${(gcr.gcMs / gcr.duMs).toFixed(2)}× du -sb of the store (${ms(gcr.duMs)}); bare node ${ms(gcr.bareMs)}`, 'report the figure', undefined);

const { benchReport } = await import('./report.mjs');
for (const r of await benchReport(quick ? [100_000] : [100_000, 300_000])) {
  const kb = (r.bytes / 1024).toFixed(0);
  const seen = r.loadMs === undefined ? 'not opened: no Chromium' : `load ${ms(r.loadMs)}, first paint ${ms(r.fcpMs)}; an empty page: ${ms(r.blankLoadMs)} (${(r.loadMs / r.blankLoadMs).toFixed(1)}×)`;
  add(`HTML report, ${r.items.toLocaleString('en')} items${r.compact ? ' (compact)' : ''}`, `${kb} kB, built in ${ms(r.buildMs)}, ${r.plotted} points`, seen, '≤ a few MB, ≤ 2 s to render', r.bytes <= 4 * 1024 * 1024 && (r.loadMs === undefined || r.loadMs <= 2000));
}

const watch = await benchWatch();
add('watch: save → first affected stage starts (median)', ms(watch.medianMs), `p90 ${ms(watch.p90Ms ?? watch.medianMs)}`, '≤ 100 ms', watch.medianMs <= 100);

try {
  // A copy of the default pipeline; each save changes a constant of the port, so the TS side
  // re-runs through to a new summary.md (a comment-only edit would stop at the unchanged trace).
  const project = mkdtempSync(join(tmpdir(), 'evidence-bench-save-'));
  for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(ROOT, part), join(project, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  const save = await benchSaveToArtifact({
    projectDir: project,
    touch: 'example/port/trace.ts',
    artifact: 'reports/example/multi-phi/summary.md',
    mutate: (original, i) => original.replace('7.94079248018965e-30', `7.9407924801896${i}e-30`),
  });
  rmSync(project, { recursive: true, force: true });
  add('watch: save of the port source → updated summary.md, default pipeline (median)', ms(save.medianMs), undefined, 'report the figure', undefined);
} catch (err) {
  add('watch: save of the port source → updated summary.md', `not measured: ${(err).message}`, undefined, 'report the figure', undefined);
}

const slurm = await import('./slurm.mjs');
if (slurm.slurmAvailable()) {
  const r = slurm.benchSlurm(10);
  add('executor: slurm, cold 10-stage run, -j 2: overhead per stage', ms(r.perStageOverheadMs), `bare srun true ${ms(r.srunMs)} (${(r.srunMs / r.shMs).toFixed(0)}× sh -c true); run ${(r.slurmMs / r.localMs).toFixed(2)}× the local run`, '≤ 1.5× bare srun', r.perStageOverheadMs <= 1.5 * r.srunMs);
} else console.log('  executor: slurm: not measured (no Slurm controller answers; tests/support/slurm-single-node.sh starts one)');

const { benchRemote } = await import('./remote.mjs');
const rc = await benchRemote({ reps: quick ? 2 : 5 });
if (rc.skipped) add('remote cache', `not measured: ${rc.skipped}`, undefined, 'report the figure', undefined);
else {
  add('no-op run, remote configured', ms(rc.noop.remoteMs), `${(rc.noop.remoteMs / rc.noop.plainMs).toFixed(2)}× the same run without a remote (${ms(rc.noop.plainMs)})`, '≤ 1.1× without', rc.noop.remoteMs <= 1.1 * rc.noop.plainMs);
  add(`clean clone, ${rc.stages} stages restored from nginx`, ms(rc.restore.remoteMs), `${(rc.restore.remoteMs / rc.restore.localMs).toFixed(2)}× restoring from the local cache (${ms(rc.restore.localMs)}); running them ${ms(rc.restore.ranMs)}; ${rc.restore.requestsPerStage.toFixed(1)} requests a stage`, 'report the figure', undefined);
  add(`cold run, ${rc.stages} remote misses`, ms(rc.misses.remoteMs), `${(rc.misses.remoteMs / rc.misses.plainMs).toFixed(2)}× without a remote (${ms(rc.misses.plainMs)})`, 'report the figure', undefined);
}

const failed = rows.filter((r) => r.ok === false).length;
console.log(`\n${rows.length} figures, ${failed} beyond target`);
