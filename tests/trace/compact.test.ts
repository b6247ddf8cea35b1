// Large comparisons take the compact form (stages/trace/compact.ts): 200,000 records a side,
// generated here, compared once compact (the default above 100,000 items) and once in full (the
// threshold raised), must give the same verdicts, first divergence, findings and checkpoints, the
// same detail for every item kept, and a file that the schema accepts and every reader reads. The
// port differs by a planted sign flip, unit factor, nan and carry-over, prints one key in float32
// (5,000 items within round-off at the tolerance asked for it) and stops printing another one
// (1,500 items in one trace only).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces, COMPACT_ABOVE, type CompareOptions, type Comparison } from '../../stages/trace/compare.js';
import { itemAt } from '../../stages/trace/compact.js';
import { collectSweep, instanceOf } from '../../stages/trace/sweep/collect.js';
import type { PipelineView } from '../../src/stage-api/index.js';
import { findings } from '../../stages/trace/findings/read.js';
import { keyGroups } from '../../stages/trace/findings/format.js';
import { parseTraceText } from '../../stages/trace/parse.js';
import type { TraceDocument, TraceRecord } from '../../stages/trace/record.js';
import { renderNotesSection, renderSummary } from '../../stages/trace/summary.js';
import { readTraceFile } from '../../stages/trace/trace-json.js';
import { toolSchemasDir, validateAgainst } from '../../src/schema/validate.js';

const RECORDS = 200_000;
const CHAIN = 40;

/** A reference and a port: a chain of 40 keys repeated, a phi record every 10th block, planted differences. */
function traces(n: number): { ref: TraceDocument; port: TraceDocument; planted: Record<string, number> } {
  const make = (family: string, port: boolean): TraceDocument => {
    const records: TraceRecord[] = [];
    for (let i = 0; i < n; i++) {
      const block = Math.floor(i / CHAIN);
      const k = i % CHAIN;
      if (k === CHAIN - 1 && block % 10 === 0) {
        const kFrac = -0.6 + block * 1e-6;
        // The port carries the previous phi step's k_frac over at one record.
        const stale = port && block === 2000;
        records.push({ seq: i, line: i + 1, prefix: `${family}_PHI`, key: `${family}_PHI`, kind: 'record', fields: { phi_tic: block, phi_deg: block * 0.01, k_frac: stale ? -0.6 + (block - 10) * 1e-6 : kFrac } });
        continue;
      }
      if (port && k === 9 && block >= 3500) continue;
      const base = [Math.sin(block * 0.7 + k) * 10, Math.cos(block * 1.3 + k) * 5, k + 0.25 + block * 1e-4];
      let values: Array<number | 'NaN'> = k % 2 === 0 ? base : [base[0]!];
      if (port) values = values.map((v) => (v as number) * (1 + 1e-12 * ((i % 7) - 3)));
      if (port && k === 5) values = values.map((v) => Math.fround(v as number));
      if (port && i === 30_001) values = values.map((v) => -(v as number));
      if (port && i === 100_002) values = values.map((v) => (v as number) * 1e-10);
      if (port && i === 150_004) values = values.map(() => 'NaN');
      records.push({ seq: i, line: i + 1, prefix: family, key: `key_${k}`, kind: values.length > 1 ? 'vector' : 'number', values });
    }
    return { format: 'evidence-trace/1', source: port ? 'port.log' : 'ref.log', prefixes: [family, `${family}_PHI`], records, stats: { lines: n, records: n, ignored: 0, bytes: 0 } };
  };
  return { ref: make('TRACE_C', false), port: make('TRACE_PY', true), planted: { signFlip: 30_001, unit: 100_002, nan: 150_004 } };
}

const OPTIONS: CompareOptions = {
  matchBy: 'phi_tic',
  checkpoints: ['key_20', 'TRACE_C_PHI.k_frac'],
  ignore: ['key_7'],
  failOn: 'critical',
  tolerance: { keys: { key_5: { rel: 1e-12 } } },
};

describe('a comparison of 200,000 records a side', () => {
  let compact: Comparison;
  let full: Comparison;
  let planted: Record<string, number>;
  beforeAll(() => {
    const t = traces(RECORDS);
    planted = t.planted;
    compact = compareTraces(t.ref, t.port, OPTIONS);
    full = compareTraces(t.ref, t.port, { ...OPTIONS, compactAbove: Infinity });
  }, 120_000);

  it('is compact above the threshold, in full below it', () => {
    expect(full.totals.compared).toBeGreaterThan(COMPACT_ABOVE);
    expect(compact.compact).toMatchObject({ threshold: COMPACT_ABOVE, items: full.items.length });
    expect(full.compact).toBeUndefined();
    // Every item beyond round-off is kept in detail; of the 5,000 within round-off the first 12
    // (a summary names as many) and the one of largest Δ rel, of the 1,500 in one trace only the
    // first 1,000.
    const beyond = (i: { status: string; roundOff?: boolean }) => i.status !== 'MATCH' && i.status !== 'MISSING' && !i.roundOff;
    expect(compact.items.filter(beyond).length).toBe(full.items.filter(beyond).length);
    expect(full.items.filter((i) => i.roundOff).length).toBe(5000);
    const roundOff = full.items.filter((i) => i.roundOff);
    const largest = roundOff.reduce((a, b) => (b.rel! > a.rel! ? b : a));
    expect(compact.items.filter((i) => i.roundOff).map((i) => i.name)).toEqual(full.items.filter((i) => i.roundOff && (roundOff.indexOf(i) < 12 || i === largest)).map((i) => i.name));
    expect(full.totals.MISSING).toBe(1500);
    expect(compact.items.filter((i) => i.status === 'MISSING').map((i) => i.name)).toEqual(full.items.filter((i) => i.status === 'MISSING').slice(0, 1000).map((i) => i.name));
    expect(compact.items.length).toBeLessThan(1100);
  });

  it('finds the planted differences first, and reads them alike in both forms', () => {
    expect(compact.firstDivergence).toEqual(full.firstDivergence);
    // The strict first divergence is the float32 key's round-off; the headline, the sign flip.
    expect(compact.firstDivergence?.name).toBe('key_5#0');
    expect(compact.findings[0]?.name).toBe(full.items.find((i) => i.refLine === planted.signFlip! + 1)?.name);
    expect(compact.findings).toEqual(full.findings);
    expect(compact.findings.length).toBeGreaterThanOrEqual(3);
    for (const key of ['totals', 'verdict', 'findingVerdict', 'failed', 'checkpoints', 'divergences', 'firstNonMatch', 'precision'] as const) expect(compact[key], key).toEqual(full[key]);
    // The carry-over names the record it equals, in both.
    const stale = full.items.find((i) => i.diagnoses?.some((d) => d.kind === 'carry-over'));
    expect(stale?.name).toBe('TRACE_C_PHI[phi_tic=2000].k_frac');
    expect(itemAt(compact, full.items.indexOf(stale!))?.diagnoses).toEqual(stale!.diagnoses);
  });

  it('keeps every kept item exactly as the full form has it, and every item in its columns', () => {
    for (const item of compact.items) {
      const { index, ...rest } = item;
      expect(rest).toEqual(full.items[index!]);
      // What an item points at (a carry-over's source record) is kept too.
      for (const j of [...(item.diagnoses ?? []).flatMap((d) => d.related ?? []), ...(item.relation?.item !== undefined ? [item.relation.item] : [])]) expect(itemAt(compact, j), `item ${j}`).toEqual({ index: j, ...full.items[j] });
    }
    const k = compact.compact!;
    const letters: Record<string, string> = { MATCH: 'M', MINOR: 'N', DIVERGENT: 'D', CRITICAL: 'C', MISSING: 'X' };
    const letter = (item: { status: string; roundOff?: boolean }) => (item.roundOff ? letters[item.status]!.toLowerCase() : letters[item.status]);
    full.items.forEach((item, i) => {
      if (k.keys[k.key[i]!] !== item.key || k.status[i] !== letter(item)) expect({ i, key: k.keys[k.key[i]!], status: k.status[i] }).toEqual({ i, key: item.key, status: letter(item) });
    });
    expect(k.status.split('').filter((x) => x === 'n' || x === 'd' || x === 'c')).toHaveLength(5000);
    expect(keyGroups(compact).map((g) => [g.key, g.count, g.worst])).toEqual(keyGroups(full).map((g) => [g.key, g.count, g.worst]));
  });

  it('writes a small file the schema accepts, and the findings, summary and notes read it as they read the full one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-compact-'));
    await writeComparison(join(root, 'compact.json'), compact);
    await writeComparison(join(root, 'full.json'), full);
    const text = readFileSync(join(root, 'compact.json'), 'utf8');
    expect(text.length).toBeLessThan(readFileSync(join(root, 'full.json'), 'utf8').length / 10);
    const value = JSON.parse(text) as Comparison;
    expect(validateAgainst(join(toolSchemasDir(), 'comparison.schema.json'), value)).toEqual([]);
    expect(value.compact!.rel).toHaveLength(full.items.length);
    const read = async (file: string) =>
      findings({ stage: 'cmp', root, cwd: '.', with: { reference: 'r.json', port: 'p.json', fail_on: 'critical' }, outs: [file], primaryOut: file, pipeline: { file: join(root, 'pipeline.yaml'), params: {}, env: {}, stages: [] } });
    const [a, b] = [await read('compact.json'), await read('full.json')];
    expect(a.verdict).toBe(b.verdict);
    expect(a.headline).toBe(b.headline);
    expect(a.gate).toEqual(b.gate);
    expect(a.annotations).toEqual(b.annotations);
    expect(a.suite).toEqual(b.suite);
    expect(a.summary).toBe(b.summary);
    // The summary reads alike up to the lists of what a compact comparison keeps only the first of:
    // the headline, findings, the table of divergent keys and the round-off line are the same.
    const [sa, sb] = [renderSummary(value), renderSummary(full)];
    const cut = (s: string) => s.slice(0, s.indexOf('Only in the reference'));
    expect(cut(sa)).toBe(cut(sb));
    expect(cut(sa)).toMatch(/Within round-off \(5000, float32; not findings\): `key_5#0` [\d.]+ ulps, .*, … 4988 more\./);
    expect(sa).toMatch(/Only in the reference: 1000 keys: .*\(of the first 1000 of the 1500 items in one trace only; every one is counted by key below\)\./);
    expect(sa).toMatch(/This comparison is compact/);
    expect(sa).toMatch(/\| `key_2` \| 5000 \| 4999 \| 0 \| 0 \| 1 \| 0 \| 0 \|/);
    expect(sa).toMatch(/\| `key_5` \| 5000 \| 0 \| 5000 \| 0 \| 0 \| 0 \| 5000 \|/);
    expect(sa).toMatch(/\| `key_9` \| 5000 \| 3500 \| 0 \| 0 \| 0 \| 1500 \| 0 \|/);
    const notes = { date: '2025-01-01T00:00:00.000Z', commands: [], git: null };
    expect(renderNotesSection(value, notes)).toBe(renderNotesSection(full, notes));
  });
});

describe('compact and full forms agree on any comparison', () => {
  const line = fc.tuple(fc.constantFrom('a', 'b', 'v', 'steps'), fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(0, 1, 2, 1e10)), { minLength: 1, maxLength: 3 }));
  const side = (family: string) => fc.array(line, { maxLength: 25 }).map((ls) => ls.map(([k, vs]) => `${family}: ${k} ${vs.join(' ')}`));
  it('with the threshold at 0, every finding, verdict and kept item is the full form’s', () => {
    fc.assert(
      fc.property(side('TRACE_C'), side('TRACE_PY'), (r, p) => {
        const ref = parseTraceText(r.join('\n') + '\n');
        const port = parseTraceText(p.join('\n') + '\n');
        const full = compareTraces(ref, port);
        const compact = compareTraces(ref, port, { compactAbove: 0 });
        const { items, compact: columns, ...head } = compact;
        const { items: all, ...fullHead } = full;
        expect(head).toEqual(fullHead);
        expect(columns?.items).toBe(all.length || undefined); // an empty comparison is never compact
        for (const { index, ...rest } of items) expect(rest).toEqual(all[index!]);
        expect(all.filter((i) => i.status !== 'MATCH').every((i) => items.some((k) => k.name === i.name))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('makes the same sweep from either form (headline, worst Δ rel, divergent keys, per-key statuses)', () => {
    const view = { stages: [] } as unknown as PipelineView;
    fc.assert(
      fc.property(fc.array(fc.tuple(side('TRACE_C'), side('TRACE_PY')), { minLength: 1, maxLength: 3 }), (pairs) => {
        const sweepOf = (compactAbove: number) => {
          const cs = pairs.map(([r, p]) => compareTraces(parseTraceText(r.join('\n') + '\n'), parseTraceText(p.join('\n') + '\n'), { compactAbove }));
          return collectSweep(cs.map((c, i) => instanceOf(view, `c${i}.json`, c)), cs);
        };
        expect(sweepOf(0)).toEqual(sweepOf(Infinity));
      }),
      { numRuns: 100 },
    );
  });

  it('reads a trace written as JSON as it reads the document in memory', () => {
    const root = mkdtempSync(join(tmpdir(), 'evidence-compact-json-'));
    fc.assert(
      fc.property(side('TRACE_C'), side('TRACE_PY'), (r, p) => {
        const ref = parseTraceText(r.join('\n') + '\n');
        const port = parseTraceText(p.join('\n') + '\n');
        writeFileSync(join(root, 'r.json'), JSON.stringify(ref));
        writeFileSync(join(root, 'p.json'), JSON.stringify(port));
        const fromFiles = compareTraces(readTraceFile(join(root, 'r.json')), readTraceFile(join(root, 'p.json')));
        expect(JSON.stringify(fromFiles)).toBe(JSON.stringify(compareTraces(ref, port)));
      }),
      { numRuns: 100 },
    );
  });
});
