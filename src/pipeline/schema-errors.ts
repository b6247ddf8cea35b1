// Turns ajv's schema errors (for pipeline.yaml, or a stage's `with:` against its input schema) into
// diagnostics at the offending YAML node: unknown keys with a did-you-mean, missing keys, bad values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { type Diagnostic, didYouMean } from './diagnostics.js';
import type { Locator, PathSeg } from './yaml-locator.js';
import { toolSchemasDir } from '../schema/validate.js';

function pointerToPath(pointer: string, value: unknown): PathSeg[] {
  if (!pointer) return [];
  const segs: PathSeg[] = [];
  let cur: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      segs.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      segs.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return segs;
}

let pipelineSchemaCache: Record<string, any> | undefined;
function allowedKeysFor(path: PathSeg[]): string[] {
  pipelineSchemaCache ??= JSON.parse(readFileSync(join(toolSchemasDir(), 'pipeline.schema.json'), 'utf8'));
  const s = pipelineSchemaCache!;
  if (path.length === 0) return Object.keys(s.properties);
  if (path[0] === 'stages' && path.length === 2) return Object.keys(s.definitions.stage.properties);
  if (path[0] === 'stages' && path[2] === 'outs') return Object.keys(s.definitions.out.anyOf[1].properties);
  if (path[0] === 'blocker') return Object.keys(s.properties.blocker.properties);
  if (path[0] === 'reports') return Object.keys(s.properties.reports.properties);
  return [];
}

export function describeSchemaErrors(
  errors: ErrorObject[],
  value: unknown,
  at: Locator,
  base: PathSeg[],
  what: string,
  candidates: (path: PathSeg[]) => string[] = allowedKeysFor,
): Diagnostic[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const out: Diagnostic[] = [];
  for (const [pointer, list] of byPath) {
    const path = [...base, ...pointerToPath(pointer, value)];
    const extra = list.filter((e) => e.keyword === 'additionalProperties');
    if (extra.length) {
      for (const e of extra) {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = candidates(path.slice(base.length));
        const suggestion = didYouMean(key, allowed);
        const node = at.keyNode(path, key) ?? at.nearest(path);
        out.push(
          at.diag(
            at.locOfNode(node),
            `unknown key '${key}'${what ? ` in ${what}` : ''}`,
            suggestion ? `did you mean '${suggestion}'?` : allowed.length ? `expected one of: ${allowed.join(', ')}` : undefined,
          ),
        );
      }
      continue;
    }
    const meaningful = list.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if');
    const shown = meaningful.length ? meaningful : list;
    const messages = [...new Set(shown.map((e) => messageOf(e)))];
    const node = at.nearest(path);
    const where = path.length ? path.join('.') : 'the document';
    out.push(at.diag(at.locOfNode(node), `${where} ${messages.join(', or ')}${what ? ` (${what})` : ''}`));
  }
  return out;
}

function messageOf(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return `is missing required key '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    case 'not':
      // A schema forbids a key in some company (the report's comparison beside a sweep).
      return 'is not allowed together with the keys given beside it';
    case 'propertyNames':
      return `has an invalid name '${(e.params as { propertyName: string }).propertyName}'`;
    default:
      return e.message ?? 'is invalid';
  }
}
