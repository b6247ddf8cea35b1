// One order of statuses for everything that ranks them: the verdict, a checkpoint's worst status
// and a key group's worst status (the reporters' tables and JUnit cases).
import { describe, expect, it } from 'vitest';
import { SEVERITY, STATUSES, worseStatus, type Status } from '../../stages/trace/status.js';
import { keyGroups } from '../../stages/trace/findings/format.js';
import { compareTraces, type ComparedItem, type Comparison } from '../../stages/trace/compare.js';
import { parseTraceText } from '../../stages/trace/parse.js';

const ORDER: Status[] = ['MATCH', 'MISSING', 'MINOR', 'DIVERGENT', 'CRITICAL'];

describe('status order', () => {
  it('ranks MATCH < MISSING < MINOR < DIVERGENT < CRITICAL, every status once', () => {
    expect([...STATUSES].sort((a, b) => SEVERITY[a] - SEVERITY[b])).toEqual(ORDER);
    expect(new Set(ORDER.map((s) => SEVERITY[s])).size).toBe(ORDER.length);
  });

  it('picks the worse of two statuses whatever their order', () => {
    for (const a of ORDER) {
      for (const b of ORDER) {
        const expected = ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
        expect(worseStatus(a, b)).toBe(expected);
      }
    }
  });

  it('gives a key group of a MISSING and a MINOR item the worst status MINOR, in either order', () => {
    const item = (status: Status): ComparedItem => ({ key: 'k', name: 'k', status, reference: [1], port: status === 'MISSING' ? null : [1.001], rel: null }) as unknown as ComparedItem;
    for (const items of [[item('MISSING'), item('MINOR')], [item('MINOR'), item('MISSING')]]) {
      expect(keyGroups({ items } as unknown as Comparison)[0]!.worst).toBe('MINOR');
    }
  });

  it('ranks a checkpoint the same way, and keeps MISSING out of the verdict', () => {
    const ref = parseTraceText('TRACE_C: k 1\nTRACE_C: k 100\nTRACE_C: k 7\n');
    const port = parseTraceText('TRACE_PY: k 1\nTRACE_PY: k 100.01\n');
    const cmp = compareTraces(ref, port, { checkpoints: ['k'] });
    expect(cmp.items.map((i) => i.status)).toEqual(['MATCH', 'MINOR', 'MISSING']);
    expect(cmp.checkpoints[0]!.status).toBe('MINOR');
    expect(cmp.verdict).toBe('MINOR');
    const onlyMissing = compareTraces(ref, parseTraceText('TRACE_PY: k 1\nTRACE_PY: k 100\n'), { checkpoints: ['k'] });
    expect(onlyMissing.verdict).toBe('MATCH');
    expect(onlyMissing.checkpoints[0]!.status).toBe('MISSING');
  });
});
