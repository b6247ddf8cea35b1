// Fuzzing pipeline.yaml: a valid pipeline mutated a few hundred ways with a fixed seed (byte flips,
// deletions, duplicated lines and keys, deep nesting, alias bombs, unresolved aliases, bytes that
// are not UTF-8, tabs, `__proto__` keys, truncation). Every case must end as a validated pipeline
// and graph, or as located diagnostics that render; never an exception, never a hang. The bulk runs
// the loader and the graph in process; a few dozen go through the compiled CLI, which must exit 0,
// 1 or 2 with a message and no internal error.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinCatalog } from '../../src/cli/catalog.js';
import { buildGraph } from '../../src/graph/dag.js';
import { renderDiagnostics } from '../../src/pipeline/diagnostics.js';
import { loadPipeline } from '../../src/pipeline/load.js';
import { TestProject } from '../helpers/project.js';

const BASE = `# yaml-language-server: $schema=./schemas/pipeline.schema.json
version: 1
params: { config: small, pixel: [3, 4], tolerance: 1.0e-6, label: "a b" }
env: { LC_NUMERIC: C }
protect: [src/**]
reports: { junit: "reports/\${params.config}/junit.xml", manifest: reports/manifest.json }
blocker: { uses: blocker, with: { dir: reports/blockers } }
stages:
  trace:
    cmd: ./run.sh --pixel \${params.pixel} "\${params.label}" > /dev/null
    deps: [run.sh, "inputs/\${params.config}.txt"]
    stdout: reports/trace.log
    env: { OMP_NUM_THREADS: "1" }
    timeout: 10m
  parse:
    uses: parse-trace
    with:
      input: reports/trace.log
      prefix: TRACE_C
      output: reports/trace.json
    deps: [reports/trace.log]
    outs: [{ path: reports/trace.json, schema: schemas/trace.schema.json }]
  step:
    uses: ./step.mjs
    with: { anything: [1, 2, { deep: true }] }
    deps: [reports/trace.json]
    outs: [reports/step.txt]
  argv:
    cmd: [node, -e, "process.exit(0)", "\${params.pixel}"]
    needs: [step]
    cwd: sub
`;

const FILES: Record<string, string> = {
  'run.sh': '#!/bin/sh\necho TRACE_C: a 1\n',
  'inputs/small.txt': '1\n',
  'step.mjs': 'export default { name: "step", version: "1", run() {} };\n',
  'sub/.keep': '',
};

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; byte: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate-line'; line: number; times: number }
  | { kind: 'deep-block'; line: number; depth: number }
  | { kind: 'deep-flow'; line: number; depth: number }
  | { kind: 'alias-bomb'; levels: number }
  | { kind: 'unresolved-alias'; line: number }
  | { kind: 'non-utf8'; at: number; bytes: number[] }
  | { kind: 'tabs'; line: number }
  | { kind: 'proto'; line: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('deep-block' as const), line: fc.nat(), depth: fc.integer({ min: 10, max: 1500 }) }),
  fc.record({ kind: fc.constant('deep-flow' as const), line: fc.nat(), depth: fc.integer({ min: 10, max: 20_000 }) }),
  fc.record({ kind: fc.constant('alias-bomb' as const), levels: fc.integer({ min: 2, max: 12 }) }),
  fc.record({ kind: fc.constant('unresolved-alias' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('non-utf8' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('tabs' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('proto' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: fc.constantFrom(':', '-', '{', '}', '[', ']', '"', "'", '&a', '*a', '!', '%', '|', '>', '#', '\n', ' ', '\t', '?', ',', '${params.', '<<', '\\'), maxLength: 6 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function lineBounds(text: Buffer, line: number): [number, number] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === 0x0a) starts.push(i + 1);
  const n = line % starts.length;
  const end = n + 1 < starts.length ? starts[n + 1]! : text.length;
  return [starts[n]!, end];
}

function indentOf(line: Buffer): number {
  let i = 0;
  while (line[i] === 0x20) i++;
  return i;
}

function apply(base: Buffer, m: Mutation): Buffer {
  const at = (n: number) => (base.length ? n % (base.length + 1) : 0);
  const splice = (start: number, end: number, insert: Buffer | string) =>
    Buffer.concat([base.subarray(0, start), typeof insert === 'string' ? Buffer.from(insert) : insert, base.subarray(end)]);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(base);
      const i = at(m.at) % Math.max(1, out.length);
      out[i] = out[i]! ^ (1 << m.bit);
      return out;
    }
    case 'byte': {
      const out = Buffer.from(base);
      out[at(m.at) % Math.max(1, out.length)] = m.byte;
      return out;
    }
    case 'delete':
      return splice(at(m.at), Math.min(base.length, at(m.at) + m.length), '');
    case 'duplicate-line': {
      const [s, e] = lineBounds(base, m.line);
      return splice(e, e, Buffer.concat(Array<Buffer>(m.times).fill(base.subarray(s, e))));
    }
    case 'deep-block': {
      const [s, e] = lineBounds(base, m.line);
      const indent = indentOf(base.subarray(s, e)) + 2;
      let text = '';
      for (let i = 0; i < m.depth; i++) text += `${' '.repeat(indent + i)}k${i}:\n`;
      return splice(e, e, text);
    }
    case 'deep-flow': {
      const [s, e] = lineBounds(base, m.line);
      const line = base.subarray(s, e).toString('latin1');
      const colon = line.indexOf(': ');
      const nested = '['.repeat(m.depth) + ']'.repeat(m.depth);
      return colon < 0 ? splice(e, e, `x${m.line}: ${nested}\n`) : splice(s + colon + 2, e, `${nested}\n`);
    }
    case 'alias-bomb': {
      let bomb = 'l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < m.levels; i++) bomb += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
      const params = base.indexOf('params:');
      return params < 0 ? Buffer.concat([Buffer.from(bomb), base]) : splice(params, params + 'params: { '.length, `params:\n${bomb.replace(/^/gm, '  ')}  bomb: *l${m.levels - 1}\n  zzz: { `);
    }
    case 'unresolved-alias': {
      const [s, e] = lineBounds(base, m.line);
      const line = base.subarray(s, e).toString('latin1');
      const colon = line.indexOf(': ');
      return colon < 0 ? base : splice(s + colon + 2, e, '*nowhere\n');
    }
    case 'non-utf8': {
      const i = at(m.at);
      return splice(i, i, Buffer.from(m.bytes));
    }
    case 'tabs': {
      const [s, e] = lineBounds(base, m.line);
      const indent = indentOf(base.subarray(s, e));
      return splice(s, s + indent, '\t'.repeat(Math.max(1, indent / 2)));
    }
    case 'proto': {
      const [s, e] = lineBounds(base, m.line);
      const line = base.subarray(s, e).toString('latin1');
      const key = /^(\s*)([A-Za-z_]+):/.exec(line);
      return key ? splice(s + key[1]!.length, s + key[1]!.length + key[2]!.length, '__proto__') : base;
    }
    case 'insert':
      return splice(at(m.at), at(m.at), m.text);
    case 'truncate':
      return base.subarray(0, at(m.at));
  }
}

/** The fixed set of cases: one to three mutations each of the valid pipeline. */
function cases(count: number, seed: number): Array<{ mutations: Mutation[]; bytes: Buffer }> {
  const base = Buffer.from(BASE);
  return fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { seed, numRuns: count }).map((mutations) => ({
    mutations,
    bytes: mutations.reduce(apply, base),
  }));
}

/** Fewer cases that still cover every kind of mutation: the first `perKind` of each kind. */
function casesOfEveryKind(perKind: number, seed: number): Array<{ mutations: Mutation[]; bytes: Buffer }> {
  const taken = new Map<string, number>();
  return cases(2000, seed).filter(({ mutations }) => {
    const n = taken.get(mutations[0]!.kind) ?? 0;
    taken.set(mutations[0]!.kind, n + 1);
    return n < perKind;
  });
}

function projectDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'evidence-fuzz-')), 'project');
  for (const [p, content] of Object.entries({ 'pipeline.yaml': BASE, ...FILES })) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

const describeCase = (mutations: Mutation[]) => JSON.stringify(mutations).slice(0, 300);

describe('fuzzing pipeline.yaml', () => {
  it('the unmutated pipeline is valid (so mutations start from a real pipeline)', async () => {
    const dir = projectDir();
    const r = await loadPipeline(join(dir, 'pipeline.yaml'), { catalog: builtinCatalog() });
    expect(r.diagnostics).toEqual([]);
    expect(buildGraph(r.pipeline!).diagnostics).toEqual([]);
  });

  it('400 mutations, in process: each is a pipeline and a graph, or located diagnostics that render', async () => {
    const dir = projectDir();
    const file = join(dir, 'pipeline.yaml');
    const outcomes = { valid: 0, diagnosed: 0 };
    for (const { mutations, bytes } of cases(400, 0x5eed)) {
      writeFileSync(file, bytes);
      const started = Date.now();
      const r = await loadPipeline(file, { catalog: builtinCatalog() });
      const diagnostics = r.pipeline ? buildGraph(r.pipeline).diagnostics : r.diagnostics;
      const text = renderDiagnostics(diagnostics, new Map(r.source === undefined ? [] : [[file, r.source]]));
      if (diagnostics.length) {
        outcomes.diagnosed++;
        for (const d of diagnostics) {
          expect(d.message, describeCase(mutations)).toMatch(/\S/);
          expect(d.line, describeCase(mutations)).toBeGreaterThanOrEqual(1);
        }
        expect(text, describeCase(mutations)).toMatch(/: error: /);
      } else {
        outcomes.valid++;
        expect(r.pipeline, describeCase(mutations)).toBeDefined();
      }
      // A bound that only a hang or a blow-up crosses, even on a loaded machine.
      expect(Date.now() - started, describeCase(mutations)).toBeLessThan(10_000);
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(outcomes.valid).toBeGreaterThan(10);
    expect(outcomes.diagnosed).toBeGreaterThan(100);
  }, 300_000);

  it('26 mutations through the compiled CLI, two of each kind: exit 0, 1 or 2 with a message, never an internal error', () => {
    const p = new TestProject({ 'pipeline.yaml': BASE, ...FILES });
    const sample = casesOfEveryKind(2, 0xc11);
    expect(sample).toHaveLength(26);
    sample.forEach(({ mutations, bytes }, i) => {
      writeFileSync(p.path('pipeline.yaml'), bytes);
      const r = p.cli(i % 3 === 2 ? ['run', '-n'] : ['validate']);
      const what = `${describeCase(mutations)}\n${r.stdout}${r.stderr}`;
      expect([0, 1, 2], what).toContain(r.code);
      expect(r.stdout + r.stderr, what).toMatch(/\S/);
      expect(r.stderr, what).not.toMatch(/internal error|RangeError|TypeError|ReferenceError|    at /);
    });
    expect(p.takeRuns()).toEqual([]);
  }, 300_000);
});
