// What watch mode watches: folder and glob deps (new files included), not their neighbours; and
// what it says after a cycle in which a compare stage ran.
import { afterEach, describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';
import { WatchProcess } from './harness.js';

let running: WatchProcess[] = [];
afterEach(() => {
  for (const w of running) w.kill();
  running = [];
});

function start(p: TestProject, args: string[] = []): WatchProcess {
  const w = new WatchProcess(p, args);
  running.push(w);
  return w;
}

describe('evidence watch inputs', () => {
  it('watches folder and glob deps, including files created later, and ignores files beside them', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  sources:
    cmd: 'echo sources >> "$RUNLOG"; cat src/*.c src/*/*.c > out/sources.txt 2>/dev/null; true'
    deps: ['src/**/*.c']
    outs: [out/sources.txt]
  data:
    cmd: 'echo data >> "$RUNLOG"; ls data > out/data.txt'
    deps: [data]
    outs: [out/data.txt]
`,
      'src/main.c': 'int main;\n',
      'src/README.md': 'notes\n',
      'data/one.txt': '1\n',
      'notes.txt': 'unrelated\n',
    });
    const w = start(p);
    await w.waitForCycle(1);
    expect(p.takeRuns()).toEqual(['data', 'sources']);

    // Files beside the deps, then a new matching file: events arrive in order, so had the first
    // two started a cycle, cycle 2 would be theirs (or name them). No quiet period to wait out.
    p.write('src/README.md', 'more notes\n');
    p.write('notes.txt', 'still unrelated\n');
    p.write('src/lib/new.c', 'int f;\n');
    await w.waitForCycle(2);
    expect(w.output).toMatch(/^watch: cycle 2: changed src\/lib\/new.c$/m);
    expect(p.takeRuns()).toEqual(['sources']);
    expect(p.read('out/sources.txt')).toContain('int f;');

    p.write('data/two.txt', '2\n');
    await w.waitForCycle(3);
    expect(p.takeRuns()).toEqual(['data']);
    expect(p.read('out/data.txt')).toBe('one.txt\ntwo.txt\n');

    p.remove('data/one.txt');
    await w.waitForCycle(4);
    expect(p.takeRuns()).toEqual(['data']);
    expect(await w.stop()).toBe(130);
  });

  it('says after each cycle where a compare stage ran its first divergence, or that all keys match', async () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  parse_ref:
    uses: parse-trace
    with: { input: traces/ref.log }
    deps: [traces/ref.log]
    outs: [out/ref.json]
  parse_port:
    uses: parse-trace
    with: { input: traces/port.log }
    deps: [traces/port.log]
    outs: [out/port.json]
  cmp:
    uses: compare-traces
    with: { reference: out/ref.json, port: out/port.json }
    deps: [out/ref.json, out/port.json]
    outs: [out/comparison.json]
`,
      'traces/ref.log': 'TRACE_C: alpha 1.0\nTRACE_C: beta 2.0 3.0 4.0\nTRACE_C: gamma 5.0\n',
      'traces/port.log': 'TRACE_TS: alpha 1.0\nTRACE_TS: beta 2.0 3.5 4.0\nTRACE_TS: gamma 5.0\n',
    });
    const w = start(p);
    await w.waitForCycle(1);
    expect(w.output).toMatch(/^watch: cmp: first divergence beta \(DIVERGENT, Δ rel 1\.25e-1\)/m);

    p.write('traces/port.log', 'TRACE_TS: alpha 1.0\nTRACE_TS: beta 2.0 3.0 4.0\nTRACE_TS: gamma 5.0\n');
    await w.waitForCycle(2);
    expect(w.cycleLine(2)).toMatch(/ran parse_port, cmp; 1 up to date/);
    expect(w.output).toMatch(/^watch: cmp: all keys match \(3 compared\)$/m);
    expect(await w.stop()).toBe(130);
  });
});
