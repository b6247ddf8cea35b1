// Build step: compiles the stage spawner (src/native/spawner.c) into dist/native/evidence-spawner
// with the machine's C compiler ($CC, else cc). Optional: without a compiler the runner starts
// stages through node's own spawn (slower per stage, same behaviour), so a failure here warns and
// the build goes on.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, 'src', 'native', 'spawner.c');
const out = join(root, 'dist', 'native', 'evidence-spawner');
const tmp = `${out}.${process.pid}.tmp`;
mkdirSync(dirname(out), { recursive: true });
if (process.platform === 'win32') process.exit(0);
const cc = process.env.CC || 'cc';
const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, source], { encoding: 'utf8' });
if (r.status === 0) {
  renameSync(tmp, out);
} else {
  rmSync(tmp, { force: true });
  // An old helper would not match this build's protocol.
  rmSync(out, { force: true });
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-3).join('\n') || `exit ${r.status}`;
  console.warn(`evidence: the stage spawner was not compiled (${cc}: ${why}); stages will start through node's spawn, which costs a few ms more per stage.`);
}
