// Matrix expansion and naming, and the selection of stages and instances by command-line words.
import { describe, expect, it } from 'vitest';
import { expandMatrix } from '../../src/pipeline/matrix.js';
import { selectStages } from '../../src/pipeline/select.js';
import type { Pipeline, Stage } from '../../src/pipeline/model.js';

function stage(name: string, instance?: Stage['instance']): Stage {
  return { name, loc: { line: 1, column: 1 }, kind: 'cmd', cmd: 'true', with: {}, deps: [], outs: [], env: {}, cwd: '.', needs: [], paramsUsed: [], display: 'true', instance };
}

function pipelineOf(stages: Stage[]): Pipeline {
  return { file: '/p/pipeline.yaml', root: '/p', params: {}, paramSpecs: {}, env: {}, stages: new Map(stages.map((s) => [s.name, s])), protect: [], reports: {}, source: '' };
}

describe('expandMatrix', () => {
  it('makes one instance per combination, first axis slowest, with readable names', () => {
    const got = expandMatrix('c_trace', [
      { name: 'config', values: ['cubic-default', 'ortho-beam'] },
      { name: 'pixel', values: [[685, 1039], [100, 200]] },
    ]);
    expect(got.map((i) => i.name)).toEqual([
      'c_trace@cubic-default,685-1039',
      'c_trace@cubic-default,100-200',
      'c_trace@ortho-beam,685-1039',
      'c_trace@ortho-beam,100-200',
    ]);
    expect(got[1]!.item).toEqual({ config: 'cubic-default', pixel: [100, 200] });
  });

  it('replaces characters a name may not hold', () => {
    expect(expandMatrix('s', [{ name: 'f', values: ['a b/c', 1e-7, true] }]).map((i) => i.name)).toEqual(['s@a_b_c', 's@1e-7', 's@true']);
  });
});

describe('selectStages', () => {
  const configs = ['cubic', 'ortho', 'tri'];
  const p = pipelineOf([
    stage('build'),
    ...configs.map((c) => stage(`trace@${c},1-2`, { of: 'trace', item: { config: c, pixel: [1, 2] } })),
    ...configs.map((c) => stage(`compare@${c},1-2`, { of: 'compare', item: { config: c, pixel: [1, 2] } })),
    stage('sweep'),
  ]);
  const names = (words: string[]) => {
    const r = selectStages(p, words);
    if (!r.ok) throw new Error(r.message);
    return r.stages;
  };

  it('takes an exact name, a matrix stage (all its instances), and globs, in pipeline order', () => {
    expect(names(['sweep', 'build'])).toEqual(['build', 'sweep']);
    expect(names(['compare'])).toEqual(['compare@cubic,1-2', 'compare@ortho,1-2', 'compare@tri,1-2']);
    expect(names(['compare@o*'])).toEqual(['compare@ortho,1-2']);
    expect(names(['*@tri*'])).toEqual(['trace@tri,1-2', 'compare@tri,1-2']);
  });

  it('selects instances by axis values, globs allowed', () => {
    expect(names(['compare@config=ortho'])).toEqual(['compare@ortho,1-2']);
    expect(names(['trace@config=[ct]*,pixel=1-2'])).toEqual(['trace@cubic,1-2', 'trace@tri,1-2']);
  });

  it('refuses a word that names nothing, with a did-you-mean', () => {
    expect(selectStages(p, ['compre'])).toEqual({ ok: false, message: expect.stringMatching(/no stage matches 'compre' \(did you mean 'compare'\?\)/) });
    expect(selectStages(p, ['compare@conf=ortho'])).toEqual({ ok: false, message: expect.stringMatching(/has no axis 'conf' \(did you mean 'config'\?\)/) });
    expect(selectStages(p, ['compare@config=none'])).toEqual({ ok: false, message: expect.stringMatching(/no stage matches/) });
  });
});
