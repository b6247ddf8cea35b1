// `evidence verify [MANIFEST]`: checks a bundle (e.g. a downloaded CI artifact) against its
// manifest: every listed file present with the recorded size and sha256. Exit 0 when all match,
// 1 naming each file that is missing or differs, 2 when the manifest itself cannot be used. With
// no manifest named, the pipeline's own (`reports.manifest`) is checked.
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { openProject, UsageError } from './project.js';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { StageCatalog } from '../stage-api/index.js';
import { ManifestError, verifyManifest } from '../report/ci-manifest.js';
import { styleFor } from '../report/style.js';

export const DEFAULT_MANIFEST = 'reports/manifest.json';

/**
 * The manifest to check when none is named: the pipeline's `reports.manifest` (relative to the
 * project root), else the default. A bundle downloaded without its pipeline has the default.
 */
async function defaultManifest(pipelineFile: string, catalog: StageCatalog): Promise<{ ok: true; file: string } | { ok: false; text: string }> {
  if (!existsSync(pipelineFile)) return { ok: true, file: DEFAULT_MANIFEST };
  const opened = await openProject(pipelineFile, [], catalog);
  if (!opened.ok) return { ok: false, text: opened.text };
  const { pipeline } = opened.project;
  const { reportPathsOf } = await import('../report/ci.js');
  return { ok: true, file: relative(process.cwd(), join(pipeline.root, reportPathsOf(pipeline).manifest)) || '.' };
}

export async function verifyVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  if (inv.positionals.length > 1) throw new UsageError(`expects at most one manifest, got ${inv.positionals.length}`);
  let file = inv.positionals[0];
  if (file === undefined) {
    const found = await defaultManifest(inv.values.file as string, catalog);
    if (!found.ok) {
      process.stderr.write(`${found.text}\nevidence verify: cannot read the pipeline to find its reports.manifest; name the manifest: evidence verify MANIFEST\n`);
      return EXIT.usage;
    }
    file = found.file;
  }
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
