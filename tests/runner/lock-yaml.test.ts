// The lock writer's YAML reads back as the same data with the yaml package, for any plain data.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import { toYaml } from '../../src/cache/lock-yaml.js';

const scalarArb = fc.oneof(
  fc.string(),
  fc.constantFrom('true', 'null', '1e5', '0x1f', '- a', 'a: b', 'a #b', ' lead', 'trail ', "it's", '"q"', '[x]', '{y}', '*', '&a', '!t', '%', '@', '`', '|', '>', 'ünï', '', '~', '.inf', 'No', 'y'),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
const keyArb = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('reports/example/multi-phi/trace_c.log', 'a b', 'true', '1', 'x: y'));
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalarArb, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(keyArb, tie('value'), { maxKeys: 4 })),
})).value;

describe('lock YAML', () => {
  it('reads back as the same data', () => {
    fc.assert(
      fc.property(fc.dictionary(keyArb, valueArb, { maxKeys: 6 }), (data) => {
        const normal = JSON.parse(JSON.stringify(data));
        expect(parse(toYaml(normal)) ?? {}).toEqual(normal);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a real lock entry readably', () => {
    const text = toYaml({ version: 1, stages: { c_trace: { fingerprint: 'ab12', command: "sh -c 'echo $X' x", env: { LC_ALL: 'C' }, params: { pixel: [685, 1039] }, deps: {}, outs: { 'out/a.txt': { hash: 'ff', size: 3 } } } } });
    expect(text).toBe(`version: 1
stages:
  c_trace:
    fingerprint: ab12
    command: "sh -c 'echo $X' x"
    env:
      LC_ALL: C
    params:
      pixel: [685, 1039]
    deps: {}
    outs:
      out/a.txt:
        hash: ff
        size: 3
`);
  });
});
