// The architecture's arrows, checked on every `npm test` so that they stay true: stages see only
// the stage API; the core (cache, graph, pipeline, run) never reaches for stages, reporters or the
// CLI; src/ names no trace concept outside the catalog wiring; and no module imports itself back
// through a loop (type-only imports included).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out.sort();
}

/** Project-relative .ts files a module imports (static, dynamic and type-only; relative specifiers only). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = new Set<string>();
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*'([^']+)'/g)) specs.add(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) specs.add(m[1]!);
  return [...specs].filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.js$/, '.ts'));
}

/** The code of a module without its comments (a rough strip: good enough for words, not for parsing). */
function codeOf(file: string): string {
  return readFileSync(join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const files = [...sourceFiles('src'), ...sourceFiles('stages')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const under = (f: string, ...dirs: string[]) => dirs.some((d) => f.startsWith(d + '/'));

function violations(rule: (from: string, to: string) => boolean): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph) for (const to of tos) if (rule(from, to)) out.push(`${from} → ${to}`);
  return out;
}

describe('import rules', () => {
  it('finds the imports it checks (a parser that saw nothing would pass every rule)', () => {
    expect(graph.get('src/cli/main.ts')).toContain('src/cli/catalog.ts');
    expect(graph.get('stages/compare-traces.ts')).toContain('src/stage-api/index.ts');
    expect(graph.size).toBeGreaterThan(50);
  });

  it('lets stages import nothing under src/ but the stage API', () => {
    expect(violations((from, to) => under(from, 'stages') && under(to, 'src') && !under(to, 'src/stage-api'))).toEqual([]);
  });

  it('keeps the stage API neutral: only file and schema helpers below it', () => {
    expect(violations((from, to) => under(from, 'src/stage-api') && !under(to, 'src/stage-api', 'src/fs', 'src/schema') && to !== 'src/tool-root.ts')).toEqual([]);
  });

  it('keeps the core (cache, graph, pipeline, run, watch) away from stages, reporters and the CLI', () => {
    expect(violations((from, to) => under(from, 'src/cache', 'src/graph', 'src/pipeline', 'src/run', 'src/watch') && under(to, 'stages', 'src/report', 'src/cli'))).toEqual([]);
  });

  it('lets only the CLI catalog wiring import the built-in stages', () => {
    expect(violations((from, to) => under(from, 'src') && under(to, 'stages') && from !== 'src/cli/catalog.ts')).toEqual([]);
  });

  it('keeps trace vocabulary out of src/ except the catalog wiring', () => {
    const words = /\b(parse-trace|compare-traces|TraceDocument|TraceRecord|Comparison|ComparedItem|firstDivergence|TRACE_[A-Z]+)\b/;
    const found = sourceFiles('src')
      .filter((f) => f !== 'src/cli/catalog.ts')
      .flatMap((f) => codeOf(f).split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => words.test(line))
      .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`);
    expect(found).toEqual([]);
  });

  it('has no import loops', () => {
    const loops: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const to of graph.get(f) ?? []) {
        if (!graph.has(to)) continue;
        if (state.get(to) === 'open') loops.push([...stack.slice(stack.indexOf(to)), to].join(' → '));
        else if (!state.has(to)) visit(to);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(loops).toEqual([]);
  });
});
