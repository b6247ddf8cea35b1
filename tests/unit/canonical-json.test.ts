// Fingerprints are sha256 of canonicalJson: its text must never change for the same value, or
// every stage of every project re-runs after an upgrade. Checked against the plain definition
// (sorted keys, undefined members left out, undefined in an array as null) on random values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from '../../src/cache/fingerprint.js';

function byDefinition(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(byDefinition).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${byDefinition(record[k])}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('is the sorted-key JSON of any value', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.string({ unit: 'binary' })),
      node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string({ unit: 'binary' }), tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(byDefinition(v));
      }), { numRuns: 500 });
  });

  it('leaves out undefined members without a stray comma', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, { z: undefined, y: 2 }] })).toBe('{"b":1,"c":[null,{"y":2}]}');
  });
});
