// Loads pipeline.yaml into a validated Pipeline model. Every problem becomes a Diagnostic pointing
// at the YAML node that caused it; nothing is thrown for user errors. Knows nothing about how
// stages are scheduled or run.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isScriptReference, normalizeRel } from './paths.js';
import { checkOutPath, checkProjectPath, forgetRealpaths } from './out-paths.js';
export { isScriptReference, normalizeRel } from './paths.js';
import { LineCounter, isScalar, visit, parse as parseYaml, type Scalar } from 'yaml';
import { type Diagnostic, didYouMean } from './diagnostics.js';
import type { BlockerSpec, DepSpec, OutSpec, Pipeline, Stage } from './model.js';
import { Locator, type PathSeg } from './yaml-locator.js';
import { describeSchemaErrors } from './schema-errors.js';
import { argvDisplay, findParamRefs, interpolateArgv, interpolateShell, interpolateText, interpolateValue, shellScriptIndex } from './interpolate.js';
import { shellRefs } from './shell-context.js';
import { parsePipelineYaml } from './parse-yaml.js';
import { invalidUtf8Offset, lineColumnOfByte } from './utf8.js';
import { pathFieldsOf, reportsPaths, withPaths, type NamedPath } from './named-paths.js';
import { pipelineValidator, inputValidator } from './validators.js';
import type { StageCatalog } from '../stage-api/index.js';
import { toolSchemasDir } from '../schema/validate.js';

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

function parseTimeout(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v * 1000;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(String(v));
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

function envStrings(env: Record<string, unknown> | undefined, params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = interpolateText(String(v), params);
  return out;
}

function collectParamNames(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') for (const r of findParamRefs(value)) into.add(r.name);
  else if (Array.isArray(value)) for (const v of value) collectParamNames(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectParamNames(v, into);
}

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
  };

  const diagnostics: Diagnostic[] = [];
  const root = dirname(file);

  // Params and their overrides.
  const params: Record<string, unknown> = { ...(data.params ?? {}) };
  for (const [name, value] of opts.paramOverrides ?? []) {
    if (!Object.hasOwn(params, name)) {
      const s = didYouMean(name, Object.keys(params));
      diagnostics.push({
        file: 'command line',
        line: 0,
        column: 0,
        message: `-p ${name}=...: the pipeline has no param '${name}'`,
        hint: s ? `did you mean '${s}'?` : `params: ${Object.keys(params).join(', ') || '(none)'}`,
      });
      continue;
    }
    params[name] = parseOverride(value);
  }

  // Every ${params.x} anywhere outside `params:` must name a param.
  visit(doc, {
    Pair(_, pair, path) {
      if (path.length === 1 && isScalar(pair.key) && pair.key.value === 'params') return visit.SKIP;
      return undefined;
    },
    Scalar(_, node: Scalar) {
      if (typeof node.value !== 'string' || !node.range) return;
      for (const ref of findParamRefs(node.value)) {
        if (Object.hasOwn(params, ref.name)) continue;
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

  const env = envStrings(data.env, params);
  const stages = new Map<string, Stage>();
  for (const [name, def] of Object.entries(data.stages)) {
    const base: PathSeg[] = ['stages', name];
    const stageLoc = at.locOfNode(at.keyNode(['stages'], name));
    const used = new Set<string>();
    collectParamNames(def, used);

    const hasCmd = def.cmd !== undefined;
    const hasUses = def.uses !== undefined;
    if (hasCmd === hasUses) {
      diagnostics.push(
        at.diag(stageLoc, hasCmd ? `stage '${name}' has both cmd and uses; a stage is one kind` : `stage '${name}' has neither cmd nor uses`, 'give it `cmd: <shell command>` or `uses: <built-in stage or ./script.mjs>`'),
      );
      continue;
    }
    if (!hasUses && def.with !== undefined) {
      diagnostics.push(at.diag(at.locOfNode(at.keyNode(base, 'with')), `stage '${name}': \`with\` only applies to a uses-stage`));
    }

    let cmd: string | string[] | undefined;
    let displayCmd = '';
    let withValue: Record<string, unknown> = {};
    if (hasCmd) {
      diagnostics.push(...unquotableRefs(def.cmd, base, at));
      if (Array.isArray(def.cmd)) {
        cmd = interpolateArgv(def.cmd.map(String), params);
        displayCmd = argvDisplay(cmd);
      } else {
        cmd = interpolateShell(def.cmd, params);
        displayCmd = cmd;
      }
    } else {
      withValue = interpolateValue(def.with ?? {}, params) as Record<string, unknown>;
      const kindDiag = await checkUses(def.uses, withValue, at, base, root, opts.catalog);
      diagnostics.push(...kindDiag);
      displayCmd = `uses ${def.uses} with ${JSON.stringify(withValue)}`;
    }

    const deps: DepSpec[] = (def.deps ?? []).map((d: string, i: number) => {
      const pattern = interpolateText(d, params);
      return { pattern: normalizeRel(pattern), isGlob: GLOB_CHARS.test(pattern), loc: at.locOfNode(at.node([...base, 'deps', i])) };
    });

    const outs: OutSpec[] = [];
    (def.outs ?? []).forEach((o: string | { path: string; schema?: string; cache?: boolean }, i: number) => {
      const spec = typeof o === 'string' ? { path: o } : o;
      const loc = at.locOfNode(at.node(typeof o === 'string' ? [...base, 'outs', i] : [...base, 'outs', i, 'path']));
      const path = interpolateText(spec.path, params);
      const problem = checkOutPath(path, root);
      if (problem) diagnostics.push(at.diag(loc, problem));
      outs.push({
        path: normalizeRel(path),
        schema: spec.schema === undefined ? undefined : interpolateText(spec.schema, params),
        cache: spec.cache ?? true,
        loc,
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      if (def[stream] === undefined) continue;
      const path = interpolateText(def[stream], params);
      const loc = at.locOfNode(at.node([...base, stream]));
      const problem = checkOutPath(path, root);
      if (problem) diagnostics.push(at.diag(loc, problem));
      if (hasUses) diagnostics.push(at.diag(loc, `stage '${name}': ${stream} capture applies to cmd stages only`));
      outs.push({ path: normalizeRel(path), cache: true, stream, loc });
    }

    const timeoutMs = parseTimeout(def.timeout);
    const needs = (def.needs ?? []).map((n: string, i: number) => ({ stage: n, loc: at.locOfNode(at.node([...base, 'needs', i])) }));
    const cwdText = interpolateText(def.cwd ?? '.', params);
    const cwdProblem = checkProjectPath(cwdText, root, { what: 'cwd', allowRoot: true, followLinks: true });
    if (cwdProblem) diagnostics.push(at.diag(at.locOfNode(at.node([...base, 'cwd'])), cwdProblem, 'a stage runs in a folder inside the project'));
    const cwd = normalizeRel(cwdText);
    if (hasUses && !cwdProblem) diagnostics.push(...pathDiagnostics(withPaths(pathFieldsOf(def.uses, opts.catalog), withValue, cwd, `stage '${name}'`), base, root, at));
    stages.set(name, {
      name,
      loc: stageLoc,
      kind: hasCmd ? 'cmd' : 'uses',
      cmd,
      uses: def.uses,
      kindVersion: hasUses ? kindVersionOf(def.uses, opts.catalog) : undefined,
      with: withValue,
      deps,
      outs,
      env: { ...env, ...envStrings(def.env, params) },
      cwd,
      timeoutMs,
      needs,
      paramsUsed: [...used].sort(),
      display: displayCmd,
      describesPipeline: hasUses && opts.catalog.kinds.get(def.uses)?.describesPipeline?.(withValue) ? true : undefined,
    });
  }

  let blocker: BlockerSpec | undefined;
  if (data.blocker) {
    const withValue = interpolateValue(data.blocker.with ?? {}, params) as Record<string, unknown>;
    diagnostics.push(...(await checkUses(data.blocker.uses, withValue, at, ['blocker'], root, opts.catalog)));
    diagnostics.push(...pathDiagnostics(withPaths(pathFieldsOf(data.blocker.uses, opts.catalog), withValue, '.', 'the blocker'), ['blocker'], root, at));
    blocker = { uses: data.blocker.uses, kindVersion: kindVersionOf(data.blocker.uses, opts.catalog), with: withValue, loc: at.locOfNode(at.keyNode([], 'blocker')) };
  }

  diagnostics.push(...pathDiagnostics(reportsPaths(data.reports ?? {}, params), [], root, at));

  if (diagnostics.length) return { source, diagnostics };
  return {
    source,
    diagnostics,
    pipeline: {
      file,
      root,
      params,
      env,
      stages,
      blocker,
      protect: data.protect ?? [],
      reports: data.reports ?? {},
      source,
    },
  };
}

/** Paths that leave the project, each at the YAML node that names it. */
function pathDiagnostics(paths: NamedPath[], base: PathSeg[], root: string, at: Locator): Diagnostic[] {
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
    const written = `\${params.${ref.name}}`;
    out.push(at.diag(at.locOfText(node, text, ref.index, written), `${written} in a shell command ${ref.context.why}`, ref.context.hint.replaceAll('${params.x}', written)));
  }
  return out;
}

/** A catalog kind's version; a script's own content is hashed as a dep instead. */
function kindVersionOf(uses: string, catalog: StageCatalog): string {
  return isScriptReference(uses) ? 'script' : catalog.kinds.get(uses)?.version ?? 'unknown';
}

async function checkUses(uses: string, withValue: Record<string, unknown>, at: Locator, base: PathSeg[], root: string, catalog: StageCatalog): Promise<Diagnostic[]> {
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
