// Runs a uses-stage in this process: a catalog kind or a user's script module, both through the
// same StageContext. Loads nothing until a stage actually runs (zx alone costs ~60 ms).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileSchemaObject, formatIssues, issuesOf } from '../schema/validate.js';
import { asStageFailure, StageFailure, type FailureInfo, type PipelineView, type StageCatalog, type StageContext, type StageModule } from '../stage-api/index.js';
import { isScriptReference } from '../pipeline/paths.js';
import { failed, type Execution, type ExecutionResult, type Executor } from './executor.js';

const require = createRequire(import.meta.url);

export interface UsesSpec {
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
  signal: AbortSignal;
  timeoutMs?: number;
  failure?: FailureInfo;
  log: (level: 'info' | 'warn', message: string) => void;
}

export async function loadStageModule(uses: string, root: string, catalog: StageCatalog): Promise<StageModule> {
  let mod: { default?: StageModule; run?: StageModule['run']; inputSchema?: object; version?: string };
  if (isScriptReference(uses)) mod = (await import(pathToFileURL(resolve(root, uses)).href)) as typeof mod;
  else {
    const kind = catalog.kinds.get(uses);
    if (!kind) throw new StageFailure('exception', `unknown stage kind '${uses}'`);
    mod = { default: await kind.load() };
  }
  const stage = mod.default ?? (mod.run ? { name: uses, version: mod.version ?? '0', inputSchema: mod.inputSchema, run: mod.run } : undefined);
  if (!stage || typeof stage.run !== 'function') {
    throw new StageFailure('exception', `${uses} does not export a stage (a default export with run(ctx), or a named export run)`);
  }
  return stage;
}

/** Runs the stage; resolves on success (with what the stage returned), throws StageFailure (or any error) on failure. */
export async function runUsesStage(spec: UsesSpec, catalog: StageCatalog): Promise<unknown> {
  const mod = await loadStageModule(spec.uses, spec.root, catalog);
  // Catalog inputs were validated when the pipeline loaded; a script's schema is known only now.
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
    primaryOut: spec.primaryOut,
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

/** The executor of uses-stages: a failure thrown by the stage becomes a result with its reason. */
export function inProcessExecutor(catalog: StageCatalog): Executor {
  return {
    captures: false,
    async execute(x: Execution): Promise<ExecutionResult> {
      const { stage } = x;
      try {
        await runUsesStage(
          {
            stage: stage.name,
            uses: stage.uses!,
            with: stage.with,
            root: x.root,
            cwd: x.cwd,
            outs: stage.outs.map((o) => o.path),
            primaryOut: x.primaryOut,
            deps: stage.deps.map((d) => d.pattern),
            params: x.params,
            env: stage.env,
            pipeline: x.pipeline,
            signal: x.signal,
            timeoutMs: stage.timeoutMs,
            log: x.log,
          },
          catalog,
        );
        return { ok: true };
      } catch (err) {
        const known = asStageFailure(err);
        if (known) return failed(known.reason, known.message);
        if (x.signal.aborted) return failed('interrupted', 'interrupted');
        const e = err as Error;
        return failed('exception', `${e?.message ?? String(err)}${e?.stack ? `\n${e.stack}` : ''}`);
      }
    },
  };
}
