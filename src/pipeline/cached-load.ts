// Loads the pipeline through a model cache: when pipeline.yaml's text, the param overrides and the
// tool version are unchanged since the last load, the validated model is read back from JSON and
// the YAML parser, the schema check and did-you-mean machinery never load (a no-op run's start-up
// budget is ~1.5× a bare `node`). Checks that depend on the file system are repeated on a hit.
// A hit needs the same bytes as the cached model's source, not merely the same decoded text: these
// very bytes loaded (and passed the UTF-8 check) before, so no check of the text is repeated. They
// are compared as they are rather than through a hash, so that `validate` and `dag` never load
// node's crypto (a few ms of every start).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import type { Pipeline, Stage } from './model.js';
import { isScriptReference } from './paths.js';
import { TOOL_VERSION } from '../version.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { StageCatalog } from '../stage-api/index.js';
import type { NamedPath } from './named-paths.js';

export interface CachedLoadResult {
  pipeline?: Pipeline;
  diagnostics: Diagnostic[];
  source?: string;
}

// Bumped whenever the loader's output for the same file changes (a new model field, new implied
// edges), so that a model cached by an older build is not read back.
const MODEL_FORMAT = 4;

interface CacheFile {
  key: string;
  pipeline: Omit<Pipeline, 'stages'> & { stages: Array<[string, Stage]> };
}

export async function loadPipelineCached(fileArg: string, paramOverrides: Array<[string, string]>, catalog: StageCatalog): Promise<CachedLoadResult> {
  const file = resolve(fileArg);
  let bytes: Buffer | undefined;
  try {
    bytes = readFileSync(file);
  } catch {
    // Let the full loader produce the located error.
  }
  const stateDir = join(dirname(file), '.evidence');
  const cacheFile = join(stateDir, 'pipeline-model.json');
  // The catalog's kinds and versions are part of the key: the model records each kind's version.
  const kinds = [...catalog.kinds].map(([name, k]) => [name, k.version, k.inputSchema ?? '', k.inputPaths ?? [], k.outputPaths ?? [], k.appendedPaths ?? []]);
  const key = JSON.stringify([MODEL_FORMAT, TOOL_VERSION, file, paramOverrides, kinds]);
  if (bytes !== undefined) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile;
      if (cached.key === key && bytes.equals(Buffer.from(cached.pipeline.source, 'utf8'))) {
        const pipeline: Pipeline = { ...cached.pipeline, stages: new Map(cached.pipeline.stages) };
        if (await stillValid(pipeline, catalog)) return { pipeline, diagnostics: [], source: bytes.toString('utf8') };
      }
    } catch {
      // No cache or an unreadable one: load for real.
    }
  }
  const { loadPipeline } = await import('./load.js');
  const result = await loadPipeline(fileArg, { paramOverrides, catalog });
  if (result.pipeline && existsSync(stateDir)) {
    const data: CacheFile = { key, pipeline: { ...result.pipeline, stages: [...result.pipeline.stages.entries()] } };
    try {
      writeFileAtomicSync(cacheFile, JSON.stringify(data));
    } catch {
      // The cache is an accelerator only.
    }
  }
  return result;
}

/** The checks of the loader that depend on the file system rather than on the text. */
async function stillValid(pipeline: Pipeline, catalog: StageCatalog): Promise<boolean> {
  const { checkOutPath, checkProjectPath, forgetRealpaths, primeRealpaths } = await import('./out-paths.js');
  const { pathFieldsOf, reportsPaths, withPaths } = await import('./named-paths.js');
  const { resolveSchemaPath } = await import('../schema/validate.js');
  forgetRealpaths();
  primeRealpaths(pipeline.root, [...pipeline.stages.values()].flatMap((s) => s.outs.map((o) => o.path)));
  // Only paths written to can be led outside by a symlink made since the model was cached.
  const escapes = (paths: NamedPath[]) => paths.some((p) => p.rule.followLinks && checkProjectPath(p.path, pipeline.root, p.rule));
  for (const stage of pipeline.stages.values()) {
    if (stage.kind === 'uses' && stage.uses && isScriptReference(stage.uses) && !existsSync(resolve(pipeline.root, stage.uses))) return false;
    for (const o of stage.outs) if (checkOutPath(o.path, pipeline.root) || (o.schema !== undefined && !existsSync(resolveSchemaPath(o.schema, pipeline.root)))) return false;
    if (stage.cwd !== '.' && checkProjectPath(stage.cwd, pipeline.root, { what: 'cwd', allowRoot: true, followLinks: true })) return false;
    if (stage.kind === 'uses' && stage.uses && escapes(withPaths(pathFieldsOf(stage.uses, catalog, stage.paths), stage.with, stage.cwd, stage.name))) return false;
  }
  const blocker = pipeline.blocker;
  if (blocker && isScriptReference(blocker.uses) && !existsSync(resolve(pipeline.root, blocker.uses))) return false;
  if (blocker && escapes(withPaths(pathFieldsOf(blocker.uses, catalog), blocker.with, '.', 'the blocker'))) return false;
  if (escapes(reportsPaths(pipeline.reports, pipeline.params))) return false;
  return true;
}
