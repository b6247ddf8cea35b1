// Benchmark of compare-traces' core: two in-memory TraceDocuments of N records each (default one
// million), compared with compareTraces. Run alone after a build (`npx tsc -p tsconfig.json`):
//   node bench/compare.mjs [records]
// The documents look like real traces: a per-pixel chain of 40 keys (vectors and scalars) repeated
// as many times as needed (so pairing is by occurrence), with every 10th block holding one
// per-phi record line matched by phi_tic; the port carries float32-sized noise everywhere and a few
// planted divergences (a unit factor, a sign flip, a nan).
import { pathToFileURL } from 'node:url';
import { compareTraces } from '../dist/stages/trace/compare.js';

const CHAIN = 40;

function makeDoc(n, family, port) {
  const records = new Array(n);
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  const noise = (x) => (port ? x * (1 + 3e-8 * rnd() * 2) : x);
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / CHAIN);
    const k = i % CHAIN;
    if (k === CHAIN - 1 && block % 10 === 0) {
      records[i] = {
        seq: i, line: i + 1, prefix: `${family}_PHI`, key: `${family}_PHI`, kind: 'record',
        fields: { phi_tic: block, phi_deg: block * 0.01, k_frac: noise(-0.6 + block * 1e-6), F_latt: noise(1.35 + block * 1e-5) },
      };
      continue;
    }
    seed = (block * 7919 + k * 104729) & 0x7fffffff; // same base values on both sides
    const base = [rnd() * 10, rnd() * 10, rnd() * 10];
    let values = k % 2 === 0 ? base : [base[0]];
    seed = (i * 31 + (port ? 17 : 0)) & 0x7fffffff;
    values = values.map(noise);
    if (port && i === Math.floor(n / 2)) values = values.map((v) => v * 1e-10);
    if (port && i === Math.floor(n / 3)) values = values.map((v) => -v);
    if (port && i === Math.floor((2 * n) / 3)) values = values.map(() => 'NaN');
    records[i] = {
      seq: i, line: i + 1, prefix: family, key: `key_${k}`,
      kind: values.length > 1 ? 'vector' : 'number', values,
    };
  }
  return {
    format: 'evidence-trace/1', source: port ? 'port.log' : 'ref.log',
    prefixes: [family, `${family}_PHI`], records,
    stats: { lines: n, records: n, ignored: 0, bytes: 0 },
  };
}

/** Builds the two documents, times compareTraces, returns the figures. */
export async function benchCompare(n = 1_000_000) {
  const t0 = performance.now();
  const reference = makeDoc(n, 'TRACE_C', false);
  const port = makeDoc(n, 'TRACE_PY', true);
  const t1 = performance.now();
  const comparison = compareTraces(reference, port, {
    matchBy: 'phi_tic',
    checkpoints: ['key_20'],
    ignore: ['key_7'],
    tolerance: { keys: { 'key_1*': { rel: 1e-5 }, '*.k_frac': { abs: 5e-4 } } },
  });
  const t2 = performance.now();
  return {
    records: n,
    buildMs: Math.round(t1 - t0),
    compareMs: Math.round(t2 - t1),
    itemsPerSecond: Math.round(comparison.items.length / ((t2 - t1) / 1000)),
    items: comparison.items.length,
    totals: comparison.totals,
    firstDivergence: comparison.firstDivergence?.name ?? null,
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const figures = await benchCompare(n);
  console.log(JSON.stringify(figures, null, 2));
  if (figures.compareMs > 3000) {
    console.error(`compare took ${figures.compareMs} ms for ${n} records per side (budget 3000 ms)`);
    process.exitCode = 1;
  }
}
