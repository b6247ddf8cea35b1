// Schema validators for pipeline.yaml and built-in stage inputs. Uses the standalone module that
// the build precompiles (dist/validators.js); falls back to compiling with ajv when running from
// sources (unit tests) or when a schema has no precompiled form.
import type { ErrorObject } from 'ajv';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileSchemaFile, toolSchemasDir } from '../schema/validate.js';
import { toolRoot } from '../tool-root.js';
import { importModule } from '../import-module.js';

export type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

let precompiled: Record<string, Validator> | null | undefined;

async function loadPrecompiled(): Promise<Record<string, Validator> | null> {
  if (precompiled !== undefined) return precompiled;
  try {
    const file = join(toolRoot(), 'dist', 'validators.js');
    precompiled = existsSync(file) ? await importModule<Record<string, Validator>>(pathToFileURL(file).href) : null;
  } catch {
    precompiled = null;
  }
  return precompiled;
}

export async function pipelineValidator(): Promise<Validator> {
  const pre = await loadPrecompiled();
  if (pre?.pipeline) return pre.pipeline;
  return compileSchemaFile(join(toolSchemasDir(), 'pipeline.schema.json')) as Validator;
}

export async function inputValidator(stageKind: string, schemaFile: string): Promise<Validator | undefined> {
  const pre = await loadPrecompiled();
  const fn = pre?.[`input_${stageKind.replace(/-/g, '_')}`];
  if (fn) return fn;
  const file = join(toolSchemasDir(), schemaFile);
  return existsSync(file) ? (compileSchemaFile(file) as Validator) : undefined;
}
