// Build step (after tsc): bundles the CLI's own modules into one CommonJS file,
// dist/src/cli/evidence-bundle.cjs, which the `evidence` bin (dist/src/cli/evidence.cjs, copied from
// launcher.cjs) runs from V8's code cache. Measured on the default pipeline's no-op run:
// 41 ES modules cost ~13 ms of a ~96 ms start against ~60 ms for a bare `node` (one CommonJS
// file: ~83 ms), which is what keeps a no-op run within 1.5× a bare node start.
// Packages (ajv, zx, chokidar, …) and the built-in stages stay outside the bundle: they load on
// the paths that need them, the stages from dist/stages as ES modules. yaml, which every first
// load of a pipeline needs, is bundled on its own into dist/vendor/yaml.cjs: one file instead of
// ~60 loads in ~7 ms instead of ~25 (a cold run's largest start-up cost).
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outfile = join(root, 'dist', 'src', 'cli', 'evidence-bundle.cjs');
const bin = join(root, 'dist', 'src', 'cli', 'evidence.cjs');
// In CommonJS there is no import.meta: every use becomes this file's own URL.
const shimDir = mkdtempSync(join(tmpdir(), 'evidence-bundle-'));
const shim = join(shimDir, 'import-meta-url.js');
writeFileSync(shim, 'export var import_meta_url = require("node:url").pathToFileURL(__filename).href;\n');
const vendorYaml = join(root, 'dist', 'vendor', 'yaml.cjs');
await build({
  entryPoints: [createRequire(import.meta.url).resolve('yaml')],
  outfile: vendorYaml,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
/** The CLI's `require('yaml')` becomes a require of the vendored single file, next to it in dist/. */
const yamlToVendor = {
  name: 'yaml-to-vendor',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: '../../vendor/yaml.cjs', external: true }));
  },
};
try {
  await build({
    entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    plugins: [yamlToVendor],
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
// The bin is the launcher: the bundle keeps no hashbang (vm.Script would not parse one).
const bundled = readFileSync(outfile, 'utf8');
if (bundled.startsWith('#!')) writeFileSync(outfile, bundled.slice(bundled.indexOf('\n') + 1));
// A rebuilt bundle makes its old code caches useless (V8 would refuse them): remove them.
for (const f of readdirSync(dirname(outfile))) if (f.endsWith('.v8cache')) rmSync(join(dirname(outfile), f), { force: true });
copyFileSync(join(root, 'src', 'build', 'launcher.cjs'), bin);
chmodSync(bin, 0o755);
