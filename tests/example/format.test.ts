// The port's printf("%.15g") formatter: real numbers from the nanoBragg logs, edge cases, and C itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatG, formatInteger } from '../../example/port/format.js';
import { fixtureConfigs, run } from './harness.js';

describe('formatG', () => {
  it('reprints every number of the real nanoBragg TRACE_C lines with the same text', () => {
    const tokens = new Set<string>();
    for (const { log } of fixtureConfigs()) {
      for (const line of log.split('\n')) {
        if (!line.startsWith('TRACE_C')) continue;
        for (const token of line.split(/[\s=:;[\]]+/)) if (/^-?\d/.test(token) && Number.isFinite(Number(token))) tokens.add(token);
      }
    }
    expect(tokens.size).toBeGreaterThan(100);
    for (const token of tokens) expect(formatG(Number(token))).toBe(token);
  });

  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [100, '100'],
    [1e-10, '1e-10'],
    [2.81794117756025e-15, '2.81794117756025e-15'],
    [125932015286227086360700780544, '1.25932015286227e+29'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e14, '100000000000000'],
    [1e15, '1e+15'],
    [123456789012345678, '1.23456789012346e+17'],
    [0.1 + 0.2, '0.3'],
    [-6.123233995736766e-17, '-6.12323399573677e-17'],
    // exact ties round to even, as glibc does
    [1234567890123455, '1.23456789012346e+15'],
    [1234567890123445, '1.23456789012344e+15'],
    [9.999999999999999e22, '1e+23'],
    [5e-324, '4.94065645841247e-324'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('prints %s as %s', (value, text) => {
    expect(formatG(value)).toBe(text);
  });

  it('prints %d values without a fraction', () => {
    expect([formatInteger(-1), formatInteger(0), formatInteger(-0), formatInteger(10)]).toEqual(['-1', '0', '0', '10']);
  });

  it('agrees with the C library on random doubles of every magnitude', () => {
    const dir = mkdtempSync(join(tmpdir(), 'example-printf-'));
    const source = join(dir, 'g15.c');
    writeFileSync(
      source,
      [
        '#include <stdio.h>',
        '#include <string.h>',
        '#include <stdint.h>',
        'int main(void) {',
        '  unsigned long long bits;',
        '  while (scanf("%llx", &bits) == 1) { double x; memcpy(&x, &bits, sizeof x); printf("%.15g\\n", x); }',
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const binary = join(dir, 'g15');
    expect(run('cc', ['-O2', '-o', binary, source], dir).code).toBe(0);

    const values = fc.sample(fc.double({ noNaN: true }), { numRuns: 3000, seed: 20240611 });
    values.push(...fc.sample(fc.double({ min: 1e-6, max: 1e16, noNaN: true }), { numRuns: 1000, seed: 7 }));
    const view = new DataView(new ArrayBuffer(8));
    const input = values
      .map((v) => {
        view.setFloat64(0, v);
        return view.getBigUint64(0).toString(16);
      })
      .join('\n');
    const printed = spawnSync(binary, [], { input, encoding: 'utf8' }).stdout.trim().split('\n');
    expect(printed.length).toBe(values.length);
    values.forEach((v, i) => expect([v, formatG(v)]).toEqual([v, printed[i]]));
  });
});

