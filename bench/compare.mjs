// Benchmark of `evidence compare` through the CLI (not a test): writes two trace documents of N
// records each (default one million) to a temp folder, runs the compiled CLI on them with --json
// into a file, and reports wall time and the CLI process's own peak RSS. Build first
// (`npm run build`), then:
//   node bench/compare.mjs [records]
// bench/run.mjs imports { benchCompare } and prints the figures itself.
//
// The documents look like real traces: a per-pixel chain of 40 keys (vectors and scalars) repeated
// as many times as needed (so pairing is by occurrence), with every 10th block holding one
// per-phi record line matched by phi_tic; the port carries float32-sized noise everywhere and a few
// planted divergences (a unit factor, a sign flip, a nan).
//
// Baselines measured in the same run: a bare node that reads and JSON.parses both documents (what
// any reader of them pays before comparing anything), and `grep -c TRACE` over them.
// Peak RSS is the CLI's own: a preloaded module writes process.resourceUsage().maxRSS at exit.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');
const CHAIN = 40;

/** Writes one side's trace document, record by record (the bench process stays small). */
export function writeTraceDoc(file, n, family, port) {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  const noise = (x) => (port ? x * (1 + 3e-8 * rnd() * 2) : x);
  const fd = openSync(file, 'w');
  let buf = `{"format":"evidence-trace/1","source":${JSON.stringify(port ? 'port.log' : 'ref.log')},"prefixes":${JSON.stringify([family, `${family}_PHI`])},"records":[\n`;
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / CHAIN);
    const k = i % CHAIN;
    let rec;
    if (k === CHAIN - 1 && block % 10 === 0) {
      rec = {
        seq: i, line: i + 1, prefix: `${family}_PHI`, key: `${family}_PHI`, kind: 'record',
        fields: { phi_tic: block, phi_deg: block * 0.01, k_frac: noise(-0.6 + block * 1e-6), F_latt: noise(1.35 + block * 1e-5) },
      };
    } else {
      seed = (block * 7919 + k * 104729) & 0x7fffffff; // same base values on both sides
      const base = [rnd() * 10, rnd() * 10, rnd() * 10];
      let values = k % 2 === 0 ? base : [base[0]];
      seed = (i * 31 + (port ? 17 : 0)) & 0x7fffffff;
      values = values.map(noise);
      if (port && i === Math.floor(n / 2)) values = values.map((v) => v * 1e-10);
      if (port && i === Math.floor(n / 3)) values = values.map((v) => -v);
      if (port && i === Math.floor((2 * n) / 3)) values = values.map(() => 'NaN');
      rec = { seq: i, line: i + 1, prefix: family, key: `key_${k}`, kind: values.length > 1 ? 'vector' : 'number', values };
    }
    buf += (i ? ',\n' : '') + JSON.stringify(rec);
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  buf += `\n],"stats":{"lines":${n},"records":${n},"ignored":0,"bytes":0}}\n`;
  writeSync(fd, buf);
  closeSync(fd);
}

function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  return { r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** A node child that runs `code` and reports its own peak RSS (MiB) in the file named by RSS_FILE. */
const RSS_PRELOAD = `process.on('exit', () => require('node:fs').writeFileSync(process.env.EVIDENCE_BENCH_RSS, String(process.resourceUsage().maxRSS / 1024)));\n`;

/**
 * Writes the documents, runs `evidence compare REF PORT --json > out` and the baselines; returns
 * the figures. `records` per side.
 */
export async function benchCompare(records = 1_000_000, { keep = false } = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-compare-'));
  try {
    const ref = join(dir, 'ref.json');
    const port = join(dir, 'port.json');
    const out = join(dir, 'comparison.json');
    const rssFile = join(dir, 'rss');
    const preload = join(dir, 'rss.cjs');
    writeFileSync(preload, RSS_PRELOAD);
    const t0 = performance.now();
    writeTraceDoc(ref, records, 'TRACE_C', false);
    writeTraceDoc(port, records, 'TRACE_PY', true);
    const buildMs = performance.now() - t0;
    const env = { ...process.env, EVIDENCE_BENCH_RSS: rssFile };
    // Warm the page cache so that every timing reads from memory.
    spawnSync('cat', [ref, port], { stdio: 'ignore' });

    const grep = timed('grep', ['-c', 'TRACE', ref, port]);
    const parse = timed(process.execPath, ['-r', preload, '-e', `const fs=require('node:fs'); for (const f of process.argv.slice(1)) JSON.parse(fs.readFileSync(f,'utf8'));`, ref, port], { env });
    const parseRssMB = Number(readFileSync(rssFile, 'utf8'));

    const outFd = openSync(out, 'w');
    const args = ['-r', preload, CLI, 'compare', ref, port, '--json', '--match-by', 'phi_tic', '--ignore', 'key_7'];
    const cli = timed(process.execPath, args, { env, stdio: ['ignore', outFd, 'pipe'] });
    closeSync(outFd);
    if (cli.r.status !== 0) throw new Error(`evidence compare exited ${cli.r.status}: ${cli.r.stderr}`);
    const peakRssMB = Number(readFileSync(rssFile, 'utf8'));
    const outputMB = statSync(out).size / 2 ** 20;
    // What the output says (read back only when small enough not to swamp the bench process).
    let summary = {};
    if (outputMB < 200) {
      const c = JSON.parse(readFileSync(out, 'utf8'));
      summary = { totals: c.totals, firstDivergence: c.firstDivergence?.name ?? null, findings: c.findings.map((f) => f.name), compact: c.compact ? true : false };
    }
    return {
      records,
      inputMB: Math.round((statSync(ref).size + statSync(port).size) / 2 ** 20),
      buildMs: Math.round(buildMs),
      compareMs: Math.round(cli.ms),
      peakRssMB: Math.round(peakRssMB),
      outputMB: Math.round(outputMB * 10) / 10,
      parseBaselineMs: Math.round(parse.ms),
      parseBaselineRssMB: Math.round(parseRssMB),
      grepMs: Math.round(grep.ms),
      ...summary,
    };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const f = await benchCompare(n);
  console.log(JSON.stringify(f, null, 2));
  console.log(
    `evidence compare, ${n.toLocaleString('en')} records a side (${f.inputMB} MiB of trace JSON): ${(f.compareMs / 1000).toFixed(2)} s, peak RSS ${f.peakRssMB} MiB, output ${f.outputMB} MiB\n` +
      `  baseline: node JSON.parse of both documents ${(f.parseBaselineMs / 1000).toFixed(2)} s (peak RSS ${f.parseBaselineRssMB} MiB), grep -c TRACE ${(f.grepMs / 1000).toFixed(2)} s; compare is ${(f.compareMs / f.parseBaselineMs).toFixed(2)}× the parse`,
  );
  if (f.compareMs > 3000 || f.peakRssMB > 300) {
    console.error(`beyond target: ≤ 3 s and ≤ 300 MB for ${n} records per side`);
    process.exitCode = 1;
  }
}
