// A stage whose kind describes the pipeline (StageKind.describesPipeline, e.g. a config snapshot):
// the cache decision in process (src/cache/workspace.ts), on real files in a temp project. Every
// param and every other stage's definition is its input, so a restored copy of what it wrote always
// describes the pipeline it is restored into, and "why it runs" names the part that changed.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../src/cache/workspace.js';
import type { Pipeline, Stage } from '../../src/pipeline/model.js';

const at = { line: 1, column: 1 };

function stage(name: string, spec: Partial<Stage>): Stage {
  const base: Stage = { name, loc: at, kind: 'cmd', cmd: `echo ${name}`, with: {}, deps: [], outs: [], env: {}, cwd: '.', needs: [], paramsUsed: [], display: `echo ${name}` };
  return { ...base, ...spec };
}

const describer = stage('snapshot', {
  kind: 'uses',
  cmd: undefined,
  uses: 'describer',
  kindVersion: '1',
  describesPipeline: true,
  outs: [{ path: 'out/snapshot.json', cache: true, loc: at }],
  display: 'uses describer with {}',
});

function pipeline(root: string, params: Record<string, unknown>, compareWith: Record<string, unknown>, extra: Stage[] = []): Pipeline {
  const compare = stage('compare', { kind: 'uses', cmd: undefined, uses: 'compare', kindVersion: '1', with: compareWith, paramsUsed: ['tolerance'], display: `uses compare with ${JSON.stringify(compareWith)}` });
  const trace = stage('trace', { cmd: `trace --pixel ${JSON.stringify(params.pixel)}`, paramsUsed: ['pixel'] });
  const stages = [describer, trace, compare, ...extra];
  return { file: join(root, 'pipeline.yaml'), root, params, env: {}, stages: new Map(stages.map((s) => [s.name, s])), protect: [], reports: {}, source: '' };
}

/** Decides, then (for run) writes what the stage would and commits it; returns the decision. */
async function settle(ws: Workspace, root: string, p: Pipeline, content: string) {
  ws.beginRun();
  const ev = await ws.evaluate(p, describer, {}, false);
  if (ev.verdict === 'run') {
    writeFileSync(join(root, 'out/snapshot.json'), content);
    ws.commitRun(p, describer, ev, await ws.hashOuts(describer), 'run', 'produced');
  } else if (ev.verdict === 'restore') {
    await ws.restore(describer, ev.record!, 'run');
    ws.commitRun(p, describer, ev, await ws.hashOuts(describer), 'run', 'restored');
  }
  return ev;
}

describe('a stage that describes the pipeline', () => {
  it('re-runs when any param or another stage’s definition changes, says which, and restores the matching run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-describes-'));
    mkdirSync(join(root, 'out'));
    const ws = new Workspace(root);
    const base = pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: {} });
    expect((await settle(ws, root, base, 'auto\n')).reasons).toEqual(['never ran']);
    expect((await settle(ws, root, base, 'x')).verdict).toBe('up-to-date');

    // A param it never references is still its input: it records every param.
    const moved = pipeline(root, { pixel: [1, 2], tolerance: 1e-6 }, { aliases: {} });
    const ev = await settle(ws, root, moved, '[1,2]\n');
    expect(ev.verdict).toBe('run');
    expect(ev.reasons).toEqual(['param pixel changed (auto → [1,2])', "the pipeline changed: stage trace's cmd"]);

    const aliased = pipeline(root, { pixel: [1, 2], tolerance: 1e-6 }, { aliases: { a: 'b' } });
    expect((await settle(ws, root, aliased, 'aliased\n')).reasons).toEqual(["the pipeline changed: stage compare's with"]);

    const grown = pipeline(root, { pixel: [1, 2], tolerance: 1e-6 }, { aliases: { a: 'b' } }, [stage('notes', { env: { A: '1' } })]);
    expect((await settle(ws, root, grown, 'grown\n')).reasons).toEqual(['the pipeline changed: stage notes was added']);

    // Back to the first pipeline: the first run's output comes back, not the last one's.
    const back = await settle(ws, root, base, 'never written');
    expect(back.verdict).toBe('restore');
    expect(back.reasons).toEqual(['param pixel changed ([1,2] → auto)', "the pipeline changed: stage compare's with; stage trace's cmd; stage notes was removed"]);
    expect((await import('node:fs')).readFileSync(join(root, 'out/snapshot.json'), 'utf8')).toBe('auto\n');
  });

  it('leaves the fingerprint of every other stage as it was', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-describes-'));
    const ws = new Workspace(root);
    const a = pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: {} });
    const b = pipeline(root, { pixel: [3, 4], tolerance: 1e-6 }, { aliases: { x: 'y' } });
    const trace = a.stages.get('trace')!;
    const inputs = await ws.fingerprintInputs(a, trace, {});
    expect(inputs.pipeline).toBeUndefined();
    expect(Object.keys(inputs.params)).toEqual(['pixel']);
    const compareA = await ws.fingerprintInputs(a, a.stages.get('compare')!, {});
    const compareB = await ws.fingerprintInputs(b, { ...b.stages.get('compare')!, with: { aliases: {} } }, {});
    expect(compareB).toEqual(compareA);
  });

  it('keeps one hash per pipeline in the lock, so N describing stages cost N, not N × N', async () => {
    const lockBytesPerDescriber = async (n: number) => {
      const root = mkdtempSync(join(tmpdir(), 'evidence-describes-'));
      mkdirSync(join(root, 'out'));
      const ws = new Workspace(root);
      const describers = Array.from({ length: n }, (_, i) => ({ ...describer, name: `snapshot${i}`, outs: [{ path: `out/s${i}.json`, cache: true, loc: at }] }));
      const p: Pipeline = { file: join(root, 'pipeline.yaml'), root, params: {}, env: {}, stages: new Map(describers.map((s) => [s.name, s])), protect: [], reports: {}, source: '' };
      ws.beginRun();
      for (const d of describers) {
        const ev = await ws.evaluate(p, d, {}, false);
        writeFileSync(join(root, d.outs[0]!.path), d.name);
        ws.commitRun(p, d, ev, await ws.hashOuts(d), 'run', 'produced');
      }
      return JSON.stringify(ws.lock.stages).length / n;
    };
    const small = await lockBytesPerDescriber(10);
    const large = await lockBytesPerDescriber(200);
    expect(large).toBeLessThan(small * 1.2);
  });

  it('keeps a description per pipeline version until gc drops those no lock entry names', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-describes-'));
    mkdirSync(join(root, 'out'));
    const ws = new Workspace(root);
    await settle(ws, root, pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: {} }), 'a\n');
    await settle(ws, root, pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: { a: 'b' } }), 'b\n');
    const kept = () => readdirSync(join(root, '.evidence', 'pipelines')).sort();
    expect(kept()).toHaveLength(2);
    expect(ws.prunePipelineDescriptions()).toBe(1);
    expect(kept()).toEqual([`${ws.lock.stages.snapshot!.pipeline}.json`]);
  });

  it('says the pipeline changed, without naming a part, when the earlier version was not kept', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-describes-'));
    mkdirSync(join(root, 'out'));
    const ws = new Workspace(root);
    await settle(ws, root, pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: {} }), 'a\n');
    rmSync(join(root, '.evidence', 'pipelines'), { recursive: true });
    const ev = await settle(ws, root, pipeline(root, { pixel: 'auto', tolerance: 1e-6 }, { aliases: { a: 'b' } }), 'b\n');
    expect(ev.reasons).toEqual(['the pipeline changed (another stage or its env; what changed was not kept)']);
  });
});
