// Builds the CLI once before the suite: integration tests run the compiled `evidence` as a real
// subprocess, exactly as a user's shell would. Type errors are reported but do not stop the
// suite here (tsc still emits); `npm install`/`npm run build` is where they fail the build.
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): () => void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) process.stderr.write('global-setup: tsc reported type errors (see above); testing what it emitted\n');
  execFileSync(process.execPath, [join(root, 'src', 'build', 'compile-schemas.mjs')], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'src', 'build', 'bundle-cli.mjs')], { cwd: root, stdio: 'inherit' });
  // The spawner too, so that a change to src/native/spawner.c is what the suite tests.
  execFileSync(process.execPath, [join(root, 'src', 'build', 'compile-spawner.mjs')], { cwd: root, stdio: 'inherit' });

  // Every temp folder of this run (the tests', and those of the CLIs and stages they start, which
  // inherit TMPDIR) goes in one folder, removed at the end: a run used to leave ~1,300 folders in
  // /tmp, and tens of thousands of them slow every later mkdtemp there, benchmarks included.
  // Traversable by all, as /tmp is: nginx or Slurm may serve or run from below it as another user.
  const suiteTmp = mkdtempSync(join(tmpdir(), 'evidence-suite-'));
  chmodSync(suiteTmp, 0o755);
  process.env.TMPDIR = suiteTmp;
  return () => {
    try {
      rmSync(suiteTmp, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      // A folder a test left unremovable; the results stand, the leftover is reported.
      process.stderr.write(`global-setup: could not remove ${suiteTmp}: ${(err as Error).message}\n`);
    }
  };
}
