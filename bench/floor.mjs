// The floor under any Node runner on this machine: a bare Node process that starts a graph's
// commands through the same helper evidence uses (dist/native/evidence-spawner), two at a time and
// in dependency order, and does nothing else: no pipeline to load, no hashing, no captures (the
// commands' output goes to /dev/null), no cache, no lock. What a cold evidence run costs above this
// figure is the bookkeeping; what this figure costs above make is node's start and the IPC.
//   node bench/floor.mjs GRAPH.json     GRAPH: [{ name, cmd, deps: [names] }], run in the cwd
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELPER = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'native', 'evidence-spawner');
const JOBS = 2;

if (!existsSync(HELPER)) {
  console.error(`floor: no helper at ${HELPER} (it is built by npm run build with a C compiler)`);
  process.exit(2);
}
const stages = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const waitingOn = new Map(stages.map((s) => [s.name, new Set(s.deps)]));
const dependents = new Map(stages.map((s) => [s.name, []]));
for (const s of stages) for (const d of s.deps) dependents.get(d).push(s.name);
const byName = new Map(stages.map((s) => [s.name, s]));

const helper = spawn(HELPER, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
const cwd = process.cwd();
const ready = stages.filter((s) => s.deps.length === 0).map((s) => s.name);
const started = [];
const byPid = new Map();
let running = 0;
let done = 0;
let failed = 0;

function pump() {
  while (running < JOBS && ready.length) {
    const name = ready.shift();
    const fields = ['', cwd, '/dev/null', '/dev/null', '3', '/bin/sh', '-c', byName.get(name).cmd, String(env.length), ...env];
    helper.stdin.write(fields.join('\0') + '\0');
    started.push(name);
    running++;
  }
  if (done === stages.length) helper.stdin.end();
}

let pending = '';
helper.stdout.setEncoding('utf8');
helper.stdout.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const [kind, a, how, n] = pending.slice(0, nl).split(' ');
    pending = pending.slice(nl + 1);
    // Start replies come in the order of the requests.
    if (kind === 'S') byPid.set(a, started.shift());
    else if (kind === 'E') throw new Error(`floor: could not start ${started.shift()} (errno ${a})`);
    else if (kind === 'X') {
      const name = byPid.get(a);
      byPid.delete(a);
      running--;
      done++;
      if (how !== 'c' || n !== '0') failed++;
      for (const d of dependents.get(name)) {
        const w = waitingOn.get(d);
        w.delete(name);
        if (w.size === 0) ready.push(d);
      }
    }
  }
  pump();
});
helper.on('exit', () => process.exit(failed || done !== stages.length ? 1 : 0));
pump();
