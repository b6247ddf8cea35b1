// Build step (after tsc): compiles the pipeline schema and every built-in stage's input schema into one
// standalone ajv module (dist/validators.js), so that loading a pipeline never pays for ajv's
// compiler at start-up (measured: ~40 ms of a ~60 ms no-op run otherwise).
import { readFileSync, readdirSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemasDir = join(root, 'schemas');
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, code: { source: true, esm: true } });

const exportsMap = {};
function add(exportName, file) {
  const schema = JSON.parse(readFileSync(join(schemasDir, file), 'utf8'));
  delete schema.$schema;
  schema.$id = `evidence:${file}`;
  ajv.addSchema(schema);
  exportsMap[exportName] = schema.$id;
}
add('pipeline', 'pipeline.schema.json');
for (const file of readdirSync(schemasDir).sort()) {
  const m = /^(.+)\.input\.schema\.json$/.exec(file);
  if (m) add(`input_${m[1].replace(/-/g, '_')}`, file);
}
// ajv's standalone ESM output still require()s its small runtime helpers; give the module a require.
const code = `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${standaloneCode(ajv, exportsMap).replace(/^"use strict";/, '')}`;
const out = join(root, 'dist', 'validators.js');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + '.tmp', code);
renameSync(out + '.tmp', out);
