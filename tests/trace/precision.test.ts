// Precision, the per-component judgement and the round-off budget: table-driven on real-looking
// numbers, and properties on random ones (a float32 rounding of a trace is all round-off, never a
// finding; a claim of single precision always fits the budget).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareComponents, compareTraces } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';
import { budgetAt, BUDGET_ULPS, FLOAT32, FLOAT64, isTellingFloat32, sidePrecision, ulp32, ulpIn } from '../../stages/trace/precision.js';
import type { TraceDocument } from '../../stages/trace/record.js';

const trace = (...lines: string[]): TraceDocument => parseTraceText(lines.join('\n') + '\n');
const f32 = (x: number) => Number(Math.fround(x).toPrecision(15));

describe('what a float32 value looks like printed', () => {
  it.each([
    [f32(0.1), true, 'a float32 printed with 15 digits'],
    [0.1, false, 'a double'],
    [0.5, false, 'a short dyadic number every precision holds'],
    [3933482240, true, 'an integer beyond 2^24 that only float32 rounding gives'],
    [4000000000, false, 'a round count'],
    [1e24, false, 'a round power of ten'],
    [7, false, 'a small integer'],
  ])('%s → %s (%s)', (x, telling) => {
    expect(isTellingFloat32(x)).toBe(telling);
  });
});

describe('a side’s precision', () => {
  const values = Array.from({ length: 30 }, (_, i) => Math.sin(i + 1) * 10);
  it('is float32 when most telling values are float32 numbers, float64 otherwise', () => {
    expect(sidePrecision(trace(...values.map((v, i) => `TRACE_PY: k${i} ${f32(v)}`))).type).toBe('float32');
    expect(sidePrecision(trace(...values.map((v, i) => `TRACE_C: k${i} ${v}`))).type).toBe('float64');
  });

  it('is "printed to N digits" when no value shows more than N of at least 20', () => {
    const p = sidePrecision(trace(...values.map((v, i) => `TRACE_PY: k${i} ${v.toPrecision(6)}`)));
    expect(p).toMatchObject({ type: 'decimal', digits: 6 });
  });

  it('gives a key of another precision its own, and the item the less precise of the two sides', () => {
    const ref = trace('TRACE_C: a 0.123456789012345', 'TRACE_C: b 0.987654321098765');
    const port = trace(`TRACE_PY: a ${f32(0.123456789012345)}`, 'TRACE_PY: b 0.987654321', 'TRACE_PY: c 0.1');
    const c = compareTraces(ref, port, { tolerance: { rel: 1e-12 } });
    expect(c.items.find((i) => i.name === 'a')!.precision).toBe('float32');
    expect(c.items.find((i) => i.name === 'b')!.precision).toBe('float64');
    expect(c.items.find((i) => i.name === 'a')!.roundOff).toBe(true);
    expect(c.items.find((i) => i.name === 'b')!.roundOff).toBe(false);
  });
});

describe('the round-off budget', () => {
  it('is 128 ulps of the item’s magnitude in its precision', () => {
    expect(BUDGET_ULPS).toBe(128);
    expect(budgetAt(1, FLOAT32)).toBe(128 * 2 ** -23);
    expect(budgetAt(1, FLOAT64)).toBe(128 * 2 ** -52);
    expect(ulpIn(3.93e9, FLOAT32)).toBe(256);
    expect(ulp32(0.75)).toBe(2 ** -24);
  });
});

describe('each component against its own magnitude', () => {
  const cases: Array<{ what: string; r: number[]; p: number[]; precision?: typeof FLOAT32; rel?: number; status: string }> = [
    { what: '1e-17 beside 1.0 in float64 is noise', r: [1, 0], p: [1, 1e-17], status: 'MATCH' },
    { what: '6e-15 beside 100 in float64 is noise', r: [100, 6.12323399573677e-15, 6.12323399573677e-15], p: [100, 0, 1e-17], status: 'MATCH' },
    { what: '1e-8 beside 1.0 in float32 is noise', r: [1, 0], p: [1, 1e-8], precision: FLOAT32, status: 'MATCH' },
    {
      what: '3.5e-6 relative in a small component is seen (diffracted_vec of the real float32 port)',
      r: [-0.151498733921271, 0.384222226023891, -0.910725762592394],
      p: [-0.151498198509216, 0.384222537279129, -0.910725712776184],
      precision: FLOAT32,
      status: 'MINOR',
    },
    { what: '3.5e-6 relative in a small component of a float64 vector is seen', r: [0.01, 1], p: [0.010000035, 1], status: 'MINOR' },
    { what: 'float32 rounding at a float64 tolerance (rel 1e-12) is beyond tolerance', r: [0.231274660], p: [f32(0.231274660)], precision: FLOAT32, rel: 1e-12, status: 'MINOR' },
  ];
  it.each(cases)('$what → $status', ({ r, p, precision, rel, status }) => {
    expect(compareComponents(r, p, rel === undefined ? {} : { rel }, false, precision ?? FLOAT64).status).toBe(status);
  });

  it('names the failing small component as the worst one, not the larger one that passes', () => {
    const out = compareComponents([0.01, 1], [0.010000035, 1.0000001]);
    expect(out.worst).toBe(0);
  });
});

describe('properties', () => {
  const vec = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((x) => Math.abs(x) > 1e-3), { minLength: 1, maxLength: 4 });
  const chain = fc.array(vec, { minLength: 5, maxLength: 25 });
  const docOf = (prefix: string, rows: number[][], round: (x: number) => number) =>
    trace(...rows.map((row, i) => `${prefix}: key_${i} ${row.map((x) => round(x)).join(' ')}`));

  it('a float32 rounding of a trace is all round-off: no finding, once the port reads as float32', () => {
    fc.assert(
      fc.property(chain, (rows) => {
        const port = docOf('TRACE_PY', rows, f32);
        // A port whose every float32 value happens to be an integer below 2^24 cannot be told from
        // a double one; a real trace has plenty of telling values.
        fc.pre(sidePrecision(port).type === 'float32');
        const c = compareTraces(docOf('TRACE_C', rows, (x) => x), port, { tolerance: { rel: 1e-12 } });
        expect(c.findings).toEqual([]);
        expect(c.findingVerdict).toBe('MATCH');
        for (const i of c.items) if (i.status !== 'MATCH') expect(i.roundOff, i.name).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never claims single precision for a difference beyond the budget, nor a scale factor that some component does not follow', () => {
    fc.assert(
      fc.property(chain, fc.array(fc.double({ min: -1e-3, max: 1e-3, noNaN: true }), { minLength: 4, maxLength: 4 }), (rows, noise) => {
        const port = rows.map((row) => row.map((x, k) => x * (1 + noise[k]!)));
        const c = compareTraces(docOf('TRACE_C', rows, (x) => x), docOf('TRACE_PY', port, (x) => x));
        for (const i of c.items) {
          for (const d of i.diagnoses ?? []) {
            if (d.kind === 'single-precision' || d.kind === 'round-off') expect(i.roundOff, i.name).toBe(true);
            if (d.kind === 'scale-factor') {
              const r = i.reference!.map(Number);
              const p = i.port!.map(Number);
              r.forEach((x, k) => expect(Math.abs(p[k]! - d.ratio! * x)).toBeLessThanOrEqual(Math.max(i.budget ?? 0, 1e-9 * Math.abs(x))));
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
