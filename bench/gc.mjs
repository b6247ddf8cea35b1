// `evidence gc` over a large store, as a ratio to `du -sb` of the same store (which stats every
// file, as gc must) and to a bare `node -e 0`, interleaved in the same run. The store is built
// directly (objects, run records, history lines) rather than by thousands of runs.
// Run alone with `node bench/gc.mjs [OBJECTS]`, or through `npm run bench`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './runner.mjs';

const { ObjectStore } = await import(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cache', 'store.js')).href);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'evidence.cjs');
const sha = (s) => createHash('sha256').update(s).digest('hex');

/** A project whose store holds `objects` objects, one run record per 4 of them, over `runs` runs. */
export function bigStore(objects, runs) {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-gc-'));
  writeFileSync(join(dir, 'pipeline.yaml'), 'version: 1\nstages:\n  s:\n    cmd: "true"\n    outs: [o.txt]\n');
  const cache = join(dir, '.evidence', 'cache');
  const store = new ObjectStore(cache);
  const history = [];
  const runLines = [];
  let outs = [];
  for (let i = 0; i < objects; i++) {
    const run = Math.floor((i * runs) / objects);
    const time = new Date(Date.UTC(2026, 0, 1, 0, run)).toISOString();
    const content = `object ${i}\n`.repeat(20);
    const hash = sha(content);
    const file = join(cache, 'objects', hash.slice(0, 2), hash.slice(2));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, 0o444);
    // As if stored by that run: gc takes a file's time as a use.
    utimesSync(file, new Date(time), new Date(time));
    history.push(JSON.stringify({ path: `out/${i % 100}.txt`, hash, size: content.length, time, runId: `run-${run}`, stage: `s${i % 100}`, event: 'produced' }));
    outs.push({ type: 'file', path: `out/${i % 100}.txt`, hash, size: content.length, mode: 0o644 });
    if (outs.length === 4) {
      // Written by the store itself, so each record carries a valid checksum.
      const fingerprint = sha(`record ${i}`);
      store.writeRun({ stage: `s${i % 100}`, fingerprint, outs, createdAt: time });
      utimesSync(store.runPath(fingerprint), new Date(time), new Date(time));
      outs = [];
    }
  }
  for (let r = 0; r < runs; r++) runLines.push(JSON.stringify({ runId: `run-${r}`, pid: 1, argv: [], startedAt: new Date(Date.UTC(2026, 0, 1, 0, r)).toISOString(), finishedAt: '', status: 'success', failed: [] }));
  appendFileSync(join(dir, '.evidence', 'history.jsonl'), history.join('\n') + '\n');
  appendFileSync(join(dir, '.evidence', 'runs.jsonl'), runLines.join('\n') + '\n');
  return dir;
}

function timed(cmd, args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout: r.stdout.toString() };
}

export function benchGc({ objects = 20_000, runs = 50, reps = 5 } = {}) {
  const dir = bigStore(objects, runs);
  try {
    const gc = [];
    const du = [];
    const bare = [];
    let plan;
    for (let i = 0; i < reps; i++) {
      bare.push(timed(process.execPath, ['-e', '0'], dir).ms);
      du.push(timed('du', ['-sb', '.evidence/cache'], dir).ms);
      const r = timed(process.execPath, [CLI, 'gc', '--dry-run', '--json', '--keep-last', '10'], dir);
      gc.push(r.ms);
      plan = JSON.parse(r.stdout);
    }
    return { objects, records: Math.floor(objects / 4), gcMs: median(gc), duMs: median(du), bareMs: median(bare), plan };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = benchGc({ objects: Number(process.argv[2] ?? 20_000) });
  console.log(`gc --dry-run over ${r.objects.toLocaleString('en')} objects and ${r.records.toLocaleString('en')} run records: ${r.gcMs.toFixed(0)} ms; ${(r.gcMs / r.duMs).toFixed(2)}× du -sb (${r.duMs.toFixed(0)} ms), bare node ${r.bareMs.toFixed(0)} ms; would free ${r.plan.freed.objects} objects and ${r.plan.freed.records} records`);
}
