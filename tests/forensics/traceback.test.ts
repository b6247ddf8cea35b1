// Table-driven tests of traceback extraction on output captured from real programs (Python 3.11,
// Node 20, gcc 12 with and without sanitizers, pytest 9), plus a property test: any input, no crash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extractTraceback, type TracebackKind } from '../../stages/forensics/traceback.js';

const PY_CHAINED = `loading harness
Traceback (most recent call last):
  File "/tmp/samples/t.py", line 3, in load
    return open(p).read()
           ^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: 'missing.h5'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/tmp/samples/t.py", line 6, in <module>
    load("missing.h5")
  File "/tmp/samples/t.py", line 5, in load
    raise RuntimeError(f"cannot load harness input {p}") from e
RuntimeError: cannot load harness input missing.h5
`;

const PY_IMPORT = `Traceback (most recent call last):
  File "/work/port/harness.py", line 4, in <module>
    from nanobrag_torch.simulator import Simulator
ModuleNotFoundError: No module named 'nanobrag_torch'
`;

const PY_SYNTAX = `  File "/work/port/harness.py", line 12
    def phi_step(
                ^
SyntaxError: '(' was never closed
`;

const NODE_EVAL = `[eval]:1
function f(){ null.x } f()
                   ^

TypeError: Cannot read properties of null (reading 'x')
    at f ([eval]:1:20)
    at [eval]:1:24
    at runScriptInThisContext (node:internal/vm:209:10)

Node.js v20.20.2
`;

const NODE_FS = `node:fs:573
  return binding.open(
                 ^

Error: ENOENT: no such file or directory, open '/nope'
    at Object.openSync (node:fs:573:18)
    at Object.readFileSync (node:fs:452:35)
    at file:///tmp/samples/[eval1]:1:30
    at async asyncRunEntryPointWithESMLoader (node:internal/modules/run_main:117:5) {
  errno: -2,
  code: 'ENOENT',
  syscall: 'open',
  path: '/nope'
}

Node.js v20.20.2
`;

const C_ASSERT = `phi step 0 of 10
a: a.c:7: main: Assertion \`n > 0 && "need a pixel"' failed.
Aborted
`;

const C_SEGV = `reading small.hkl
Segmentation fault (core dumped)
`;

const ASAN = `phi=0.1
=================================================================
==6339==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000020 at pc 0x55dd48f64343 bp 0x7ffd85db5f40 sp 0x7ffd85db5f38
WRITE of size 4 at 0x602000000020 thread T0
    #0 0x55dd48f64342 in main /tmp/samples/a.c:5
    #1 0x7f94bc445249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

0x602000000020 is located 0 bytes to the right of 16-byte region [0x602000000010,0x602000000020)
allocated by thread T0 here:
    #0 0x7f94bceb89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69

SUMMARY: AddressSanitizer: heap-buffer-overflow /tmp/samples/a.c:5 in main
Shadow bytes around the buggy address:
  0x0c047fff7fb0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
==6339==ABORTING
`;

const UBSAN = `ub.c:3:52: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'
-2147483648
`;

const PYTEST = `============================= test session starts ==============================
collected 2 items

test_x.py .F                                                             [100%]

=================================== FAILURES ===================================
___________________________________ test_phi ___________________________________

    def test_phi():
        phi = 0.1
>       assert abs(phi - 0.2) < 1e-6, "phi diverges"
E       AssertionError: phi diverges

test_x.py:4: AssertionError
=========================== short test summary info ============================
FAILED test_x.py::test_phi - AssertionError: phi diverges
========================= 1 failed, 1 passed in 0.05s ==========================
`;

describe('extractTraceback', () => {
  const cases: Array<{ what: string; stderr?: string; stdout?: string; signal?: string; kind: TracebackKind; first: string; last: string; absent?: string }> = [
    {
      what: 'the last of chained Python tracebacks, from its header to the exception line',
      stderr: PY_CHAINED,
      kind: 'python',
      first: 'Traceback (most recent call last):',
      last: 'RuntimeError: cannot load harness input missing.h5',
      absent: 'FileNotFoundError',
    },
    { what: 'a harness that cannot import', stderr: PY_IMPORT, kind: 'python', first: 'Traceback (most recent call last):', last: "ModuleNotFoundError: No module named 'nanobrag_torch'" },
    { what: 'a Python syntax error (no Traceback header)', stderr: PY_SYNTAX, kind: 'python', first: '  File "/work/port/harness.py", line 12', last: "SyntaxError: '(' was never closed" },
    { what: "node's error with the source excerpt and its at frames", stderr: NODE_EVAL, kind: 'node', first: '[eval]:1', last: '    at runScriptInThisContext (node:internal/vm:209:10)', absent: 'Node.js v20' },
    { what: "node's error with its property block", stderr: NODE_FS, kind: 'node', first: 'node:fs:573', last: '}', absent: 'Node.js v20' },
    { what: "a C assertion and glibc's abort", stderr: C_ASSERT, signal: 'SIGABRT', kind: 'c', first: 'a: a.c:7: main: Assertion `n > 0 && "need a pixel"\' failed.', last: 'Aborted' },
    { what: 'a segmentation fault reported by the shell', stderr: C_SEGV, kind: 'c', first: 'Segmentation fault (core dumped)', last: 'Segmentation fault (core dumped)' },
    { what: 'an AddressSanitizer report up to its summary', stderr: ASAN, kind: 'c', first: '=================================================================', last: 'SUMMARY: AddressSanitizer: heap-buffer-overflow /tmp/samples/a.c:5 in main', absent: 'phi=0.1' },
    { what: 'an UndefinedBehaviorSanitizer runtime error', stderr: UBSAN, kind: 'c', first: "ub.c:3:52: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'", last: "ub.c:3:52: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'" },
    { what: "pytest's failure summary on stdout", stdout: PYTEST, stderr: '', kind: 'pytest', first: '=================================== FAILURES ===================================', last: '========================= 1 failed, 1 passed in 0.05s ==========================' },
    { what: 'a process killed by a signal with nothing printed', stderr: '', signal: 'SIGSEGV', kind: 'signal', first: '(process ended by SIGSEGV: Segmentation fault)', last: '(process ended by SIGSEGV: Segmentation fault)' },
  ];
  for (const c of cases) {
    it(`finds ${c.what}`, () => {
      const tb = extractTraceback({ stderr: c.stderr ?? '', stdout: c.stdout, signal: c.signal });
      expect(tb.kind).toBe(c.kind);
      const lines = tb.text.split('\n');
      expect(lines[0]).toBe(c.first);
      expect(lines[lines.length - 1]).toBe(c.last);
      if (c.absent) expect(tb.text).not.toContain(c.absent);
    });
  }

  it('keeps the last 50 lines of an unknown format, or fewer when asked', () => {
    const stderr = Array.from({ length: 120 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const tb = extractTraceback({ stderr });
    expect(tb.kind).toBe('tail');
    expect(tb.text.split('\n')).toHaveLength(50);
    expect(tb.text.split('\n')[0]).toBe('line 71');
    expect(extractTraceback({ stderr, tailLines: 3 }).text).toBe('line 118\nline 119\nline 120');
  });

  it('falls back to stdout when stderr is empty', () => {
    expect(extractTraceback({ stderr: '', stdout: 'a\nb\n' })).toEqual({ kind: 'tail', text: 'a\nb' });
  });

  it('never throws and always returns text of bounded size, whatever the input', () => {
    const pieces = fc.constantFrom('Traceback (most recent call last):', '  File "x.py", line 1', 'ValueError: x', 'Error: e', '    at f (x.js:1:1)', '{', '}', '=== FAILURES ===', '==1==ERROR: AddressSanitizer: x', 'SUMMARY: AddressSanitizer: x', 'Aborted', '', '   ');
    const text = fc.array(fc.oneof(pieces, fc.string()), { maxLength: 300 }).map((ls) => ls.join('\n'));
    fc.assert(
      fc.property(text, text, fc.option(fc.constantFrom('SIGSEGV', 'SIGKILL', 'SIGUSR1')), (stderr, stdout, signal) => {
        const tb = extractTraceback({ stderr, stdout, signal });
        expect(typeof tb.text).toBe('string');
        expect(tb.text.length).toBeLessThanOrEqual(stderr.length + stdout.length + 200);
      }),
      { numRuns: 500 },
    );
  });

  it('cuts a huge single line before any pattern sees it (what keeps the patterns linear)', () => {
    const start = Date.now();
    const tb = extractTraceback({ stderr: 'Assertion `' + "'".repeat(2_000_000) + '\n' + '    at '.repeat(200_000) });
    // The effect that bounds the work: no line longer than 8192 characters (and its ' …') reached
    // the patterns or the result.
    expect(tb.kind).toBe('tail');
    expect(tb.text.split('\n').map((l) => l.length)).toEqual([8194, 8194]);
    expect(tb.text.split('\n').every((l) => l.endsWith(' …'))).toBe(true);
    // How fast is the bench's business; this bound is crossed only by a blow-up (quadratic on two
    // million characters is hours), never by a loaded machine.
    expect(Date.now() - start).toBeLessThan(30_000);
  });
});
