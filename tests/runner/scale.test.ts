// Pipelines of thousands of generated stages through the compiled CLI: loading, the graph, `dag` and
// a dry `status` work at 5,000 stages (no recursion that overflows, no step that stalls), from the
// YAML and from the model cache alike, and diagnostics stay one per problem. Effects only: the
// time these take is measured in bench/scale.mjs.
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { TestProject } from '../helpers/project.js';

const CHAIN = 2500;
const FAN = 2499;

/** A 2,500-stage chain and a 2,499-way fan-in that also reads the chain's end: 5,000 stages. */
function pipeline(): string {
  const lines = ['version: 1', 'stages:'];
  lines.push(`  c0: { cmd: 'echo 0 > o/c0.txt', deps: [in.txt], outs: [o/c0.txt] }`);
  for (let i = 1; i < CHAIN; i++) lines.push(`  c${i}: { cmd: 'cat o/c${i - 1}.txt > o/c${i}.txt', deps: [o/c${i - 1}.txt], outs: [o/c${i}.txt] }`);
  for (let i = 0; i < FAN; i++) lines.push(`  f${i}: { cmd: 'echo ${i} > o/fan/f${i}.txt', deps: [in.txt], outs: [o/fan/f${i}.txt] }`);
  lines.push(`  fanin: { cmd: 'cat o/fan/*.txt o/c${CHAIN - 1}.txt > o/all.txt', deps: ['o/fan/*.txt', o/c${CHAIN - 1}.txt], outs: [o/all.txt] }`);
  return lines.join('\n') + '\n';
}

/** validate, dag and a dry status of the 5,000-stage pipeline, each judged on what it says. */
function checkVerbs(p: TestProject): void {
  const v = p.cli(['validate']);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout).toContain('valid (5000 stages)');

  const dag = p.cli(['dag']);
  expect(dag.code, dag.stderr).toBe(0);
  const lines = dag.stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(5000);
  expect(lines.indexOf(`c${CHAIN - 1} ← c${CHAIN - 2} (o/c${CHAIN - 2}.txt)`)).toBeGreaterThan(lines.indexOf(`c${CHAIN - 2} ← c${CHAIN - 3} (o/c${CHAIN - 3}.txt)`));
  const fanin = lines.find((l) => l.startsWith('fanin ← '))!;
  expect(fanin.split('), ')).toHaveLength(FAN + 1);
  expect(fanin).toContain(`f${FAN - 1} (o/fan/*.txt)`);
  expect(fanin).toContain(`c${CHAIN - 1} (o/c${CHAIN - 1}.txt)`);
  expect(lines.at(-1)).toMatch(/^fanin ← /);

  const status = p.cli(['status', '--json']);
  expect(status.code, status.stderr).toBe(0);
  const states = (JSON.parse(status.stdout) as { stages: Array<{ stage: string; state: string; reasons: string[] }> }).stages;
  expect(states).toHaveLength(5000);
  expect(states.every((s) => s.state === 'would-run')).toBe(true);
  expect(states.find((s) => s.stage === 'c0')!.reasons).toEqual(['never ran']);
  expect(states.find((s) => s.stage === `c${CHAIN - 1}`)!.reasons).toEqual([`upstream 'c${CHAIN - 2}' would run`]);
  expect(states.find((s) => s.stage === 'fanin')!.reasons).toHaveLength(1);
}

// Generous limits: each CLI call loads 5,000 stages, and the test machines are shared.
const SLOW = 240_000;

describe('a pipeline of 5,000 stages', () => {
  it('validates, draws its graph and reports its status when loaded from the YAML', () => {
    const p = new TestProject({ 'pipeline.yaml': pipeline(), 'in.txt': 'x\n' });
    checkVerbs(p);
  }, SLOW);

  it('does the same from the model cache', () => {
    const p = new TestProject({ 'pipeline.yaml': pipeline(), 'in.txt': 'x\n' });
    mkdirSync(p.path('.evidence'));
    expect(p.cli(['validate']).code).toBe(0);
    expect(p.exists('.evidence/pipeline-model.json')).toBe(true);
    checkVerbs(p);
  }, SLOW);

  it('reports each of 2,000 stages writing one out once, against the first, and runs nothing', () => {
    const lines = ['version: 1', 'stages:'];
    for (let i = 0; i < 2000; i++) lines.push(`  s${i}: { cmd: 'echo ran >> "$RUNLOG"; echo ${i} > same.txt', outs: [same.txt] }`);
    const p = new TestProject({ 'pipeline.yaml': lines.join('\n') + '\n' });
    const r = p.cli(['run']);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.includes(': error: '));
    expect(errors).toHaveLength(1999);
    const column = (i: number) => lines[i + 2]!.indexOf('[same.txt]') + 2;
    expect(errors[0]).toBe(`pipeline.yaml:4:${column(1)}: error: out 'same.txt' of stage 's1' is also declared by stage 's0' (line 3: 'same.txt')`);
    expect(errors.at(-1)).toBe(`pipeline.yaml:2002:${column(1999)}: error: out 'same.txt' of stage 's1999' is also declared by stage 's0' (line 3: 'same.txt')`);
    expect(p.takeRuns()).toEqual([]);
  }, SLOW);
});
