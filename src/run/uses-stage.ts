// What running a `uses:` stage means, wherever it runs (in this process for a catalog kind, in a
// worker thread for a user's script): the stage's description as plain data, loading its module,
// checking a script's inputs against its own schema, and the StageContext it receives. Both places
// build the context here, so a stage sees the same thing in either. Knows nothing about threads,
// timeouts or the scheduler.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileSchemaObject, formatIssues, issuesOf } from '../schema/validate.js';
import { StageFailure, type FailureInfo, type PipelineView, type StageCatalog, type StageContext, type StageModule } from '../stage-api/index.js';
import { isScriptReference } from '../pipeline/paths.js';
import { importModule } from '../import-module.js';

const require = createRequire(import.meta.url);

/** A uses-stage as plain data (it crosses to a worker thread as is). */
export interface UsesData {
  stage: string;
  uses: string;
  with: Record<string, unknown>;
  root: string;
  cwd: string;
  outs: string[];
  primaryOut?: string;
  deps: string[];
  params: Record<string, unknown>;
  env: Record<string, string>;
  pipeline: PipelineView;
  failure?: FailureInfo;
}

export type StageLog = (level: 'info' | 'warn', message: string) => void;

export async function loadStageModule(uses: string, root: string, catalog?: StageCatalog): Promise<StageModule> {
  let mod: { default?: StageModule; run?: StageModule['run']; inputSchema?: object; version?: string };
  if (isScriptReference(uses)) mod = await importModule<typeof mod>(pathToFileURL(resolve(root, uses)).href);
  else {
    const kind = catalog?.kinds.get(uses);
    if (!kind) throw new StageFailure('exception', `unknown stage kind '${uses}'`);
    mod = { default: await kind.load() };
  }
  const stage = mod.default ?? (mod.run ? { name: uses, version: mod.version ?? '0', inputSchema: mod.inputSchema, run: mod.run } : undefined);
  if (!stage || typeof stage.run !== 'function') {
    throw new StageFailure('exception', `${uses} does not export a stage (a default export with run(ctx), or a named export run)`);
  }
  return stage;
}

/** Catalog inputs were validated when the pipeline loaded; a script's schema is known only once it is loaded. */
export function checkScriptInputs(data: UsesData, mod: StageModule): void {
  if (!isScriptReference(data.uses) || !mod.inputSchema) return;
  const validate = compileSchemaObject(`script:${resolve(data.root, data.uses)}`, mod.inputSchema);
  if (!validate(data.with)) throw new StageFailure('exception', `with: does not match the input schema of ${data.uses}: ${formatIssues(issuesOf(validate.errors))}`);
}

export function stageContext(data: UsesData, signal: AbortSignal, log: StageLog): StageContext {
  let shell: unknown;
  return {
    stage: data.stage,
    root: data.root,
    cwd: data.cwd,
    with: data.with,
    outs: data.outs,
    primaryOut: data.primaryOut,
    deps: data.deps,
    params: data.params,
    env: data.env,
    log: { info: (m) => log('info', m), warn: (m) => log('warn', m) },
    signal,
    // zx alone costs ~60 ms to load: only a stage that uses it pays.
    get $() {
      if (!shell) {
        const zx = require('zx') as { $: (opts: object) => unknown };
        shell = zx.$({ cwd: data.cwd, env: { ...process.env, ...data.env }, signal, quiet: true });
      }
      return shell;
    },
    pipeline: data.pipeline,
    failure: data.failure,
  };
}
