// The DAG of src/graph/dag.ts, in process: Pipeline models built by a small factory (no YAML, no
// CLI), over a temp folder that holds only the source files a test says exist.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGraph, directUpstream, downstreamOf, selectUpstream, type Graph } from '../../src/graph/dag.js';
import type { Pipeline, Stage } from '../../src/pipeline/model.js';

interface StageDef {
  deps?: string[];
  outs?: string[];
  needs?: string[];
}

/**
 * A pipeline of cmd stages in declaration order, laid out as pipeline.yaml would be: each stage
 * name on its own line, then one line per dep, out and needs entry (so every location differs).
 * `files` are created under the project root (deps that exist without a producing stage).
 */
function pipelineOf(stages: Record<string, StageDef>, files: string[] = []): Pipeline {
  const root = mkdtempSync(join(tmpdir(), 'evidence-graph-'));
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), `${f}\n`);
  }
  let line = 1;
  const at = (column: number) => ({ line: line++, column });
  const model = new Map<string, Stage>();
  for (const [name, def] of Object.entries(stages)) {
    const loc = at(3);
    model.set(name, {
      name,
      loc,
      kind: 'cmd',
      cmd: `make ${name}`,
      with: {},
      deps: (def.deps ?? []).map((pattern) => ({ pattern, isGlob: /[*?[\]{}]/.test(pattern), loc: at(9) })),
      outs: (def.outs ?? []).map((path) => ({ path, cache: true, loc: at(9) })),
      env: {},
      cwd: '.',
      needs: (def.needs ?? []).map((stage) => ({ stage, loc: at(10) })),
      paramsUsed: [],
      display: `make ${name}`,
    });
  }
  return { file: join(root, 'pipeline.yaml'), root, params: {}, env: {}, stages: model, protect: [], reports: {}, source: '' };
}

function graphOf(stages: Record<string, StageDef>, files: string[] = []): Graph {
  const { graph, diagnostics } = buildGraph(pipelineOf(stages, files));
  expect(diagnostics).toEqual([]);
  return graph!;
}

function edgesInto(graph: Graph, name: string): Array<[string, string]> {
  return graph.upstream.get(name)!.map((e) => [e.from, e.via]);
}

function messages(stages: Record<string, StageDef>, files: string[] = []): string[] {
  return buildGraph(pipelineOf(stages, files)).diagnostics.map((d) => d.message);
}

describe('buildGraph: edges', () => {
  it('links a stage whose dep is exactly another stage’s out, naming the dep as the reason', () => {
    const g = graphOf({ parse: { deps: ['trace.log'], outs: ['trace.json'] }, run: { outs: ['trace.log'] } });
    expect(edgesInto(g, 'parse')).toEqual([['run', 'trace.log']]);
    expect(g.downstream.get('run')!.map((e) => e.to)).toEqual(['parse']);
    expect(edgesInto(g, 'run')).toEqual([]);
  });

  it('links a folder dep to the outs inside it, and a dep inside an out folder to that folder’s producer', () => {
    const g = graphOf({
      build: { outs: ['build/port'] },
      trace_a: { outs: ['reports/a.log'] },
      trace_b: { outs: ['reports/b.log'] },
      report: { deps: ['reports'], outs: ['summary.md'] },
      run: { deps: ['build/port/main.js'], outs: ['run.txt'] },
    });
    expect(edgesInto(g, 'report')).toEqual([
      ['trace_a', 'reports'],
      ['trace_b', 'reports'],
    ]);
    expect(edgesInto(g, 'run')).toEqual([['build', 'build/port/main.js']]);
  });

  it('does not link a dep to an out that merely shares a name prefix', () => {
    const g = graphOf({ a: { outs: ['out/gen.txt'] }, b: { deps: ['out/gen'], outs: ['b.txt'] } }, ['out/gen']);
    expect(edgesInto(g, 'b')).toEqual([]);
  });

  it('links a glob dep to every out it matches, and only to those', () => {
    const g = graphOf({
      c: { outs: ['traces/c.json'] },
      ts: { outs: ['traces/ts.json'] },
      log: { outs: ['traces/ts.log'] },
      compare: { deps: ['traces/*.json'], outs: ['comparison.json'] },
    });
    expect(edgesInto(g, 'compare')).toEqual([
      ['c', 'traces/*.json'],
      ['ts', 'traces/*.json'],
    ]);
  });

  // Known gap (reported, not fixed here: src/ is out of this change's scope): a glob is matched
  // against the out's path and its parents only, so `build/**/*.js` never reaches the producer of
  // the folder `build/port`, whose files it will match once built. The consumer is then neither
  // ordered after the producer nor selected with it. Turn this into `it` when dag.ts links it.
  it('links a glob dep to an out folder whose files it would match', () => {
    const g = graphOf({ build: { outs: ['build/port'] }, lint: { deps: ['build/**/*.js'], outs: ['lint.txt'] } });
    expect(edgesInto(g, 'lint')).toEqual([['build', 'build/**/*.js']]);
  });

  it('does not link a glob dep to an out folder it cannot reach into', () => {
    const g = graphOf({ build: { outs: ['build/port'] }, docs: { outs: ['docs/api'] }, lint: { deps: ['build/*.js', 'src/**/*.ts'], outs: ['lint.txt'] } });
    expect(edgesInto(g, 'lint')).toEqual([]);
  });

  it('links a glob to outs below its literal folders, to an out folder above them, and to no other', () => {
    const g = graphOf({
      reports: { outs: ['reports'] },
      a: { outs: ['data/a/trace.json'] },
      b: { outs: ['data/b/trace.json'] },
      other: { outs: ['datax/c/trace.json', 'trace.json'] },
      compare: { deps: ['reports/x/*.json', 'data/*/trace.json'], outs: ['comparison.json'] },
    });
    expect(edgesInto(g, 'compare')).toEqual([
      ['reports', 'reports/x/*.json'],
      ['a', 'data/*/trace.json'],
      ['b', 'data/*/trace.json'],
    ]);
  });

  it('reads a folder with glob syntax in it (a brace, an extglob) as a pattern, not as a literal name', () => {
    const g = graphOf({
      a: { outs: ['out/a/x.txt'] },
      b: { outs: ['out/b/x.txt'] },
      c: { outs: ['out/c/x.txt'] },
      pick: { deps: ['out/{a,b}/*.txt', 'out/@(c)/*.txt'], outs: ['pick.txt'] },
    });
    expect(edgesInto(g, 'pick')).toEqual([
      ['a', 'out/{a,b}/*.txt'],
      ['b', 'out/{a,b}/*.txt'],
      ['c', 'out/@(c)/*.txt'],
    ]);
  });

  it("treats a dep of '.' as consuming every other stage's outs", () => {
    const g = graphOf({ a: { outs: ['a.txt'] }, b: { outs: ['sub/b.txt'] }, snapshot: { deps: ['.'], outs: ['snapshot.json'] } });
    expect(edgesInto(g, 'snapshot').map(([from]) => from)).toEqual(['a', 'b']);
  });

  it("adds an edge for `needs`, with 'needs' as the reason", () => {
    const g = graphOf({ snapshot: { outs: ['s.json'] }, trace: { needs: ['snapshot'], outs: ['t.log'] } });
    expect(edgesInto(g, 'trace')).toEqual([['snapshot', 'needs']]);
  });

  it('keeps one edge per producer and reason, and one per distinct dep', () => {
    const g = graphOf({
      gen: { outs: ['out/a.txt', 'out/b.txt'] },
      use: { deps: ['out/a.txt', 'out/b.txt', 'out'], needs: ['gen'], outs: ['use.txt'] },
    });
    expect(edgesInto(g, 'use')).toEqual([
      ['gen', 'needs'],
      ['gen', 'out/a.txt'],
      ['gen', 'out/b.txt'],
      ['gen', 'out'],
    ]);
    expect(directUpstream(g, 'use')).toEqual(['gen']);
  });

  it('does not make a stage depend on itself when it reads its own out', () => {
    const g = graphOf({ grow: { deps: ['notes.md'], outs: ['notes.md'] } });
    expect(edgesInto(g, 'grow')).toEqual([]);
    expect(g.order).toEqual(['grow']);
  });

  it('accepts a dep that exists on disk without a producing stage, with no edge', () => {
    const g = graphOf({ c: { deps: ['example/inputs/cell.txt'], outs: ['c.log'] } }, ['example/inputs/cell.txt']);
    expect(edgesInto(g, 'c')).toEqual([]);
  });
});

describe('buildGraph: diagnostics', () => {
  it('reports a dep that neither exists nor is produced, at the dep, with a hint', () => {
    const p = pipelineOf({ a: { deps: ['input/missing.txt'], outs: ['a.txt'] } });
    const { graph, diagnostics } = buildGraph(p);
    expect(graph).toBeUndefined();
    const dep = p.stages.get('a')!.deps[0]!;
    expect(diagnostics).toEqual([
      {
        file: 'pipeline.yaml',
        line: dep.loc.line,
        column: dep.loc.column,
        length: undefined,
        message: "dep 'input/missing.txt' of stage 'a' does not exist and no stage produces it",
        hint: 'create the file, fix the path, or add the stage that writes it',
      },
    ]);
  });

  it('does not require a glob dep to match anything', () => {
    expect(messages({ a: { deps: ['inputs/*.cfg'], outs: ['a.txt'] } })).toEqual([]);
  });

  it('reports a `needs` naming no stage, at the needs entry, with a did-you-mean hint', () => {
    const p = pipelineOf({ snapshot: { outs: ['s.json'] }, trace: { needs: ['snapshto'], outs: ['t.log'] } });
    const { graph, diagnostics } = buildGraph(p);
    expect(graph).toBeUndefined();
    const need = p.stages.get('trace')!.needs[0]!;
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      file: 'pipeline.yaml',
      line: need.loc.line,
      column: need.loc.column,
      message: "stage 'trace' needs 'snapshto', which is not a stage",
      hint: "did you mean 'snapshot'?",
    });
  });

  it('gives no did-you-mean hint when no stage name is close', () => {
    const [d] = buildGraph(pipelineOf({ snapshot: { outs: ['s.json'] }, trace: { needs: ['compile_everything'], outs: ['t.log'] } })).diagnostics;
    expect(d!.message).toBe("stage 'trace' needs 'compile_everything', which is not a stage");
    expect(d!.hint).toBeUndefined();
  });

  it('reports a stage that needs itself', () => {
    expect(messages({ a: { needs: ['a'], outs: ['a.txt'] } })).toEqual(["stage 'a' needs itself"]);
  });

  it('reports an out declared by two stages, at the later one, naming the first and its line', () => {
    const p = pipelineOf({ one: { outs: ['report.md'] }, two: { outs: ['report.md'] } });
    const { graph, diagnostics } = buildGraph(p);
    expect(graph).toBeUndefined();
    const first = p.stages.get('one')!.outs[0]!;
    const second = p.stages.get('two')!.outs[0]!;
    expect(diagnostics).toEqual([
      {
        file: 'pipeline.yaml',
        line: second.loc.line,
        column: second.loc.column,
        length: undefined,
        message: `out 'report.md' of stage 'two' is also declared by stage 'one' (line ${first.loc.line}: 'report.md')`,
        hint: 'every artifact has exactly one producing stage',
      },
    ]);
  });

  it('reports an out inside another stage’s out folder as a duplicate', () => {
    expect(messages({ build: { outs: ['build'] }, extra: { outs: ['build/extra.bin'] } })).toEqual([
      `out 'build/extra.bin' of stage 'extra' is also declared by stage 'build' (line 2: 'build')`,
    ]);
  });

  it('reports a stage declaring the same out twice, but allows a folder and a file inside it', () => {
    expect(messages({ a: { outs: ['a.txt', 'a.txt'] } })).toEqual(["stage 'a' declares out 'a.txt' twice"]);
    expect(messages({ a: { outs: ['out', 'out/index.html'] } })).toEqual([]);
  });

  it('reports each duplicate of an out once, against its first declaration', () => {
    expect(messages({ one: { outs: ['r.md'] }, two: { outs: ['r.md'] }, three: { outs: ['r.md'] } })).toEqual([
      "out 'r.md' of stage 'two' is also declared by stage 'one' (line 2: 'r.md')",
      "out 'r.md' of stage 'three' is also declared by stage 'one' (line 2: 'r.md')",
    ]);
  });

  it('reports an out folder declared after an out inside it, at the folder', () => {
    expect(messages({ extra: { outs: ['build/extra.bin'] }, build: { outs: ['build'] } })).toEqual([
      `out 'build' of stage 'build' is also declared by stage 'extra' (line 2: 'build/extra.bin')`,
    ]);
  });

  it('names every edge of a cycle, with the dep or needs that made it, once', () => {
    const p = pipelineOf({
      a: { deps: ['c.txt'], outs: ['a.txt'] },
      b: { deps: ['a.txt'], outs: ['b.txt'] },
      c: { needs: ['b'], outs: ['c.txt'] },
    });
    const { graph, diagnostics } = buildGraph(p);
    expect(graph).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toBe("cycle between stages: a → b (dep 'a.txt'), b → c (needs), c → a (dep 'c.txt')");
    expect(diagnostics[0]!.hint).toBe('a stage cannot depend, directly or not, on its own outs');
    expect(diagnostics[0]!.line).toBe(p.stages.get('a')!.loc.line);
  });

  it('reports a two-stage cycle and leaves the acyclic rest out of the message', () => {
    const msgs = messages({
      source: { outs: ['src.txt'] },
      x: { deps: ['src.txt', 'y.txt'], outs: ['x.txt'] },
      y: { deps: ['x.txt'], outs: ['y.txt'] },
    });
    expect(msgs).toEqual(["cycle between stages: x → y (dep 'x.txt'), y → x (dep 'y.txt')"]);
  });

  it('reports each of two separate cycles', () => {
    const msgs = messages({
      a: { needs: ['b'] },
      b: { needs: ['a'] },
      c: { needs: ['d'] },
      d: { needs: ['c'] },
    });
    expect(msgs).toEqual(['cycle between stages: a → b (needs), b → a (needs)', 'cycle between stages: c → d (needs), d → c (needs)']);
  });

  it('collects every kind of problem in one pass instead of stopping at the first', () => {
    const msgs = messages({
      a: { deps: ['nowhere.txt'], outs: ['dup.txt'], needs: ['bb'] },
      b: { outs: ['dup.txt'] },
    });
    expect(msgs).toHaveLength(3);
    expect(msgs.some((m) => m.startsWith("out 'dup.txt' of stage 'b'"))).toBe(true);
    expect(msgs).toContain("stage 'a' needs 'bb', which is not a stage");
    expect(msgs).toContain("dep 'nowhere.txt' of stage 'a' does not exist and no stage produces it");
  });
});

describe('buildGraph: order', () => {
  it('orders independent stages as declared', () => {
    expect(graphOf({ zeta: {}, alpha: {}, mid: {} }).order).toEqual(['zeta', 'alpha', 'mid']);
  });

  it('puts every stage after its upstream, breaking ties by declaration order', () => {
    // Declared consumers first: the order must still put producers before them.
    const g = graphOf({
      summarize: { deps: ['cmp.json'], outs: ['summary.md'] },
      compare: { deps: ['c.json', 'ts.json'], outs: ['cmp.json'] },
      parse_ts: { deps: ['ts.log'], outs: ['ts.json'] },
      parse_c: { deps: ['c.log'], outs: ['c.json'] },
      c_trace: { outs: ['c.log'] },
      ts_trace: { outs: ['ts.log'] },
      notes: { needs: ['summarize'] },
    });
    expect(g.order).toEqual(['c_trace', 'parse_c', 'ts_trace', 'parse_ts', 'compare', 'summarize', 'notes']);
  });

  it('gives the same order on every build of the same pipeline', () => {
    const stages: Record<string, StageDef> = {};
    for (let i = 0; i < 30; i++) stages[`s${i}`] = { outs: [`o${i}`], deps: i % 3 ? [`o${i - 1}`] : [] };
    const first = graphOf(stages).order;
    for (let k = 0; k < 5; k++) expect(graphOf(stages).order).toEqual(first);
    for (const [name, def] of Object.entries(stages)) {
      for (const dep of def.deps ?? []) expect(first.indexOf(`s${dep.slice(1)}`)).toBeLessThan(first.indexOf(name));
    }
  });
});

describe('selection', () => {
  //   a ─► b ─► d
  //   c ───────►┘   e (unrelated)   d ─► f
  const g = () =>
    graphOf({
      a: { outs: ['a.txt'] },
      b: { deps: ['a.txt'], outs: ['b.txt'] },
      c: { outs: ['c.txt'] },
      d: { deps: ['b.txt', 'c.txt'], outs: ['d.txt'] },
      e: { outs: ['e.txt'] },
      f: { deps: ['d.txt'], outs: ['f.txt'] },
    });

  it('selectUpstream keeps the targets and everything upstream of them, in topological order', () => {
    const graph = g();
    expect(selectUpstream(graph, ['d'])).toEqual(['a', 'b', 'c', 'd']);
    expect(selectUpstream(graph, ['b'])).toEqual(['a', 'b']);
    expect(selectUpstream(graph, ['e', 'b'])).toEqual(['a', 'b', 'e']);
    expect(selectUpstream(graph, ['f', 'd'])).toEqual(['a', 'b', 'c', 'd', 'f']);
  });

  it('directUpstream lists only the immediate producers', () => {
    const graph = g();
    expect(directUpstream(graph, 'd')).toEqual(['b', 'c']);
    expect(directUpstream(graph, 'f')).toEqual(['d']);
    expect(directUpstream(graph, 'a')).toEqual([]);
    expect(directUpstream(graph, 'no-such-stage')).toEqual([]);
  });

  it('downstreamOf lists everything below a stage, not the stage itself', () => {
    const graph = g();
    expect([...downstreamOf(graph, 'a')].sort()).toEqual(['b', 'd', 'f']);
    expect([...downstreamOf(graph, 'e')]).toEqual([]);
  });
});

describe('a chain of thousands of stages', () => {
  // Deeper than a recursive walk survives (a recursive cycle check overflowed the stack near 5,000).
  const N = 20_000;
  const chain = (cycle: boolean): Record<string, StageDef> => {
    const stages: Record<string, StageDef> = {};
    for (let i = 0; i < N; i++) stages[`s${i}`] = { needs: i ? [`s${i - 1}`] : cycle ? [`s${N - 1}`] : [] };
    return stages;
  };

  it('orders the chain, selects its upstream and lists its downstream', () => {
    const graph = graphOf(chain(false));
    expect(graph.order).toHaveLength(N);
    expect(graph.order[0]).toBe('s0');
    expect(graph.order[N - 1]).toBe(`s${N - 1}`);
    expect(selectUpstream(graph, [`s${N - 1}`])).toEqual(graph.order);
    expect(downstreamOf(graph, 's0').size).toBe(N - 1);
  });

  it('names every edge of a cycle through all of it, once', () => {
    const msgs = messages(chain(true));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.startsWith('cycle between stages: s0 → s1 (needs), s1 → s2 (needs), ')).toBe(true);
    expect(msgs[0]!.endsWith(`s${N - 1} → s0 (needs)`)).toBe(true);
    expect(msgs[0]!.split('), ')).toHaveLength(N);
  });

  it('names the first cycles in full and counts the rest, when thousands of edges close one', () => {
    // Every stage also needs the last one: each of those edges closes its own cycle through the chain.
    const M = 5000;
    const stages: Record<string, StageDef> = {};
    for (let i = 0; i < M; i++) stages[`s${i}`] = { needs: [...(i ? [`s${i - 1}`] : []), ...(i < M - 1 ? [`s${M - 1}`] : [])] };
    const msgs = messages(stages);
    expect(msgs.filter((m) => m.startsWith('cycle between stages: '))).toHaveLength(20);
    expect(msgs.at(-1)).toBe(`${M - 1 - 20} more edge(s) close a cycle beyond the 20 cycles named above`);
  });

  it('orders many independent stages as declared', () => {
    const stages: Record<string, StageDef> = {};
    for (let i = N - 1; i >= 0; i--) stages[`t${i}`] = {};
    expect(graphOf(stages).order).toEqual(Object.keys(stages));
  });
});
