// Validates JSON artifacts against JSON Schemas (ajv). Schemas are compiled lazily and cached per
// absolute path, so commands that validate nothing pay nothing. Knows nothing about what the
// artifacts mean.
import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, resolve, dirname, join } from 'node:path';
import { toolRoot } from '../tool-root.js';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { createRequire } from 'node:module';

export interface SchemaIssue {
  /** JSON Pointer into the instance, '' for the root. */
  path: string;
  message: string;
}

const require = createRequire(import.meta.url);
let ajvInstance: { compile(schema: object): ValidateFunction } | undefined;
const compiled = new Map<string, ValidateFunction>();

function ajv() {
  if (!ajvInstance) {
    const Ajv = require('ajv').default;
    // addUsedSchema: false — the same schema may be read from the project and from the tool (same $id).
    ajvInstance = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, addUsedSchema: false });
  }
  return ajvInstance!;
}

/** The tool's own schemas/ folder. */
export function toolSchemasDir(): string {
  return join(toolRoot(), 'schemas');
}

/**
 * Resolves a schema reference: a path relative to `base` (the project root) when that file exists,
 * otherwise a file of the same name in the tool's own schemas/ folder, so a project that does not
 * copy the schemas can still name `schemas/trace.schema.json`.
 */
export function resolveSchemaPath(ref: string, base: string): string {
  const local = isAbsolute(ref) ? ref : resolve(base, ref);
  if (existsSync(local)) return local;
  const tool = join(toolSchemasDir(), ref.replace(/^.*schemas\//, ''));
  if (existsSync(tool)) return tool;
  return local;
}

export function compileSchemaFile(absPath: string): ValidateFunction {
  let fn = compiled.get(absPath);
  if (!fn) {
    const schema = JSON.parse(readFileSync(absPath, 'utf8'));
    delete schema.$schema; // ajv's default meta-schema is draft-07; our schemas declare 2020-12-compatible subsets
    fn = ajv().compile(schema);
    compiled.set(absPath, fn);
  }
  return fn;
}

export function compileSchemaObject(key: string, schema: object): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    const copy = { ...(schema as Record<string, unknown>) };
    delete copy.$schema;
    fn = ajv().compile(copy);
    compiled.set(key, fn);
  }
  return fn;
}

export function issuesOf(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).map((e) => {
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') message = `has unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    if (e.keyword === 'enum') message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`;
    return { path: e.instancePath, message };
  });
}

/** Validates a parsed JSON value against the schema file; returns [] when valid. */
export function validateAgainst(schemaFile: string, value: unknown): SchemaIssue[] {
  const fn = compileSchemaFile(schemaFile);
  return fn(value) ? [] : issuesOf(fn.errors);
}

/** Reads and validates a JSON artifact; throws an Error naming the file and the first failing paths. */
export function readValidatedJson<T>(file: string, schemaFile: string): T {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const issues = validateAgainst(schemaFile, value);
  if (issues.length) throw new Error(`${file} breaks ${schemaFile}: ${formatIssues(issues)}`);
  return value as T;
}

export function formatIssues(issues: SchemaIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path || '/'} ${i.message}`)
    .join('; ');
}
