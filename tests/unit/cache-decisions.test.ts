// The cache's decision for one stage (Workspace.evaluate in src/cache/workspace.ts), in process, on
// real files in a temp project: run (and why), up to date, restore from the object store, forced.
// A "run" of a stage here is the test writing its outs, as its command would, then committing.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace, type Evaluation } from '../../src/cache/workspace.js';
import type { Pipeline, Stage } from '../../src/pipeline/model.js';

// ---------------------------------------------------------------------------------------------
// Everything that knows how the model and the Workspace are built and called is here, so that an
// API change is one edit. Workspace calls used: new Workspace(root), beginRun(),
// evaluate(pipeline, stage, upstreamOuts, force, overlay?), hashOuts(stage),
// commitRun(pipeline, stage, evaluation, outs, runId, event), restore(stage, record, runId),
// store.objectPath(hash), lock.stages.

const at = { line: 1, column: 1 };

interface StageSpec {
  name?: string;
  cmd?: string;
  /** A built-in kind and its catalog version, instead of cmd. */
  uses?: { kind: string; version: string; with?: Record<string, unknown> };
  deps?: string[];
  outs?: Array<string | { path: string; cache: false }>;
  env?: Record<string, string>;
  cwd?: string;
  paramsUsed?: string[];
}

function stageOf(spec: StageSpec): Stage {
  const name = spec.name ?? 'gen';
  const base = {
    name,
    loc: at,
    with: spec.uses?.with ?? {},
    deps: (spec.deps ?? []).map((pattern) => ({ pattern, isGlob: /[*?[\]{}]/.test(pattern), loc: at })),
    outs: (spec.outs ?? []).map((o) => (typeof o === 'string' ? { path: o, cache: true, loc: at } : { ...o, loc: at })),
    env: spec.env ?? {},
    cwd: spec.cwd ?? '.',
    needs: [],
    paramsUsed: spec.paramsUsed ?? [],
  };
  if (spec.uses) return { ...base, kind: 'uses', uses: spec.uses.kind, kindVersion: spec.uses.version, display: `uses ${spec.uses.kind} with ${JSON.stringify(spec.uses.with)}` };
  const cmd = spec.cmd ?? 'cp input/a.txt out/gen.txt';
  return { ...base, kind: 'cmd', cmd, display: cmd };
}

function pipelineOf(root: string, stages: Stage[], params: Record<string, unknown> = {}): Pipeline {
  return { file: join(root, 'pipeline.yaml'), root, params, env: {}, stages: new Map(stages.map((s) => [s.name, s])), protect: [], reports: {}, source: '' };
}

/** The cache's decision at the start of a run (hashes are memoised per run, as in the runner). */
function decide(
  ws: Workspace,
  pipeline: Pipeline,
  stage: Stage,
  opts: { force?: boolean; upstream?: Record<string, Record<string, string>>; overlay?: Map<string, string> } = {},
): Promise<Evaluation> {
  ws.beginRun();
  return ws.evaluate(pipeline, stage, opts.upstream ?? {}, opts.force ?? false, opts.overlay);
}

/** Records a successful run (or restore) of the stage with whatever its outs now hold. */
async function commit(ws: Workspace, pipeline: Pipeline, stage: Stage, ev: Evaluation, event: 'produced' | 'restored' = 'produced'): Promise<void> {
  ws.commitRun(pipeline, stage, ev, await ws.hashOuts(stage), 'run-1', event);
}

async function restoreOuts(ws: Workspace, stage: Stage, ev: Evaluation): Promise<void> {
  expect(await ws.restore(stage, ev.record!, 'run-2')).toEqual({ ok: true });
}

// ---------------------------------------------------------------------------------------------

class Project {
  readonly root = mkdtempSync(join(tmpdir(), 'evidence-cache-'));
  write(rel: string, text: string): void {
    mkdirSync(dirname(join(this.root, rel)), { recursive: true });
    writeFileSync(join(this.root, rel), text);
  }
  read(rel: string): string {
    return readFileSync(join(this.root, rel), 'utf8');
  }
  remove(rel: string): void {
    rmSync(join(this.root, rel), { recursive: true, force: true });
  }
}

/** The usual shape: `gen` copies input/a.txt to out/gen.txt. */
function copyStage(p: Project, spec: StageSpec = {}): Stage {
  p.write('input/a.txt', 'alpha\n');
  return stageOf({ deps: ['input/a.txt'], outs: ['out/gen.txt'], ...spec });
}

/** A project with the one copy stage, its pipeline and a workspace: the setup most tests share. */
function copyProject() {
  const p = new Project();
  const stage = copyStage(p);
  return { p, stage, pipeline: pipelineOf(p.root, [stage]), ws: new Workspace(p.root) };
}

/** Runs `gen` as its command would (copying its dep to its out) and commits it. */
async function runCopy(ws: Workspace, pipeline: Pipeline, stage: Stage, p: Project): Promise<Evaluation> {
  const ev = await decide(ws, pipeline, stage);
  p.write('out/gen.txt', p.read('input/a.txt'));
  await commit(ws, pipeline, stage, ev);
  return ev;
}

describe('the cache decision', () => {
  it("runs a stage that never ran, saying 'never ran'", async () => {
    const p = new Project();
    const stage = copyStage(p);
    const ev = await decide(new Workspace(p.root), pipelineOf(p.root, [stage]), stage);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['never ran']);
    expect(ev.record).toBeUndefined();
  });

  it('finds a stage up to date after its run was committed, with no reason', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    const first = await runCopy(ws, pipeline, stage, p);
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('up-to-date');
    expect(ev.reasons).toEqual([]);
    expect(ev.fingerprint).toBe(first.fingerprint);
  });

  it('keeps the decision in evidence.lock: a fresh Workspace on the same project finds the stage up to date', async () => {
    const p = new Project();
    const stage = copyStage(p);
    const pipeline = pipelineOf(p.root, [stage]);
    const ran = await runCopy(new Workspace(p.root), pipeline, stage, p);
    const next = new Workspace(p.root);
    expect(next.lock.stages.gen?.fingerprint).toBe(ran.fingerprint);
    expect((await decide(next, pipeline, stage)).verdict).toBe('up-to-date');
  });

  it('runs a stage whose dep changed, naming the dep, when no earlier run matches', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    const first = await runCopy(ws, pipeline, stage, p);
    p.write('input/a.txt', 'alpha 2\n');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(["dep 'input/a.txt' changed"]);
    expect(ev.fingerprint).not.toBe(first.fingerprint);
  });

  it('notices an edit that keeps the file size', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    p.write('input/a.txt', 'ALPHA\n');
    expect((await decide(ws, pipeline, stage)).reasons).toEqual(["dep 'input/a.txt' changed"]);
  });

  it('names a dep that went missing, one that is new and one that was removed', async () => {
    const p = new Project();
    p.write('input/b.txt', 'beta\n');
    const stage = copyStage(p, { deps: ['input/a.txt', 'input/b.txt'] });
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage]), stage, p);

    p.remove('input/b.txt');
    expect((await decide(ws, pipelineOf(p.root, [stage]), stage)).reasons).toEqual(["dep 'input/b.txt' is missing"]);

    p.write('input/c.txt', 'gamma\n');
    const moved = stageOf({ deps: ['input/a.txt', 'input/c.txt'], outs: ['out/gen.txt'] });
    const ev = await decide(ws, pipelineOf(p.root, [moved]), moved);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(["dep 'input/c.txt' is new", "dep 'input/b.txt' was removed"]);
  });

  it('expands a folder dep into its files and names the file that changed', async () => {
    const p = new Project();
    p.write('inputs/one.txt', '1\n');
    p.write('inputs/sub/two.txt', '2\n');
    const stage = stageOf({ cmd: 'ls -R inputs > out/list.txt', deps: ['inputs'], outs: ['out/list.txt'] });
    const pipeline = pipelineOf(p.root, [stage]);
    const ws = new Workspace(p.root);
    const ev0 = await decide(ws, pipeline, stage);
    expect(Object.keys(ev0.inputs.deps)).toEqual(['inputs/one.txt', 'inputs/sub/two.txt']);
    p.write('out/list.txt', 'listing\n');
    await commit(ws, pipeline, stage, ev0);

    p.write('inputs/sub/two.txt', 'two\n');
    expect((await decide(ws, pipeline, stage)).reasons).toEqual(["dep 'inputs/sub/two.txt' changed"]);
    p.write('inputs/three.txt', '3\n');
    expect((await decide(ws, pipeline, stage)).reasons).toContain("dep 'inputs/three.txt' is new");
  });

  it('runs a stage whose param changed, naming the param and both values', async () => {
    const p = new Project();
    const stage = copyStage(p, { paramsUsed: ['factor'] });
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage], { factor: 2, unused: 'a' }), stage, p);
    // A param the stage does not use is not an input.
    expect((await decide(ws, pipelineOf(p.root, [stage], { factor: 2, unused: 'b' }), stage)).verdict).toBe('up-to-date');
    const ev = await decide(ws, pipelineOf(p.root, [stage], { factor: 5, unused: 'a' }), stage);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['param factor changed (2 → 5)']);
  });

  it('runs a stage whose env changed, naming the variable and both values', async () => {
    const p = new Project();
    const stage = copyStage(p, { env: { LC_NUMERIC: 'C' } });
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage]), stage, p);
    const changed = copyStage(p, { env: { LC_NUMERIC: 'de_DE.UTF-8', OMP_NUM_THREADS: '1' } });
    const ev = await decide(ws, pipelineOf(p.root, [changed]), changed);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['env LC_NUMERIC changed (C → de_DE.UTF-8)', 'env OMP_NUM_THREADS changed (unset → 1)']);
  });

  it('runs a stage whose command changed, quoting the words that changed with one word of context', async () => {
    const p = new Project();
    const stage = copyStage(p);
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage]), stage, p);
    const changed = copyStage(p, { cmd: 'tr a-z A-Z < input/a.txt > out/gen.txt' });
    const ev = await decide(ws, pipelineOf(p.root, [changed]), changed);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['cmd changed (cp input/a.txt … → tr a-z A-Z < input/a.txt > …)']);
    // In a long command only the changed words show, between the words around them.
    const long = 'python trace.py --config data/cubic.json --pixel 685 1039 --tolerance 1e-6 --out out/gen.txt';
    const ws2 = new Workspace(p.root);
    const first = copyStage(p, { cmd: long });
    await runCopy(ws2, pipelineOf(p.root, [first]), first, p);
    const edited = copyStage(p, { cmd: long.replace('1e-6', '1e-9') });
    expect((await decide(ws2, pipelineOf(p.root, [edited]), edited)).reasons).toEqual(['cmd changed (… --tolerance 1e-6 … → … --tolerance 1e-9 …)']);
  });

  it('names an out that was added or removed, and says what a changed timeout can only be', async () => {
    const p = new Project();
    const stage = copyStage(p);
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage]), stage, p);
    const more = copyStage(p, { outs: ['out/gen.txt', 'out/more.txt'] });
    expect((await decide(ws, pipelineOf(p.root, [more]), more)).reasons).toEqual(["out 'out/more.txt' added"]);
    const slower = { ...stage, timeoutMs: 60_000 };
    expect((await decide(ws, pipelineOf(p.root, [slower]), slower)).reasons).toEqual(["stage definition changed (its timeout or its outs' options)"]);
  });

  it('runs a stage whose working directory changed', async () => {
    const p = new Project();
    const stage = copyStage(p);
    const ws = new Workspace(p.root);
    await runCopy(ws, pipelineOf(p.root, [stage]), stage, p);
    const moved = copyStage(p, { cwd: 'input' });
    expect((await decide(ws, pipelineOf(p.root, [moved]), moved)).reasons).toEqual(['cwd changed (. → input)']);
  });

  it("re-runs a built-in stage when its kind's version changes, naming both versions", async () => {
    const p = new Project();
    p.write('traces/c.log', 'TRACE_C: F_latt 1.5\n');
    const spec = (version: string): StageSpec => ({ name: 'parse', uses: { kind: 'parse-trace', version, with: { input: 'traces/c.log' } }, deps: ['traces/c.log'], outs: ['out/c.json'] });
    const v1 = stageOf(spec('1'));
    const ws = new Workspace(p.root);
    const ev = await decide(ws, pipelineOf(p.root, [v1]), v1);
    p.write('out/c.json', '{}\n');
    await commit(ws, pipelineOf(p.root, [v1]), v1, ev);
    expect((await decide(ws, pipelineOf(p.root, [v1]), v1)).verdict).toBe('up-to-date');

    const v2 = stageOf(spec('2'));
    const again = await decide(ws, pipelineOf(p.root, [v2]), v2);
    expect(again.verdict).toBe('run');
    expect(again.reasons).toEqual(['stage kind changed (parse-trace@1 → parse-trace@2)']);
  });

  it('re-runs a built-in stage whose `with` changed, naming each field that changed with both values', async () => {
    const p = new Project();
    p.write('traces/c.log', 'TRACE_C: F_latt 1.5\n');
    const spec = (w: Record<string, unknown>): StageSpec => ({ name: 'parse', uses: { kind: 'parse-trace', version: '1', with: w }, deps: ['traces/c.log'], outs: ['out/c.json'] });
    const before = stageOf(spec({ input: 'traces/c.log' }));
    const ws = new Workspace(p.root);
    const ev = await decide(ws, pipelineOf(p.root, [before]), before);
    p.write('out/c.json', '{}\n');
    await commit(ws, pipelineOf(p.root, [before]), before, ev);
    const after = stageOf(spec({ input: 'traces/c.log', prefix: 'TRACE_C' }));
    expect((await decide(ws, pipelineOf(p.root, [after]), after)).reasons).toEqual(['with.prefix added (TRACE_C)']);
    const nested = stageOf(spec({ input: 'traces/c.log', tolerance: { rel: 1e-9, keys: { 'F_*': { abs: 1 } } } }));
    const tighter = await decide(ws, pipelineOf(p.root, [nested]), nested);
    expect(tighter.reasons).toEqual(['with.tolerance added ({"rel":1e-9,"keys":{"F_*":{"abs":1}}})']);
    p.write('out/c.json', '{}\n');
    await commit(ws, pipelineOf(p.root, [nested]), nested, tighter);
    const looser = stageOf(spec({ input: 'traces/c.log', tolerance: { rel: 1e-6, keys: { 'F_*': { abs: 1 } } } }));
    expect((await decide(ws, pipelineOf(p.root, [looser]), looser)).reasons).toEqual(['with.tolerance.rel changed (1e-9 → 1e-6)']);
  });

  it('says that a redacted value may have changed, without either value', async () => {
    const p = new Project();
    p.write('traces/c.log', 'TRACE_C: F_latt 1.5\n');
    const spec = (w: Record<string, unknown>): StageSpec => ({ name: 'parse', uses: { kind: 'parse-trace', version: '1', with: w }, deps: ['traces/c.log'], outs: ['out/c.json'] });
    const before = stageOf(spec({ input: 'traces/c.log', api_key: 'sk-first-secret' }));
    const ws = new Workspace(p.root);
    const ev = await decide(ws, pipelineOf(p.root, [before]), before);
    p.write('out/c.json', '{}\n');
    await commit(ws, pipelineOf(p.root, [before]), before, ev);
    const after = stageOf(spec({ input: 'traces/c.log', api_key: 'sk-second-secret' }));
    const reasons = (await decide(ws, pipelineOf(p.root, [after]), after)).reasons;
    expect(reasons).toEqual(["stage definition changed (a redacted value, its timeout or its outs' options)"]);
    expect(reasons.join(' ')).not.toMatch(/first|second/);
  });

  it("runs a stage when an upstream stage's out changed, naming the upstream and the out", async () => {
    const p = new Project();
    const stage = copyStage(p, { name: 'use' });
    const ws = new Workspace(p.root);
    const pipeline = pipelineOf(p.root, [stage]);
    const ev = await decide(ws, pipeline, stage, { upstream: { snapshot: { 'out/s.json': 'a'.repeat(64) } } });
    p.write('out/gen.txt', 'alpha\n');
    await commit(ws, pipeline, stage, ev);
    const again = await decide(ws, pipeline, stage, { upstream: { snapshot: { 'out/s.json': 'b'.repeat(64) } } });
    expect(again.verdict).toBe('run');
    expect(again.reasons).toEqual(["upstream 'snapshot' out 'out/s.json' changed"]);
  });

  it('restores rather than runs when an out was modified by hand, naming the out', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    p.write('out/gen.txt', 'edited by hand\n');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('restore');
    expect(ev.reasons).toEqual(["out 'out/gen.txt' was modified"]);
    await restoreOuts(ws, stage, ev);
    expect(p.read('out/gen.txt')).toBe('alpha\n');
    expect((await decide(ws, pipeline, stage)).verdict).toBe('up-to-date');
  });

  it('restores a deleted out, saying it is missing', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    p.remove('out/gen.txt');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('restore');
    expect(ev.reasons).toEqual(["out 'out/gen.txt' is missing"]);
  });

  it('runs (cannot restore) when a hand-modified out is not cached', async () => {
    const p = new Project();
    const stage = copyStage(p, { outs: [{ path: 'out/gen.txt', cache: false }] });
    const pipeline = pipelineOf(p.root, [stage]);
    const ws = new Workspace(p.root);
    await runCopy(ws, pipeline, stage, p);
    expect((await decide(ws, pipeline, stage)).verdict).toBe('up-to-date');
    p.write('out/gen.txt', 'edited by hand\n');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(["out 'out/gen.txt' was modified"]);
  });

  it('restores the earlier outs from the object store when the inputs go back to an earlier state', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    const v1 = await runCopy(ws, pipeline, stage, p);
    p.write('input/a.txt', 'alpha 2\n');
    await runCopy(ws, pipeline, stage, p);
    expect(p.read('out/gen.txt')).toBe('alpha 2\n');

    p.write('input/a.txt', 'alpha\n');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('restore');
    expect(ev.reasons).toEqual(["dep 'input/a.txt' changed"]);
    expect(ev.fingerprint).toBe(v1.fingerprint);
    expect(ev.record).toMatchObject({ stage: 'gen', fingerprint: v1.fingerprint });

    await restoreOuts(ws, stage, ev);
    expect(p.read('out/gen.txt')).toBe('alpha\n');
    await commit(ws, pipeline, stage, ev, 'restored');
    expect((await decide(ws, pipeline, stage)).verdict).toBe('up-to-date');
  });

  it('runs instead of restoring when an object of the earlier outs is gone from the store', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    const objectOfV1 = ws.lock.stages.gen!.outs['out/gen.txt']!.hash;
    p.write('input/a.txt', 'alpha 2\n');
    await runCopy(ws, pipeline, stage, p);
    rmSync(ws.store.objectPath(objectOfV1), { force: true });

    p.write('input/a.txt', 'alpha\n');
    const ev = await decide(ws, pipeline, stage);
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(["dep 'input/a.txt' changed"]);
  });

  it("runs a forced stage even when it is up to date, with 'forced' first", async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    const ev = await decide(ws, pipeline, stage, { force: true });
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['forced']);
  });

  it('never restores a forced stage, even when the store could', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    p.remove('out/gen.txt');
    expect((await decide(ws, pipeline, stage)).verdict).toBe('restore');
    const ev = await decide(ws, pipeline, stage, { force: true });
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['forced', "out 'out/gen.txt' is missing"]);
  });

  it('writes the run record after the commit, by the end of the run, and reports a record it could not write', async () => {
    const { p, stage, pipeline, ws } = copyProject();
    const ev = await runCopy(ws, pipeline, stage, p);
    const record = ws.store.runPath(ev.fingerprint);
    // Written once the stages started by this commit have been started (a tick later), or at the end.
    ws.compactLock();
    expect(JSON.parse(readFileSync(record, 'utf8')).fingerprint).toBe(ev.fingerprint);

    // A run cache folder that cannot be made (a file is in its way): the run says so at its end.
    p.write('input/a.txt', 'beta\n');
    const ev2 = await decide(ws, pipeline, stage);
    rmSync(join(ws.store.runsDir, ev2.fingerprint.slice(0, 2)), { recursive: true, force: true });
    writeFileSync(join(ws.store.runsDir, ev2.fingerprint.slice(0, 2)), 'in the way');
    p.write('out/gen.txt', 'beta\n');
    await commit(ws, pipeline, stage, ev2);
    expect(() => ws.compactLock()).toThrow(/ENOTDIR|EEXIST/);
    // The stage itself is recorded: its result is not lost, only its restore later.
    expect(ws.lock.stages.gen!.fingerprint).toBe(ev2.fingerprint);
  });

  it("judges a dry run by the overlay's planned hash rather than the file on disk", async () => {
    const { p, stage, pipeline, ws } = copyProject();
    await runCopy(ws, pipeline, stage, p);
    const recorded = ws.lock.stages.gen!.deps['input/a.txt']!;
    p.write('input/a.txt', 'not yet restored\n');
    expect((await decide(ws, pipeline, stage)).verdict).toBe('run');
    expect((await decide(ws, pipeline, stage, { overlay: new Map([['input/a.txt', recorded]]) })).verdict).toBe('up-to-date');
  });
});
