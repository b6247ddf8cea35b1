// One stage of pipeline.yaml as the model's Stage: its command or `with:` resolved, deps and outs
// (with the edges its `with:` paths imply), checks located at the YAML node. Called once per stage,
// or once per instance of a matrix stage with the instance's values as `${item.x}`. A stage without
// a matrix may gather every instance's value in a list element (`deps: [r/${item.config}.json]`).
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isScriptReference, normalizeRel } from './paths.js';
import { checkOutPath, checkProjectPath } from './out-paths.js';
import { type Diagnostic, didYouMean } from './diagnostics.js';
import type { DepSpec, OutSpec, Stage } from './model.js';
import type { Locator, PathSeg } from './yaml-locator.js';
import { describeSchemaErrors } from './schema-errors.js';
import { argvDisplay, findParamRefs, interpolateArgv, interpolateShell, interpolateText, interpolateValue, shellScriptIndex, type Vars } from './interpolate.js';
import { shellRefs } from './shell-context.js';
import { pathFieldsOf, withPaths, type NamedPath } from './named-paths.js';
import { covers, withEdges } from './with-edges.js';
import { gatherList, gatherWith } from './gather.js';
import { inputValidator } from './validators.js';
import type { StageCatalog } from '../stage-api/index.js';
import { resolveSchemaPath, toolSchemasDir } from '../schema/validate.js';
import { placementOf, type PlacementDefaults } from './resources.js';

const GLOB_CHARS = /[*?[\]{}]/;

export interface StageLoadContext {
  at: Locator;
  /** Absolute project root. */
  root: string;
  catalog: StageCatalog;
  /** The pipeline's env, resolved. */
  env: Record<string, string>;
  /** Each matrix axis' values over the whole pipeline, for gathering. */
  axes: Map<string, unknown[]>;
  diagnostics: Diagnostic[];
  /** The pipeline's `executor:` and `resources:`, defaults of its cmd stages. */
  placement: PlacementDefaults;
}

/** Builds stage `name` (as written) with `vars`; for a matrix instance, its name and values. */
export async function buildStage(
  name: string,
  def: Record<string, any>,
  vars: Vars,
  ctx: StageLoadContext,
  instance?: { name: string; item: Record<string, unknown> },
): Promise<Stage | undefined> {
  const { at, root, catalog, diagnostics } = ctx;
  const base: PathSeg[] = ['stages', name];
  const stageLoc = at.locOfNode(at.keyNode(['stages'], name));
  const used = new Set<string>();
  collectParamNames(def, used);
  const gather = (list: unknown[]) => (instance ? list : gatherList(list, ctx.axes, vars));

  const hasCmd = def.cmd !== undefined;
  const hasUses = def.uses !== undefined;
  if (hasCmd === hasUses) {
    diagnostics.push(
      at.diag(stageLoc, hasCmd ? `stage '${name}' has both cmd and uses; a stage is one kind` : `stage '${name}' has neither cmd nor uses`, 'give it `cmd: <shell command>` or `uses: <built-in stage or ./script.mjs>`'),
    );
    return undefined;
  }
  if (!hasUses && def.with !== undefined) {
    diagnostics.push(at.diag(at.locOfNode(at.keyNode(base, 'with')), `stage '${name}': \`with\` only applies to a uses-stage`));
  }
  if (def.paths !== undefined && !(hasUses && isScriptReference(def.uses))) {
    const fields = hasUses ? catalog.kinds.get(def.uses) : undefined;
    diagnostics.push(
      at.diag(
        at.locOfNode(at.keyNode(base, 'paths')),
        `stage '${name}': \`paths\` declares the path fields of a ./script stage`,
        fields ? `${def.uses} declares its own: reads ${(fields.inputPaths ?? []).join(', ') || 'none'}; writes ${(fields.outputPaths ?? []).join(', ') || 'none'}` : undefined,
      ),
    );
  }
  if (def.workdir === 'scratch' && hasUses) {
    diagnostics.push(at.diag(at.locOfNode(at.keyNode(base, 'workdir')), `stage '${name}': workdir: scratch applies to cmd stages only`, 'a uses-stage reads and writes the paths it is given'));
  }

  let cmd: string | string[] | undefined;
  let displayCmd = '';
  let withValue: Record<string, unknown> = {};
  if (hasCmd) {
    diagnostics.push(...unquotableRefs(def.cmd, base, at));
    if (Array.isArray(def.cmd)) {
      cmd = interpolateArgv(def.cmd.map(String), vars);
      displayCmd = argvDisplay(cmd);
    } else {
      cmd = interpolateShell(def.cmd, vars);
      displayCmd = cmd;
    }
  } else {
    withValue = interpolateValue(instance ? (def.with ?? {}) : gatherWith(def.with ?? {}, ctx.axes, vars), vars) as Record<string, unknown>;
    const kindDiag = await checkUses(def.uses, withValue, at, base, root, catalog);
    diagnostics.push(...kindDiag);
    displayCmd = `uses ${def.uses} with ${JSON.stringify(withValue)}`;
  }

  const deps: DepSpec[] = (def.deps ?? []).flatMap((d: string, i: number) =>
    gather([d]).map((one) => {
      const pattern = interpolateText(String(one), vars);
      return { pattern: normalizeRel(pattern), isGlob: GLOB_CHARS.test(pattern), loc: at.locOfNode(at.node([...base, 'deps', i])) };
    }),
  );

  const outs: OutSpec[] = [];
  (def.outs ?? []).forEach((o: string | { path: string; schema?: string; cache?: boolean }, i: number) => {
    const spec = typeof o === 'string' ? { path: o } : o;
    const loc = at.locOfNode(at.node(typeof o === 'string' ? [...base, 'outs', i] : [...base, 'outs', i, 'path']));
    const path = interpolateText(spec.path, vars);
    const problem = checkOutPath(path, root);
    if (problem) diagnostics.push(at.diag(loc, problem));
    outs.push({
      path: normalizeRel(path),
      schema: spec.schema === undefined ? undefined : interpolateText(spec.schema, vars),
      cache: spec.cache ?? true,
      loc,
    });
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    if (def[stream] === undefined) continue;
    const path = interpolateText(def[stream], vars);
    const loc = at.locOfNode(at.node([...base, stream]));
    const problem = checkOutPath(path, root);
    if (problem) diagnostics.push(at.diag(loc, problem));
    if (hasUses) diagnostics.push(at.diag(loc, `stage '${name}': ${stream} capture applies to cmd stages only`));
    outs.push({ path: normalizeRel(path), cache: true, stream, loc });
  }

  const timeoutMs = parseTimeout(def.timeout);
  const placement = placementOf(name, def, ctx.placement, vars, at, diagnostics);
  const needs = (def.needs ?? []).map((n: string, i: number) => ({ stage: n, loc: at.locOfNode(at.node([...base, 'needs', i])) }));
  const cwdText = interpolateText(def.cwd ?? '.', vars);
  const cwdProblem = checkProjectPath(cwdText, root, { what: 'cwd', allowRoot: true, followLinks: true });
  if (cwdProblem) diagnostics.push(at.diag(at.locOfNode(at.node([...base, 'cwd'])), cwdProblem, 'a stage runs in a folder inside the project'));
  const cwd = normalizeRel(cwdText);
  const pathFields = hasUses ? pathFieldsOf(def.uses, catalog, def.paths) : undefined;
  if (hasUses && !cwdProblem) {
    diagnostics.push(...pathDiagnostics(withPaths(pathFields, withValue, cwd, `stage '${name}'`), base, root, at));
    // What the stage's with: reads and writes are edges, as if listed under deps and outs.
    const implied = withEdges(pathFields, withValue, cwd);
    for (const d of implied.deps) {
      if (deps.some((x) => covers(x.pattern, d.path)) || outs.some((o) => covers(o.path, d.path))) continue;
      deps.push({ pattern: d.path, isGlob: GLOB_CHARS.test(d.path), loc: at.locOfNode(at.nearest([...base, ...d.at])) });
    }
    for (const o of implied.outs) {
      if (outs.some((x) => covers(x.path, o.path))) continue;
      outs.push({ path: o.path, cache: !o.appended, loc: at.locOfNode(at.nearest([...base, ...o.at])) });
    }
  }
  (def.outs ?? []).forEach((o: string | { schema?: string }, i: number) => {
    const schema = outs[i]?.schema;
    if (typeof o === 'string' || schema === undefined || existsSync(resolveSchemaPath(schema, root))) return;
    diagnostics.push(
      at.diag(at.locOfNode(at.node([...base, 'outs', i, 'schema'])), `schema '${schema}' does not exist`, 'a schema path is relative to the project root, or names a file of the tool\'s schemas/'),
    );
  });
  return {
    name: instance?.name ?? name,
    loc: stageLoc,
    kind: hasCmd ? 'cmd' : 'uses',
    cmd,
    uses: def.uses,
    kindVersion: hasUses ? kindVersionOf(def.uses, catalog) : undefined,
    with: withValue,
    deps,
    outs,
    env: { ...ctx.env, ...envStrings(def.env, vars) },
    cwd,
    workdir: def.workdir === 'scratch' ? 'scratch' : undefined,
    paths: def.paths,
    timeoutMs,
    needs,
    paramsUsed: [...used].sort(),
    display: displayCmd,
    describesPipeline: hasUses && catalog.kinds.get(def.uses)?.describesPipeline?.(withValue) ? true : undefined,
    instance: instance ? { of: name, item: instance.item } : undefined,
    ...placement,
  };
}

function parseTimeout(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v * 1000;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(String(v));
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

export function envStrings(env: Record<string, unknown> | undefined, vars: Vars): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = interpolateText(String(v), vars);
  return out;
}

function collectParamNames(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    for (const r of findParamRefs(value)) if (r.scope === 'params') into.add(r.name);
  } else if (Array.isArray(value)) for (const v of value) collectParamNames(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectParamNames(v, into);
}

/** Paths that leave the project, each at the YAML node that names it. */
export function pathDiagnostics(paths: NamedPath[], base: PathSeg[], root: string, at: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of paths) {
    const problem = checkProjectPath(p.path, root, p.rule);
    if (problem) out.push(at.diag(at.locOfNode(at.nearest([...base, ...p.at])), problem));
  }
  return out;
}

/**
 * References in a shell command (or in the script of an argv `[sh, -c, SCRIPT]`) that sit where no
 * quoting makes a value safe (shell-context.ts), each at the reference itself.
 */
function unquotableRefs(cmd: unknown, base: PathSeg[], at: Locator): Diagnostic[] {
  const argv = Array.isArray(cmd) ? cmd.map(String) : undefined;
  const script = argv ? shellScriptIndex(argv) : -1;
  const text = argv ? argv[script] : String(cmd);
  if (text === undefined || !text.includes('${')) return [];
  const out: Diagnostic[] = [];
  for (const ref of shellRefs(text)) {
    if (ref.context.kind !== 'unsafe') continue;
    const node = at.node(argv ? [...base, 'cmd', script] : [...base, 'cmd']);
    const written = ref.text;
    out.push(at.diag(at.locOfText(node, text, ref.index, written), `${written} in a shell command ${ref.context.why}`, ref.context.hint.replaceAll('${params.x}', written)));
  }
  return out;
}

/** A catalog kind's version; a script's own content is hashed as a dep instead. */
export function kindVersionOf(uses: string, catalog: StageCatalog): string {
  return isScriptReference(uses) ? 'script' : catalog.kinds.get(uses)?.version ?? 'unknown';
}

export async function checkUses(uses: string, withValue: Record<string, unknown>, at: Locator, base: PathSeg[], root: string, catalog: StageCatalog): Promise<Diagnostic[]> {
  const usesNode = at.node([...base, 'uses']);
  if (isScriptReference(uses)) {
    if (!existsSync(resolve(root, uses))) return [at.diag(at.locOfNode(usesNode), `stage script '${uses}' does not exist`)];
    return [];
  }
  const builtin = catalog.kinds.get(uses);
  if (!builtin) {
    const s = didYouMean(uses, [...catalog.kinds.keys()]);
    return [
      at.diag(
        at.locOfNode(usesNode),
        `unknown stage kind '${uses}'`,
        s ? `did you mean '${s}'?` : `built-in stages: ${[...catalog.kinds.keys()].join(', ')}; or a script path such as ./stages/my-step.mjs`,
      ),
    ];
  }
  const schemaFile = builtin.inputSchema;
  if (!schemaFile) return [];
  const validate = await inputValidator(uses, schemaFile);
  if (!validate || validate(withValue)) return [];
  const inputKeys = (path: PathSeg[]): string[] => {
    if (path.length) return [];
    const schema = JSON.parse(readFileSync(join(toolSchemasDir(), schemaFile), 'utf8'));
    return Object.keys(schema.properties ?? {});
  };
  return describeSchemaErrors(validate.errors ?? [], withValue, at, [...base, 'with'], `inputs of ${uses}`, inputKeys);
}
