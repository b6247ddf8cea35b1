// Loads pipeline.yaml into a validated Pipeline model. Every problem becomes a Diagnostic pointing
// at the YAML node that caused it; nothing is thrown for user errors. Knows nothing about how
// stages are scheduled or run.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { forgetRealpaths } from './out-paths.js';
export { isScriptReference, normalizeRel } from './paths.js';
import { LineCounter, isScalar, visit, parse as parseYaml, type Scalar } from 'yaml';
import { type Diagnostic, didYouMean } from './diagnostics.js';
import type { BlockerSpec, Pipeline, Stage } from './model.js';
import { Locator } from './yaml-locator.js';
import { describeSchemaErrors } from './schema-errors.js';
import { findParamRefs, interpolateValue, type Vars } from './interpolate.js';
import { parsePipelineYaml } from './parse-yaml.js';
import { invalidUtf8Offset, lineColumnOfByte } from './utf8.js';
import { parseByteSize, SIZE_EXPECTED } from './byte-size.js';
import { pathFieldsOf, reportsPaths, withPaths } from './named-paths.js';
import { checkParamChoices, readParams } from './param-specs.js';
import { pipelineValidator } from './validators.js';
import type { StageCatalog } from '../stage-api/index.js';
import { buildStage, checkUses, envStrings, kindVersionOf, pathDiagnostics, type StageLoadContext } from './load-stage.js';
import { expandMatrix, readAxes, type Axis } from './matrix.js';
import { itemRefProblems } from './item-refs.js';
import { checkDefaultResources } from './resources.js';
import { readRemoteSpec, type RawRemote } from './remote-spec.js';

export interface LoadOptions {
  /** Raw `-p name=value` overrides; values are read as YAML scalars/flows (`[1, 2]`, `1e-5`, `text`). */
  paramOverrides?: Array<[string, string]>;
  /** The stage kinds `uses:` may name (besides scripts); the CLI hands in the built-ins. */
  catalog: StageCatalog;
}

export interface LoadResult {
  pipeline?: Pipeline;
  diagnostics: Diagnostic[];
  /** The file's text, when it could be read (for rendering diagnostics). */
  source?: string;
}

const GLOB_CHARS = /[*?[\]{}]/;




function parseOverride(raw: string): unknown {
  try {
    const v = parseYaml(raw);
    if (v === null || typeof v === 'object' && !Array.isArray(v)) return raw;
    return v;
  } catch {
    return raw;
  }
}

export async function loadPipeline(fileArg: string, opts: LoadOptions): Promise<LoadResult> {
  forgetRealpaths();
  const file = resolve(fileArg);
  const display = fileArg;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      diagnostics: [
        {
          file: display,
          line: 0,
          column: 0,
          message: code === 'ENOENT' ? `no pipeline file '${display}'` : `cannot read '${display}': ${(err as Error).message}`,
          hint: code === 'ENOENT' ? 'run evidence from the folder holding pipeline.yaml, or pass --file PATH' : undefined,
        },
      ],
    };
  }

  const source = bytes.toString('utf8');
  const badByte = invalidUtf8Offset(bytes);
  if (badByte >= 0) {
    const { line, column } = lineColumnOfByte(bytes, badByte);
    const byte = bytes[badByte]!.toString(16).toUpperCase().padStart(2, '0');
    return {
      source,
      diagnostics: [{ file: display, line, column, length: 1, message: `invalid UTF-8: byte 0x${byte} at byte offset ${badByte}`, hint: `save ${display} as UTF-8` }],
    };
  }

  const lines = new LineCounter();
  const parsed = parsePipelineYaml(source, lines);
  if (!('doc' in parsed)) {
    return {
      source,
      diagnostics: parsed.problems.map((p) => {
        const pos = lines.linePos(p.offset);
        return { file: display, line: pos.line, column: pos.col, length: p.length, message: p.message, hint: p.hint };
      }),
    };
  }
  const doc = parsed.doc;
  const at = new Locator(display, doc, lines, source);
  if (doc.errors.length) {
    // Only the first: YAML errors cascade, and the rest are usually echoes of it.
    const e = doc.errors[0]!;
    const loc = at.locOfOffset(e.pos[0], Math.max(1, e.pos[1] - e.pos[0]));
    const line = source.split(/\r?\n/)[loc.line - 1] ?? '';
    const hint = /\$\{/.test(line) && /[[{]/.test(line)
      ? 'inside [ ] or { }, a ${params.x} reference must be quoted: ["a/${params.x}.txt"], or use a block list'
      : undefined;
    return { source, diagnostics: [at.diag(loc, `YAML syntax error: ${e.message.split('\n')[0]}`, hint)] };
  }
  if (parsed.problems.length) return { source, diagnostics: parsed.problems.map((p) => at.diag(at.locOfOffset(p.offset, p.length), p.message, p.hint)) };
  // parsePipelineYaml bounded what aliases expand to, so yaml's own (coarser) alias limit is off.
  const raw = doc.toJS({ maxAliasCount: -1 }) as unknown;
  const validate = await pipelineValidator();
  if (!validate(raw)) {
    return { source, diagnostics: describeSchemaErrors(validate.errors ?? [], raw, at, [], '') };
  }
  const data = raw as {
    params?: Record<string, unknown>;
    env?: Record<string, unknown>;
    stages: Record<string, Record<string, any>>;
    blocker?: { uses: string; with?: Record<string, unknown> };
    protect?: string[];
    reports?: Record<string, unknown>;
    cache?: { max_size?: string | number; keep_last?: number };
    executor?: 'local' | 'slurm';
    resources?: Record<string, unknown>;
    remote?: RawRemote;
  };

  const diagnostics: Diagnostic[] = [];
  const root = dirname(file);

  // Params and their overrides.
  const { params, specs: paramSpecs } = readParams(data.params ?? {}, at);
  for (const name of Object.keys(paramSpecs)) diagnostics.push(...checkParamChoices(name, paramSpecs[name]!, params[name], at, undefined));
  // A -p that names no param but a matrix axis narrows that axis (matrix.ts).
  const axisNames = new Set(Object.values(data.stages).flatMap((d) => (d.matrix && typeof d.matrix === 'object' ? Object.keys(d.matrix) : [])));
  const axisOverrides = new Map<string, { value: unknown; raw: string }>();
  for (const [name, value] of opts.paramOverrides ?? []) {
    if (!Object.hasOwn(params, name) && axisNames.has(name)) {
      axisOverrides.set(name, { value: parseOverride(value), raw: value });
      continue;
    }
    if (!Object.hasOwn(params, name)) {
      const s = didYouMean(name, Object.keys(params));
      diagnostics.push({
        file: 'command line',
        line: 0,
        column: 0,
        message: `-p ${name}=...: the pipeline has no param '${name}'`,
        hint: s ? `did you mean '${s}'?` : `params: ${Object.keys(params).join(', ') || '(none)'}${axisNames.size ? `; matrix axes: ${[...axisNames].join(', ')}` : ''}`,
      });
      continue;
    }
    params[name] = parseOverride(value);
    const spec = paramSpecs[name];
    if (spec) diagnostics.push(...checkParamChoices(name, spec, params[name], at, value));
  }
  const vars: Vars = { params, root };

  // Every ${params.x} anywhere outside `params:` must name a param.
  visit(doc, {
    Pair(_, pair, path) {
      if (path.length === 1 && isScalar(pair.key) && pair.key.value === 'params') return visit.SKIP;
      return undefined;
    },
    Scalar(_, node: Scalar) {
      if (typeof node.value !== 'string' || !node.range) return;
      for (const ref of findParamRefs(node.value)) {
        if (ref.scope !== 'params' || Object.hasOwn(params, ref.name)) continue;
        const s = didYouMean(ref.name, Object.keys(params));
        diagnostics.push(
          at.diag(
            at.locOfText(node, node.value, ref.index, `\${params.${ref.name}}`),
            `\${params.${ref.name}} names no param`,
            s ? `did you mean '${s}'?` : `params: ${Object.keys(params).join(', ') || '(none)'}`,
          ),
        );
      }
    },
  });

  const env = envStrings(data.env, vars);
  // Matrix stages' axes first: a stage without a matrix may gather every value of an axis.
  const axesOf = new Map<string, Axis[]>();
  const gathered = new Map<string, unknown[]>();
  // Each axis value once, by its JSON text: comparing every value with every one already kept cost
  // a 1,000-value axis half a million stringifications (~90 ms of a validate).
  const seenText = new Map<string, Set<string>>();
  for (const [name, def] of Object.entries(data.stages)) {
    if (def.matrix === undefined) continue;
    const read = readAxes(name, def.matrix, { params, root, at, axisOverrides });
    diagnostics.push(...read.diagnostics);
    if (read.axes.length !== Object.keys(def.matrix).length) continue;
    axesOf.set(name, read.axes);
    for (const axis of read.axes) {
      const known = gathered.get(axis.name) ?? [];
      const seen = seenText.get(axis.name) ?? new Set<string>();
      for (const v of axis.values) {
        const text = JSON.stringify(v);
        if (seen.has(text)) continue;
        seen.add(text);
        known.push(v);
      }
      gathered.set(axis.name, known);
      seenText.set(axis.name, seen);
    }
  }
  diagnostics.push(...itemRefProblems(data as unknown as Record<string, unknown>, axisNames, at));

  diagnostics.push(...checkDefaultResources(data.resources, vars, at));
  const placement = { executor: data.executor, resources: data.resources };
  const stageCtx: StageLoadContext = { at, root, catalog: opts.catalog, env, axes: gathered, diagnostics, placement };
  const stages = new Map<string, Stage>();
  const instancesOf = new Map<string, string[]>();
  for (const [name, def] of Object.entries(data.stages)) {
    if (def.matrix === undefined) {
      const stage = await buildStage(name, def, vars, stageCtx);
      if (stage) stages.set(name, stage);
      continue;
    }
    const axes = axesOf.get(name);
    if (!axes) continue;
    const names: string[] = [];
    for (const instance of expandMatrix(name, axes)) {
      if (stages.has(instance.name)) {
        const other = stages.get(instance.name)!.instance?.item;
        diagnostics.push(
          at.diag(at.locOfNode(at.keyNode(['stages', name], 'matrix')), `stage '${name}': two instances would be named '${instance.name}' (${JSON.stringify(other)} and ${JSON.stringify(instance.item)})`, 'give each axis distinct values'),
        );
        break;
      }
      const stage = await buildStage(name, def, { ...vars, item: instance.item }, stageCtx, instance);
      if (stage) stages.set(instance.name, stage);
      names.push(instance.name);
    }
    instancesOf.set(name, names);
  }
  linkInstanceNeeds(stages, instancesOf);
  let blocker: BlockerSpec | undefined;
  if (data.blocker) {
    const withValue = interpolateValue(data.blocker.with ?? {}, vars) as Record<string, unknown>;
    diagnostics.push(...(await checkUses(data.blocker.uses, withValue, at, ['blocker'], root, opts.catalog)));
    diagnostics.push(...pathDiagnostics(withPaths(pathFieldsOf(data.blocker.uses, opts.catalog), withValue, '.', 'the blocker'), ['blocker'], root, at));
    blocker = { uses: data.blocker.uses, kindVersion: kindVersionOf(data.blocker.uses, opts.catalog), with: withValue, loc: at.locOfNode(at.keyNode([], 'blocker')) };
  }

  diagnostics.push(...pathDiagnostics(reportsPaths(data.reports ?? {}, params), [], root, at));
  let cache: Pipeline['cache'];
  if (data.cache) {
    const maxSize = data.cache.max_size === undefined ? undefined : parseByteSize(data.cache.max_size);
    if (data.cache.max_size !== undefined && maxSize === undefined) {
      diagnostics.push(at.diag(at.locOfNode(at.node(['cache', 'max_size'])), `cache.max_size: '${data.cache.max_size}' is not a size`, `expected ${SIZE_EXPECTED}`));
    }
    cache = { maxSize, keepLast: data.cache.keep_last };
  }
  const remote = readRemoteSpec(data.remote, at);
  diagnostics.push(...remote.diagnostics);

  if (diagnostics.length) return { source, diagnostics: uniqueDiagnostics(diagnostics) };
  return {
    source,
    diagnostics,
    pipeline: {
      file,
      root,
      params,
      paramSpecs,
      env,
      stages,
      blocker,
      protect: data.protect ?? [],
      reports: data.reports ?? {},
      ...(cache ? { cache } : {}),
      remote: remote.spec,
      source,
    },
  };
}





/** One report per place and message: a check that fails for every instance of a matrix stage fails once. */
function uniqueDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `needs: [x]` where x is a matrix stage: an instance needs x's instances that agree with it on
 * the axes they share (all of them when they share none); a stage without a matrix needs them all.
 */
function linkInstanceNeeds(stages: Map<string, Stage>, instancesOf: Map<string, string[]>): void {
  const agrees = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Object.keys(a).every((k) => !Object.hasOwn(b, k) || JSON.stringify(a[k]) === JSON.stringify(b[k]));
  for (const stage of stages.values()) {
    if (!stage.needs.some((n) => instancesOf.has(n.stage))) continue;
    stage.needs = stage.needs.flatMap((n) => {
      const all = instancesOf.get(n.stage);
      if (!all) return [n];
      const mine = stage.instance?.item;
      return all.filter((i) => !mine || agrees(stages.get(i)?.instance?.item ?? {}, mine)).map((i) => ({ stage: i, loc: n.loc }));
    });
  }
}
