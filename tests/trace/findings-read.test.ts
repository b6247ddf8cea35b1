// The findings a compare-traces stage reports to the run (stages/trace/findings/read.ts), read from
// a comparison file in a temp folder: the headline is the first finding with its diagnosis, the
// verdict is what lies beyond round-off, and fail_on gates on that.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeComparison } from '../../stages/compare-traces.js';
import { compareTraces, type CompareOptions } from '../../stages/trace/compare.js';
import { findings } from '../../stages/trace/findings/read.js';
import { parseTraceText } from '../../stages/trace/parse.js';

const f32 = (x: number) => Number(Math.fround(x).toPrecision(15));
const REF = ['TRACE_C: pix0 0.231274660 0.022188 -0.022188', 'TRACE_C: a 0.123456789012345', 'TRACE_C: b 0.3', 'TRACE_C: c 0.7', 'TRACE_C: lambda 9.768e-11'];
const PORT32 = [`TRACE_PY: pix0 ${[0.23127466, 0.022188, -0.022188].map(f32).join(' ')}`, `TRACE_PY: a ${f32(0.123456789012345)}`, `TRACE_PY: b ${f32(0.3)}`, `TRACE_PY: c ${f32(0.7)}`];

async function read(ref: string[], port: string[], w: Record<string, unknown>, options: CompareOptions = {}) {
  const root = mkdtempSync(join(tmpdir(), 'evidence-findings-'));
  const c = compareTraces(parseTraceText(ref.join('\n') + '\n', { source: 'ref.log' }), parseTraceText(port.join('\n') + '\n', { source: 'port.log' }), options);
  await writeComparison(join(root, 'out', 'cmp.json'), c);
  return findings({ stage: 'cmp', root, cwd: '.', with: { reference: 'ref.json', port: 'port.json', ...w }, outs: ['out/cmp.json'], primaryOut: 'out/cmp.json', pipeline: { file: join(root, 'pipeline.yaml'), params: {}, env: {}, stages: [] } as never });
}

describe('compare-traces findings', () => {
  it('heads with the first finding and its diagnosis, noting that the strict first divergence is round-off', async () => {
    const f = await read(REF, [...PORT32, `TRACE_PY: lambda ${f32(0.9768)}`], {}, { tolerance: { rel: 1e-12 } });
    expect(f.verdict).toBe('CRITICAL');
    expect(f.severity).toBe('problem');
    expect(f.headline).toMatch(/^first finding lambda \(CRITICAL, Δ rel 1\.00e\+0\): port = reference × 1e\+10 .* — m ↔ Å/);
    expect(f.headline).toMatch(/the first divergence, pix0, is round-off$/);
    // Round-off items are not annotated; the finding is.
    expect(f.annotations!.map((a) => a.title)).toEqual(['cmp: lambda CRITICAL']);
  });

  it('reads a comparison whose only differences are round-off as MATCH, and no fail_on meets it', async () => {
    const f = await read(REF.slice(0, 4), PORT32, { fail_on: 'divergent' }, { tolerance: { rel: 1e-12, minor: 1e-12 }, failOn: 'divergent' });
    expect(f.verdict).toBe('MATCH');
    expect(f.severity).toBe('ok');
    expect(f.headline).toMatch(/^all keys match within round-off \(4 compared; 4 beyond tolerance, all round-off\)$/);
    expect(f.gate).toBeUndefined();
    expect(f.suite!.cases.every((k) => k.outcome === 'passed')).toBe(true);
  });

  it('gates on a finding: fail_on divergent meets a DIVERGENT one, fail_on critical does not', async () => {
    const port = [...PORT32.slice(0, 3), 'TRACE_PY: c 0.75'];
    const divergent = await read(REF.slice(0, 4), port, { fail_on: 'divergent' }, { tolerance: { rel: 1e-12 } });
    expect(divergent.verdict).toBe('DIVERGENT');
    expect(divergent.gate).toMatchObject({ rule: 'fail_on: divergent' });
    expect(divergent.headline).toMatch(/^first finding c \(DIVERGENT, Δ rel 6\.67e-2\): ratio 1\.07143, no known pattern fits/);
    const critical = await read(REF.slice(0, 4), port, { fail_on: 'critical' }, { tolerance: { rel: 1e-12 } });
    expect(critical.gate).toBeUndefined();
  });
});
