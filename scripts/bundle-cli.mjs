// Build step (after tsc): bundles the CLI's own modules into one CommonJS file,
// dist/src/cli/evidence.cjs, the `evidence` bin. Measured on the default pipeline's no-op run:
// 41 ES modules cost ~13 ms of a ~96 ms start against ~60 ms for a bare `node` (one CommonJS
// file: ~83 ms), which is what keeps a no-op run within 1.5× a bare node start.
// Packages (yaml, ajv, zx, chokidar, …) and the built-in stages stay outside the bundle: they load
// on the paths that need them, the stages from dist/stages as ES modules.
import { build } from 'esbuild';
import { chmodSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'src', 'cli', 'evidence.cjs');
// In CommonJS there is no import.meta: every use becomes this file's own URL.
const shimDir = mkdtempSync(join(tmpdir(), 'evidence-bundle-'));
const shim = join(shimDir, 'import-meta-url.js');
writeFileSync(shim, 'export var import_meta_url = require("node:url").pathToFileURL(__filename).href;\n');
try {
  await build({
    entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    inject: [shim],
    define: { 'import.meta.url': 'import_meta_url' },
    // Less to parse at every start (measured ~2 ms); identifiers stay, so stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
} finally {
  rmSync(shimDir, { recursive: true, force: true });
}
chmodSync(outfile, 0o755);
