// Builds the CLI once before the suite: integration tests run the compiled `evidence` as a real
// subprocess, exactly as a user's shell would. Type errors are reported but do not stop the
// suite here (tsc still emits); `npm install`/`npm run build` is where they fail the build.
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) process.stderr.write('global-setup: tsc reported type errors (see above); testing what it emitted\n');
  execFileSync(process.execPath, [join(root, 'src', 'build', 'compile-schemas.mjs')], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'src', 'build', 'bundle-cli.mjs')], { cwd: root, stdio: 'inherit' });
}
