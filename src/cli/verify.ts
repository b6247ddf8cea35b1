// `evidence verify [MANIFEST]`: checks a bundle (e.g. a downloaded CI artifact) against its
// manifest: every listed file present with the recorded size and sha256. Exit 0 when all match,
// 1 naming each file that is missing or differs, 2 when the manifest itself cannot be used.
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './project.js';
import { ManifestError, verifyManifest } from '../report/ci-manifest.js';
import { styleFor } from '../report/style.js';

export const DEFAULT_MANIFEST = 'reports/manifest.json';

export async function verifyVerb(inv: Invocation): Promise<number> {
  if (inv.positionals.length > 1) throw new UsageError(`expects at most one manifest, got ${inv.positionals.length}`);
  const file = inv.positionals[0] ?? DEFAULT_MANIFEST;
  let result;
  try {
    result = await verifyManifest(file, inv.values.root as string | undefined);
  } catch (err) {
    if (err instanceof ManifestError) {
      process.stderr.write(`evidence verify: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if (inv.values.json) {
    process.stdout.write(JSON.stringify({ ok: result.problems.length === 0, ...result }, null, 2) + '\n');
  } else {
    const c = styleFor(process.stdout);
    for (const p of result.problems) process.stdout.write(`${c.red(p.problem === 'missing' ? 'missing' : p.problem === 'differs' ? 'differs' : 'unsafe ')}  ${p.path}: ${p.detail}\n`);
    const bad = result.problems.length;
    process.stdout.write(
      bad
        ? `${c.red('FAILED')}: ${bad} of ${result.checked} artifact(s) do not match ${file} (bundle root ${result.root})\n`
        : `${c.green('ok')}: ${result.checked} artifact(s) match ${file} (bundle root ${result.root})\n`,
    );
  }
  return result.problems.length ? EXIT.failed : EXIT.ok;
}
