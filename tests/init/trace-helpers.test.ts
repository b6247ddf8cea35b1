// The trace helpers `evidence init` writes, as it writes them: trace.h compiled as C (gcc) and as
// C++ (g++), trace.mjs run by node, evidence_trace.py run by python3. Each one's output is parsed
// back with `evidence parse`: the C, C++ and JavaScript helpers print the same bytes for the same
// doubles (C's %.15g, ties to even), and the Python one prints every double so that it reads back
// exactly, whatever container (list, NumPy array, torch tensor, anything with .tolist()) holds it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TestProject } from '../helpers/project.js';

interface Rec {
  prefix: string;
  key: string;
  values: unknown[];
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

/** The records of a log, parsed by `evidence parse --json`; the raw JSON text too (big integers). */
function parseLog(p: TestProject, log: string): { records: Rec[]; json: string } {
  const r = p.cli(['parse', log, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { records: (JSON.parse(r.stdout) as { records: Rec[] }).records, json: r.stdout };
}

const pythonHas = (module: string) => spawnSync('python3', ['-c', `import ${module}`]).status === 0;

// One source for the C and the C++ compiler: the same values the JavaScript below traces.
const C_SOURCE = `#include <math.h>
#include "trace.h"
int main(void) {
  const double m[9] = {1.0 / 7, 2.0 / 7, 3.0 / 7, 4.0 / 7, 5.0 / 7, 6.0 / 7, 7.0 / 7, 8.0 / 7, 9.0 / 7};
  const float f[3] = {0.1f, 1.0f / 3, 16777217.0f};
  int i = 0;
  TRACE("scalars", 0.1, 1.0 / 3, -0.0, 1e-300, 5e-324, 1e21, 123456789.125, 2.5e-5, 100);
  TRACE("ties", 562949953421312.5, 562949953421313.5);
  TRACE("special", NAN, -NAN, INFINITY, -INFINITY);
  TRACE_INT("ints", 0, -1, 9007199254740993LL, -9223372036854775807LL - 1);
  TRACE_VEC("m", m, 9);
  TRACE_VECF("f", f, 3);
  TRACE("once", (double)(++i));
  TRACE_INT("i", i);
  return 0;
}
`;

const JS_SOURCE = `import { trace, makeTrace } from './port/trace.mjs';
trace('scalars', 0.1, 1 / 3, -0, 1e-300, 5e-324, 1e21, 123456789.125, 2.5e-5, 100);
trace('ties', 562949953421312.5, 562949953421313.5);
trace('special', NaN, -NaN, Infinity, -Infinity);
trace('ints', 0, -1, 9007199254740993n, -9223372036854775808n);
trace('m', [[1 / 7, 2 / 7, 3 / 7], [4 / 7, 5 / 7, 6 / 7]], Float64Array.of(7 / 7, 8 / 7, 9 / 7));
trace('f', Float32Array.of(0.1, 1 / 3, 16777217));
trace('once', 1);
trace('i', 1);
const lines = [];
makeTrace('TRACE_TS_PHI', (line) => lines.push(line))('phi', true, false);
process.stderr.write(lines.join(''));
for (const bad of [() => trace('no values'), () => trace('two words', 1), () => trace('k', 'text'), () => trace('k', null)]) {
  try { bad(); process.exitCode = 3; } catch (err) { if (!(err instanceof TypeError)) process.exitCode = 4; }
}
`;

describe('trace helpers written by evidence init', () => {
  let ts: TestProject;
  let py: TestProject;
  let cLines: string[];

  beforeAll(() => {
    ts = new TestProject({});
    expect(ts.cli(['init']).code).toBe(0);
    py = new TestProject({});
    expect(py.cli(['init', '--template', 'c-python']).code).toBe(0);
    ts.write('check.c', C_SOURCE);
    run('gcc', ['-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror', '-fno-fast-math', '-I', 'reference', '-o', 'check_c', 'check.c', '-lm'], ts.dir);
    writeFileSync(ts.path('c.log'), run('./check_c', [], ts.dir));
    cLines = readFileSync(ts.path('c.log'), 'utf8').split('\n').filter(Boolean);
  });

  it('trace.h in C prints TRACE_C lines that parse back to the %.15g values, each argument evaluated once', () => {
    const { records, json } = parseLog(ts, 'c.log');
    expect(records.every((r) => r.prefix === 'TRACE_C')).toBe(true);
    const byKey = new Map(records.map((r) => [r.key, r.values]));
    const g15 = (x: number) => (Object.is(x, -0) ? -0 : Number(x.toPrecision(15)));
    expect(byKey.get('scalars')).toEqual([0.1, 1 / 3, -0, 1e-300, 5e-324, 1e21, 123456789.125, 2.5e-5, 100].map(g15));
    // %.15g rounds a tie to even, where toPrecision would round up.
    expect(cLines[1]).toBe('TRACE_C: ties 562949953421312 562949953421314');
    expect(byKey.get('special')).toEqual(['NaN', 'NaN', 'Infinity', '-Infinity']);
    expect(json).toContain('"values":[0,-1,9007199254740993,-9223372036854775808]');
    expect(byKey.get('m')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => g15(k / 7)));
    expect(byKey.get('f')).toEqual([Math.fround(0.1), Math.fround(1 / 3), Math.fround(16777217)].map(g15));
    expect(byKey.get('once')).toEqual([1]);
    expect(byKey.get('i')).toEqual([1]);
  });

  it('trace.h in C++ with its own TRACE_PREFIX prints the same bytes under that label', () => {
    ts.write('check.cpp', C_SOURCE);
    run('g++', ['-std=c++11', '-pedantic', '-Wall', '-Wextra', '-Werror', '-fno-fast-math', '-DTRACE_PREFIX="TRACE_CPP"', '-I', 'reference', '-o', 'check_cpp', 'check.cpp', '-lm'], ts.dir);
    const out = run('./check_cpp', [], ts.dir);
    writeFileSync(ts.path('cpp.log'), out);
    expect(out.split('\n').filter(Boolean)).toEqual(cLines.map((l) => l.replace(/^TRACE_C:/, 'TRACE_CPP:')));
    expect(parseLog(ts, 'cpp.log').records.every((r) => r.prefix === 'TRACE_CPP')).toBe(true);
  });

  it('TRACE_OFF compiles every TRACE away', () => {
    run('gcc', ['-std=c99', '-Wall', '-Werror', '-DTRACE_OFF', '-Wno-unused-variable', '-Wno-unused-but-set-variable', '-I', 'reference', '-o', 'check_off', 'check.c', '-lm'], ts.dir);
    expect(run('./check_off', [], ts.dir)).toBe('');
  });

  it('trace.mjs prints what trace.h prints, byte for byte, for numbers, bigints, nested and typed arrays', () => {
    ts.write('check.mjs', JS_SOURCE);
    const r = spawnSync(process.execPath, ['check.mjs'], { cwd: ts.dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(cLines.map((l) => l.replace(/^TRACE_C:/, 'TRACE_TS:')));
    expect(r.stderr).toBe('TRACE_TS_PHI: phi 1 0\n');
    writeFileSync(ts.path('ts.log'), r.stdout);
    const compared = ts.cli(['compare', 'c.log', 'ts.log']);
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/Verdict: \*\*MATCH\*\* — 8 compared: 8 MATCH/);
  });

  it('trace.d.mts types trace.mjs for a TypeScript port: numbers, bigints, arrays yes, strings no', () => {
    ts.write('port/use.mts', `import { trace, makeTrace, type Traceable } from './trace.mjs';
trace('a', 1, 2n, true, [1, [2, 3]], Float64Array.of(1));
makeTrace('TRACE_TS_PHI', (line: string) => void line)('b', 1);
const rows: Traceable[] = [[1, 2], [3, 4]];
trace('rows', rows);
// @ts-expect-error a string is not a traced value
trace('c', 'text');
`);
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'port/use.mts'], { cwd: ts.dir, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  const PY_SOURCE = `import sys
from decimal import Decimal
from fractions import Fraction
sys.path.insert(0, "port")
from evidence_trace import trace

class FakeTensor:
    """Stands for a torch tensor: its repr rounds, tolist() does not."""
    def __init__(self, rows):
        self.rows, self.calls = rows, []
    def detach(self):
        self.calls.append("detach"); return self
    def cpu(self):
        self.calls.append("cpu"); return self
    def tolist(self):
        self.calls.append("tolist"); return self.rows
    def __repr__(self):
        return "tensor([0.3333, 0.6667])"

class FakeArray:
    def tolist(self):
        return [0.1, 0.2]

trace("scalars", 0.1, 1 / 3, -0.0, 1e-300, 5e-324, 1e21, 123456789.125, 2.5e-5, 100)
trace("special", float("nan"), -float("nan"), float("inf"), -float("inf"))
trace("ints", 0, -1, 9007199254740993, -9223372036854775808, True, False)
t = FakeTensor([[1 / 3, 2 / 3], [1.0, 2.0]])
trace("tensor", t)
trace("array", FakeArray())
trace("mixed", [1, (2.5, [3])], Decimal("0.1"), Fraction(1, 3))
trace("phi", 0.5, prefix="TRACE_PY_PHI")
assert t.calls == ["detach", "cpu", "tolist"], t.calls
for bad, error in [(lambda: trace("k", "1.5"), TypeError), (lambda: trace("k", 1j), TypeError),
                   (lambda: trace("two words", 1), ValueError), (lambda: trace("k"), ValueError),
                   (lambda: trace("k", []), ValueError), (lambda: trace("k", None), TypeError)]:
    try:
        bad()
        sys.exit("no error raised")
    except error:
        pass
`;

  it('evidence_trace.py prints every double so that it reads back exactly, from floats, ints, lists and anything with .tolist()', () => {
    py.write('check.py', PY_SOURCE);
    writeFileSync(py.path('py.log'), run('python3', ['check.py'], py.dir));
    const { records, json } = parseLog(py, 'py.log');
    const byKey = new Map(records.map((r) => [`${r.prefix}:${r.key}`, r.values]));
    expect(byKey.get('TRACE_PY:scalars')).toEqual([0.1, 1 / 3, -0, 1e-300, 5e-324, 1e21, 123456789.125, 2.5e-5, 100]);
    expect(byKey.get('TRACE_PY:special')).toEqual(['NaN', 'NaN', 'Infinity', '-Infinity']);
    expect(json).toContain('"values":[0,-1,9007199254740993,-9223372036854775808,1,0]');
    // The tensor's own printing rounds to 4 digits; the trace has every digit.
    expect(byKey.get('TRACE_PY:tensor')).toEqual([1 / 3, 2 / 3, 1, 2]);
    expect(byKey.get('TRACE_PY:array')).toEqual([0.1, 0.2]);
    expect(byKey.get('TRACE_PY:mixed')).toEqual([1, 2.5, 3, 0.1, 1 / 3]);
    expect(byKey.get('TRACE_PY_PHI:phi')).toEqual([0.5]);
  });

  it('evidence_trace.py agrees with trace.h: the same values compare as MATCH', () => {
    writeFileSync(py.path('c.log'), cLines.join('\n') + '\n');
    const compared = py.cli(['compare', 'c.log', 'py.log', '--json']);
    expect(compared.code, compared.stderr).toBe(0);
    const items = (JSON.parse(compared.stdout) as { items: Array<{ key: string; status: string }> }).items;
    for (const key of ['scalars', 'special']) expect(items.find((i) => i.key === key)?.status).toBe('MATCH');
  });

  const numpy = pythonHas('numpy');
  it.skipIf(!numpy)(`evidence_trace.py takes NumPy arrays and scalars at their own precision${numpy ? '' : ' (skipped: python3 cannot import numpy)'}`, () => {
    py.write('np_check.py', `import sys\nsys.path.insert(0, "port")\nimport numpy as np\nfrom evidence_trace import trace\ntrace("f32", np.array([[0.1, 1 / 3]], dtype=np.float32))\ntrace("f64", np.float64(0.1), np.arange(3), np.int64(2**62))\n`);
    writeFileSync(py.path('np.log'), run('python3', ['np_check.py'], py.dir));
    const { records, json } = parseLog(py, 'np.log');
    expect(records[0]!.values).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    expect(json).toContain('"values":[0.1,0,1,2,4611686018427387904]');
  });

  const torch = pythonHas('torch');
  it.skipIf(!torch)(`evidence_trace.py takes torch tensors with grad, at every digit${torch ? '' : ' (skipped: python3 cannot import torch)'}`, () => {
    py.write('torch_check.py', `import sys\nsys.path.insert(0, "port")\nimport torch\nfrom evidence_trace import trace\nx = torch.tensor([0.1, 1 / 3], dtype=torch.float64, requires_grad=True)\ntrace("grad", x * 1)\ntrace("f32", torch.tensor([[0.1], [0.2]]))\n`);
    writeFileSync(py.path('torch.log'), run('python3', ['torch_check.py'], py.dir));
    const { records } = parseLog(py, 'torch.log');
    expect(records[0]!.values).toEqual([0.1, 1 / 3]);
    expect(records[1]!.values).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });
});
