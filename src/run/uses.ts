// Runs a uses-stage in-process: a built-in from stages/ or a user's script module, both through the
// same StageContext. Loads nothing until a stage actually runs (zx alone costs ~60 ms).
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { toolRoot } from '../tool-root.js';
import { pathToFileURL } from 'node:url';
import { builtinStages } from '../../stages/registry.js';
import { compileSchemaObject, formatIssues, issuesOf } from '../schema/validate.js';
import { StageFailure, type FailureInfo, type PipelineView, type StageContext, type StageModule } from '../stage-api/index.js';
import { isScriptReference } from '../pipeline/paths.js';

const require = createRequire(import.meta.url);

export interface UsesSpec {
  stage: string;
  uses: string;
  with: Record<string, unknown>;
  root: string;
  cwd: string;
  outs: string[];
  deps: string[];
  params: Record<string, unknown>;
  env: Record<string, string>;
  pipeline: PipelineView;
  signal: AbortSignal;
  timeoutMs?: number;
  failure?: FailureInfo;
  log: (level: 'info' | 'warn', message: string) => void;
}

export async function loadStageModule(uses: string, root: string): Promise<StageModule> {
  let url: string;
  if (isScriptReference(uses)) url = pathToFileURL(resolve(root, uses)).href;
  else {
    const builtin = builtinStages[uses];
    if (!builtin) throw new StageFailure('exception', `unknown stage kind '${uses}'`);
    url = pathToFileURL(join(toolRoot(), 'dist', 'stages', builtin.module.replace(/^\.\//, ''))).href;
  }
  const mod = (await import(url)) as { default?: StageModule; run?: StageModule['run']; inputSchema?: object; version?: string };
  const stage = mod.default ?? (mod.run ? { name: uses, version: mod.version ?? '0', inputSchema: mod.inputSchema, run: mod.run } : undefined);
  if (!stage || typeof stage.run !== 'function') {
    throw new StageFailure('exception', `${uses} does not export a stage (a default export with run(ctx), or a named export run)`);
  }
  return stage;
}

/** Runs the stage; resolves on success (with what the stage returned), throws StageFailure (or any error) on failure. */
export async function runUsesStage(spec: UsesSpec): Promise<unknown> {
  const mod = await loadStageModule(spec.uses, spec.root);
  // Built-in inputs were validated when the pipeline loaded; a script's schema is known only now.
  if (isScriptReference(spec.uses) && mod.inputSchema) {
    const validate = compileSchemaObject(`script:${resolve(spec.root, spec.uses)}`, mod.inputSchema);
    if (!validate(spec.with)) throw new StageFailure('exception', `with: does not match the input schema of ${spec.uses}: ${formatIssues(issuesOf(validate.errors))}`);
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(spec.signal.reason);
  spec.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let shell: unknown;
  const ctx: StageContext = {
    stage: spec.stage,
    root: spec.root,
    cwd: spec.cwd,
    with: spec.with,
    outs: spec.outs,
    deps: spec.deps,
    params: spec.params,
    env: spec.env,
    log: { info: (m) => spec.log('info', m), warn: (m) => spec.log('warn', m) },
    signal: controller.signal,
    get $() {
      if (!shell) {
        const zx = require('zx') as { $: (opts: object) => unknown };
        shell = zx.$({ cwd: spec.cwd, env: { ...process.env, ...spec.env }, signal: controller.signal, quiet: true });
      }
      return shell;
    },
    pipeline: spec.pipeline,
    failure: spec.failure,
  };
  let timedOut = false;
  try {
    const work = mod.run(ctx);
    const guards: Array<Promise<never>> = [
      new Promise((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(new StageFailure(timedOut ? 'timeout' : 'interrupted', timedOut ? `timed out after ${spec.timeoutMs} ms` : 'interrupted')), { once: true });
      }),
    ];
    if (spec.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('timeout'));
      }, spec.timeoutMs);
    }
    return await Promise.race([work, ...guards]);
  } finally {
    clearTimeout(timer);
    spec.signal.removeEventListener('abort', onAbort);
  }
}
