// The scheduler in-process, with a controllable executor instead of real commands and a small fake
// catalog instead of the built-ins: parallelism, ordering, the failure policy, skipping, early
// cutoff and the kind version from the catalog, asserted by order and effect, not by time.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/pipeline/load.js';
import { buildGraph } from '../../src/graph/dag.js';
import { Workspace } from '../../src/cache/workspace.js';
import { runPipeline, type RunOptions } from '../../src/run/scheduler.js';
import type { RunEvent } from '../../src/run/events.js';
import { outputOf, type StageCatalog, type StageKind } from '../../src/stage-api/index.js';
import { ControlledExecutor } from '../helpers/controlled-executor.js';
import type { Execution, ExecutionResult } from '../../src/run/executor.js';

function kind(version: string, write: (input: string) => string = (s) => s.toUpperCase()): StageKind {
  return {
    version,
    outputPaths: ['output'],
    load: async () => ({
      name: 'upper',
      version,
      run: async (ctx) => {
        const input = readFileSync(join(ctx.cwd, String(ctx.with.input)), 'utf8');
        writeFileSync(outputOf(ctx), write(input));
      },
    }),
  };
}

function catalogWith(kinds: Record<string, StageKind> = {}): StageCatalog {
  return { kinds: new Map(Object.entries(kinds)), commands: [] };
}

class Project {
  readonly root = mkdtempSync(join(tmpdir(), 'evidence-sched-'));
  events: RunEvent[] = [];

  constructor(
    yaml: string,
    files: Record<string, string> = {},
    public catalog: StageCatalog = catalogWith(),
  ) {
    this.write('pipeline.yaml', `version: 1\n${yaml}`);
    for (const [p, c] of Object.entries(files)) this.write(p, c);
  }

  write(p: string, content: string): void {
    mkdirSync(dirname(join(this.root, p)), { recursive: true });
    writeFileSync(join(this.root, p), content);
  }

  async run(executor: ControlledExecutor, opts: Partial<RunOptions> = {}) {
    const loaded = await loadPipeline(join(this.root, 'pipeline.yaml'), { catalog: this.catalog });
    if (!loaded.pipeline) throw new Error(loaded.diagnostics.map((d) => `${d.line}:${d.column} ${d.message} ${d.hint ?? ''}`).join('\n'));
    const { graph } = buildGraph(loaded.pipeline!);
    this.events = [];
    return runPipeline(loaded.pipeline!, graph!, new Workspace(this.root), {
      targets: [],
      jobs: 2,
      keepGoing: false,
      dryRun: false,
      force: false,
      graceMs: 100,
      signal: new AbortController().signal,
      emit: (e) => this.events.push(e),
      runId: `test-${Date.now()}`,
      catalog: this.catalog,
      executors: { cmd: executor },
      ...opts,
    });
  }

  statuses(outcome: Awaited<ReturnType<Project['run']>>): Record<string, string> {
    return Object.fromEntries([...outcome.results].map(([k, v]) => [k, v.status]));
  }
}

const THREE_INDEPENDENT = `stages:
  a: { cmd: 'make a', outs: [a.txt] }
  b: { cmd: 'make b', outs: [b.txt] }
  c: { cmd: 'make c', outs: [c.txt] }
`;

describe('scheduler', () => {
  it('runs independent stages at the same time, up to -j of them', async () => {
    const p = new Project(THREE_INDEPENDENT);
    const exec = new ControlledExecutor();
    const run = p.run(exec, { jobs: 2 });
    // Two stages are held running together; were the scheduler serial, this would never resolve.
    await exec.until(() => exec.running === 2);
    expect(exec.started).toHaveLength(2);
    const [first, second] = exec.started;
    exec.finish(first!);
    await exec.until(() => exec.started.length === 3);
    exec.finish(second!);
    exec.finish(exec.started[2]!);
    const outcome = await run;
    expect(outcome.status).toBe('success');
    expect(exec.maxRunning).toBe(2);
  });

  it('never runs more than one stage at a time with -j 1', async () => {
    const p = new Project(THREE_INDEPENDENT);
    const exec = new ControlledExecutor(true);
    const outcome = await p.run(exec, { jobs: 1 });
    expect(outcome.status).toBe('success');
    expect(exec.started.sort()).toEqual(['a', 'b', 'c']);
    expect(exec.maxRunning).toBe(1);
  });

  it('starts a stage only after the stage whose out it reads has finished', async () => {
    const p = new Project(`stages:
  gen: { cmd: 'gen', outs: [gen.txt] }
  use: { cmd: 'use', deps: [gen.txt], outs: [use.txt] }
`);
    const exec = new ControlledExecutor();
    const run = p.run(exec);
    await exec.untilStarted('gen');
    expect(exec.started).toEqual(['gen']);
    exec.finish('gen');
    await exec.untilStarted('use');
    exec.finish('use');
    expect((await run).status).toBe('success');
    expect(exec.started).toEqual(['gen', 'use']);
  });

  it('stops starting stages after a failure, and runs what does not depend on it with keepGoing', async () => {
    const yaml = `stages:
  bad: { cmd: 'bad', outs: [bad.txt] }
  after: { cmd: 'after', deps: [bad.txt], outs: [after.txt] }
  other: { cmd: 'other', needs: [slow], outs: [other.txt] }
  slow: { cmd: 'slow', outs: [slow.txt] }
`;
    for (const keepGoing of [false, true]) {
      const p = new Project(yaml);
      const exec = new ControlledExecutor();
      const run = p.run(exec, { keepGoing });
      await exec.untilStarted('bad', 'slow');
      exec.finish('bad', { ok: false, reason: 'exit-code', message: 'exited with code 3', exitCode: 3, signal: null });
      // slow was already running: it finishes either way; other waits for it.
      await new Promise((r) => setImmediate(r));
      exec.finish('slow');
      if (keepGoing) {
        await exec.untilStarted('other');
        exec.finish('other');
      }
      const outcome = await run;
      expect(outcome.status).toBe('failed');
      const s = p.statuses(outcome);
      expect(s).toMatchObject({ bad: 'failed', after: 'not-run', slow: 'done', other: keepGoing ? 'done' : 'not-run' });
      const notRun = p.events.filter((e) => e.type === 'stage-not-run') as Array<Extract<RunEvent, { type: 'stage-not-run' }>>;
      expect(notRun.find((e) => e.stage === 'after')?.because).toBe("upstream 'bad' failed");
      if (!keepGoing) expect(notRun.find((e) => e.stage === 'other')?.because).toBe('an earlier stage failed');
    }
  });

  it('runs nothing the second time, and after an edit only the stages downstream of it', async () => {
    const p = new Project(
      `stages:
  left: { cmd: 'left', deps: [left.in], outs: [left.txt] }
  right: { cmd: 'right', deps: [right.in], outs: [right.txt] }
  join: { cmd: 'join', deps: [left.txt, right.txt], outs: [join.txt] }
`,
      { 'left.in': '1', 'right.in': '1' },
    );
    expect((await p.run(new ControlledExecutor(true))).status).toBe('success');
    const second = new ControlledExecutor(true);
    const again = await p.run(second);
    expect(second.started).toEqual([]);
    expect(Object.values(p.statuses(again)).every((s) => s === 'up-to-date')).toBe(true);
    p.write('left.in', '2');
    const third = new ControlledExecutor(true);
    await p.run(third);
    expect(third.started).toEqual(['left', 'join']);
  });

  it('does not re-run downstream stages when a re-run stage writes byte-identical outs (early cutoff)', async () => {
    const p = new Project(
      `stages:
  gen: { cmd: 'gen', deps: [src.txt], outs: [gen.txt] }
  use: { cmd: 'use', deps: [gen.txt], outs: [use.txt] }
`,
      { 'src.txt': 'a' },
    );
    const same = (stage: string) => `${stage} always the same\n`;
    const first = new ControlledExecutor(true);
    first.content = same;
    await p.run(first);
    p.write('src.txt', 'b');
    const second = new ControlledExecutor(true);
    second.content = same;
    const outcome = await p.run(second);
    expect(second.started).toEqual(['gen']);
    expect(p.statuses(outcome)).toEqual({ gen: 'done', use: 'up-to-date' });
  });

  it('runs a uses-stage through the handed-in catalog, and re-runs it when the kind version changes', async () => {
    const yaml = `stages:
  up: { uses: upper, with: { input: in.txt, output: out/up.txt }, deps: [in.txt], outs: [out/up.txt] }
`;
    const p = new Project(yaml, { 'in.txt': 'hello' }, catalogWith({ upper: kind('1') }));
    const exec = new ControlledExecutor(true);
    expect((await p.run(exec)).status).toBe('success');
    expect(readFileSync(join(p.root, 'out/up.txt'), 'utf8')).toBe('HELLO');
    expect(exec.started).toEqual([]);
    expect((await p.run(exec)).results.get('up')?.status).toBe('up-to-date');
    p.catalog = catalogWith({ upper: kind('2', (s) => `${s.toUpperCase()}!`) });
    const outcome = await p.run(exec);
    expect(outcome.results.get('up')?.status).toBe('done');
    const started = p.events.find((e) => e.type === 'stage-started') as Extract<RunEvent, { type: 'stage-started' }>;
    expect(started.reasons).toContain('stage kind changed (upper@1 → upper@2)');
    expect(readFileSync(join(p.root, 'out/up.txt'), 'utf8')).toBe('HELLO!');
  });

  it('names an unknown kind with the catalog it was given', async () => {
    const p = new Project(`stages:
  up: { uses: uper, with: {}, outs: [x.txt] }
`, {}, catalogWith({ upper: kind('1') }));
    const loaded = await loadPipeline(join(p.root, 'pipeline.yaml'), { catalog: p.catalog });
    expect(loaded.diagnostics.map((d) => [d.message, d.hint])).toEqual([["unknown stage kind 'uper'", "did you mean 'upper'?"]]);
  });
  it('never starts a stage whose out leads outside the project through a symlink planted upstream', async () => {
    const p = new Project(`stages:
  plant: { cmd: 'plant', outs: [plant.txt] }
  write: { cmd: 'write', deps: [plant.txt], outs: [reports/out.txt] }
`);
    const away = mkdtempSync(join(tmpdir(), 'evidence-away-'));
    const exec = new ControlledExecutor();
    const run = p.run(exec);
    await exec.untilStarted('plant');
    symlinkSync(away, join(p.root, 'reports'));
    exec.finish('plant');
    const outcome = await run;
    expect(exec.started).toEqual(['plant']);
    expect(outcome.results.get('write')?.failure).toMatchObject({ reason: 'missing-out' });
    expect(outcome.results.get('write')?.failure?.message).toMatch(/^out 'reports\/out\.txt' resolves outside the project \(reports → /);
    expect(existsSync(join(away, 'out.txt'))).toBe(false);
  });

  it('asks the uses executor to get ready while script stages are still to come, and only then', async () => {
    const calls: string[] = [];
    class Recording extends ControlledExecutor {
      prepare(): void {
        calls.push(`prepare (running: ${this.started.join(', ') || 'none'})`);
      }
      override execute(x: Execution): Promise<ExecutionResult> {
        calls.push(`execute ${x.stage.name}`);
        return super.execute(x);
      }
    }
    const p = new Project(
      `stages:
  a: { cmd: 'a', outs: [a.txt] }
  s: { uses: ./s.mjs, deps: [a.txt], outs: [s.txt] }
  z: { cmd: 'z', deps: [s.txt], outs: [z.txt] }
`,
      { 's.mjs': 'export async function run() {}\n' },
    );
    const exec = new Recording(true);
    expect((await p.run(exec, { executors: { cmd: exec, uses: exec } })).status).toBe('success');
    // Ready while a ran (s still to come); not after s, with no script left.
    expect(calls).toEqual(['execute a', 'prepare (running: a)', 'execute s', 'execute z']);
  });
});
