// The bundle manifest (schemas/manifest.schema.json): every artifact of a run with its size,
// sha256 and producing stage, plus the git SHA; and its check against a downloaded bundle
// (`evidence verify`). Paths are relative to the project root; the manifest records its own path
// so a bundle unpacked anywhere can be checked without knowing where the project was.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import type { StageStatus } from '../run/events.js';
import { hashFileContent } from '../cache/hash.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { TOOL_VERSION } from '../cache/workspace.js';
import { toolSchemasDir, validateAgainst, formatIssues } from '../schema/validate.js';
import { gitHead } from './ci-git.js';

export interface ManifestArtifact {
  path: string;
  size: number;
  sha256: string;
  stage: string;
}

export interface Manifest {
  format: 'evidence-manifest/1';
  tool: string;
  runId: string;
  createdAt: string;
  gitSha: string | null;
  pipeline: string;
  manifest: string;
  status: 'success' | 'failed' | 'interrupted' | 'gate';
  artifacts: ManifestArtifact[];
  reports?: Record<string, string>;
}

/** Files under a project-relative path (itself when it is a file), sorted, never in listing order. */
function filesOf(root: string, rel: string): string[] {
  let st;
  try {
    st = statSync(join(root, rel));
  } catch {
    return [];
  }
  if (!st.isDirectory()) return [rel];
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) out.push(...filesOf(root, `${rel}/${name}`));
  return out;
}

const PRODUCED: ReadonlySet<StageStatus> = new Set(['done', 'up-to-date', 'restored']);

export async function buildManifest(
  pipeline: Pipeline,
  statuses: ReadonlyMap<string, StageStatus>,
  run: { runId: string; status: Manifest['status']; manifestPath: string; reports?: Record<string, string> },
): Promise<Manifest> {
  const artifacts: ManifestArtifact[] = [];
  for (const [name, status] of statuses) {
    if (!PRODUCED.has(status)) continue;
    for (const out of pipeline.stages.get(name)?.outs ?? []) {
      for (const path of filesOf(pipeline.root, out.path)) {
        const abs = join(pipeline.root, path);
        artifacts.push({ path, size: statSync(abs).size, sha256: await hashFileContent(abs), stage: name });
      }
    }
  }
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    format: 'evidence-manifest/1',
    tool: TOOL_VERSION,
    runId: run.runId,
    createdAt: new Date().toISOString(),
    gitSha: gitHead(pipeline.root),
    pipeline: relative(pipeline.root, pipeline.file).split('\\').join('/'),
    manifest: run.manifestPath,
    status: run.status,
    artifacts,
    ...(run.reports ? { reports: run.reports } : {}),
  };
}

export async function writeManifest(root: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(root, manifest.manifest), JSON.stringify(manifest, null, 2) + '\n');
}

export interface VerifyProblem {
  path: string;
  problem: 'missing' | 'differs' | 'unsafe-path';
  detail: string;
}

export interface VerifyResult {
  root: string;
  checked: number;
  problems: VerifyProblem[];
}

export class ManifestError extends Error {}

/**
 * Checks every artifact a manifest lists against the files of a bundle. The bundle root is `root`
 * when given, else the folder that holds the manifest at its recorded path.
 */
export async function verifyManifest(manifestFile: string, root?: string): Promise<VerifyResult> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    throw new ManifestError(`cannot read manifest '${manifestFile}': ${(err as Error).message}`);
  }
  const issues = validateAgainst(join(toolSchemasDir(), 'manifest.schema.json'), value);
  if (issues.length) throw new ManifestError(`'${manifestFile}' is not an evidence manifest: ${formatIssues(issues)}`);
  const m = value as Manifest;
  const depth = posix.dirname(m.manifest) === '.' ? 0 : posix.dirname(m.manifest).split('/').length;
  const base = root ? resolve(root) : resolve(dirname(resolve(manifestFile)), ...Array<string>(depth).fill('..'));
  const problems: VerifyProblem[] = [];
  for (const a of m.artifacts) {
    const abs = resolve(base, a.path);
    if (abs !== base && !abs.startsWith(base + '/')) {
      problems.push({ path: a.path, problem: 'unsafe-path', detail: 'leaves the bundle folder; not checked' });
      continue;
    }
    let size: number;
    try {
      const st = statSync(abs);
      if (st.isDirectory()) throw new Error('is a folder');
      size = st.size;
    } catch {
      problems.push({ path: a.path, problem: 'missing', detail: `missing (from stage ${a.stage})` });
      continue;
    }
    const sha = await hashFileContent(abs);
    if (sha !== a.sha256 || size !== a.size) {
      problems.push({ path: a.path, problem: 'differs', detail: `differs: sha256 ${sha.slice(0, 12)}…, ${size} bytes; manifest says ${a.sha256.slice(0, 12)}…, ${a.size} bytes (stage ${a.stage})` });
    }
  }
  return { root: base, checked: m.artifacts.length, problems };
}
