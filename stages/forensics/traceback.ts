// Finds the traceback in what a failed program printed: Python's (the last one when exceptions are
// chained), Node's error with its `at` frames, a C program's end (sanitizer report, failed
// assertion, fatal signal), or pytest's failure summary; otherwise the last lines. Pure: text in,
// text out; it must never throw or take long on any input.

export type TracebackKind = 'python' | 'node' | 'c' | 'pytest' | 'signal' | 'tail' | 'none';

export interface Traceback {
  kind: TracebackKind;
  text: string;
}

export interface TracebackInput {
  stderr: string;
  stdout?: string;
  /** The signal that ended the process, when one did (SIGSEGV, ...). */
  signal?: string | null;
  /** Lines kept by the fallback. */
  tailLines?: number;
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGSEGV: 'Segmentation fault',
  SIGABRT: 'Aborted',
  SIGFPE: 'Floating point exception',
  SIGBUS: 'Bus error',
  SIGILL: 'Illegal instruction',
  SIGKILL: 'Killed',
  SIGTERM: 'Terminated',
  SIGTRAP: 'Trace/breakpoint trap',
};

/** Longer lines are cut: a traceback excerpt needs no megabyte of one line, and the patterns stay linear. */
const MAX_LINE = 8192;

function splitLines(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)} …` : l));
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

const MAX_EXCEPTION_LINES = 30;

// ---- pytest -------------------------------------------------------------------------------

const PYTEST_SECTION = /^=+ (FAILURES|ERRORS) =+$/;
// `==== 1 failed, 1 passed in 0.05s ====`, or without the banner under -q.
const PYTEST_FINAL = /^(?:=+ )?\d+ (?:failed|passed|errors?)\b.* in [0-9.]+s\b/;

function pytestSummary(lines: string[]): string | undefined {
  const start = lines.findIndex((l) => PYTEST_SECTION.test(l));
  if (start < 0) return undefined;
  let end = -1;
  for (let i = lines.length - 1; i > start; i--) {
    if (PYTEST_FINAL.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  // Cut short (killed, or -p no:terminal): everything from the section on.
  if (end < 0) end = lines.length - 1;
  return lines.slice(start, end + 1).join('\n');
}

// ---- Python -------------------------------------------------------------------------------

const PY_HEADER = /^\s*(?:\+\s*)?(?:Exception Group )?Traceback \(most recent call last\):\s*$/;
const PY_FILE_FRAME = /^\s+File "[^"]*", line \d+/;

function pythonTraceback(lines: string[]): string | undefined {
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (PY_HEADER.test(lines[i]!)) {
      start = i;
      break;
    }
  }
  if (start < 0) return pythonSyntaxError(lines);
  let i = start + 1;
  // Frames: indented lines (and the `|` lines of exception groups).
  while (i < lines.length && /^\s/.test(lines[i]!)) i++;
  if (i >= lines.length) return lines.slice(start).join('\n');
  const end = exceptionEnd(lines, i);
  return lines.slice(start, end).join('\n');
}

/** Index after the exception line and its continuation (a multi-line message, 3.11 notes). */
function exceptionEnd(lines: string[], at: number): number {
  let end = at + 1;
  while (end < lines.length && end - at < MAX_EXCEPTION_LINES) {
    const l = lines[end]!;
    if (l.trim() === '' || PY_HEADER.test(l) || /^(During handling|The above exception)/.test(l)) break;
    end++;
  }
  return end;
}

/** A SyntaxError (or IndentationError) has no Traceback header when the main file does not compile. */
function pythonSyntaxError(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!/^(SyntaxError|IndentationError|TabError)\b/.test(lines[i]!)) continue;
    // Python's form: `  File "x.py", line N`, the code, a caret line, then the error (node's has none).
    let start = -1;
    for (let j = i - 1; j >= 0 && i - j <= 6; j--) {
      if (PY_FILE_FRAME.test(lines[j]!)) {
        start = j;
        break;
      }
      if (!/^\s/.test(lines[j]!)) break;
    }
    if (start >= 0) return lines.slice(start, exceptionEnd(lines, i)).join('\n');
  }
  return undefined;
}

// ---- Node ---------------------------------------------------------------------------------

const NODE_ERROR = /^(?:Uncaught )?(?:[A-Z][\w$]*(?:Error|Exception|Failure)|Error)(?: \[[A-Z0-9_]+\])?(?::.*)?$/;
const NODE_FRAME = /^\s+at \S/;

function nodeError(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (!NODE_ERROR.test(l)) continue;
    // The message may span lines before the first frame.
    let j = i + 1;
    while (j < lines.length && j - i < MAX_EXCEPTION_LINES && !NODE_FRAME.test(lines[j]!) && lines[j]!.trim() !== '') j++;
    if (j >= lines.length || !NODE_FRAME.test(lines[j]!)) continue;
    while (j < lines.length && NODE_FRAME.test(lines[j]!)) j++;
    // Properties node prints after the frames, opened at the end of the last one: `... {`, `  code: 'ENOENT',`, `}`.
    if (/\{\s*$/.test(lines[j - 1]!)) {
      const close = lines.findIndex((x, k) => k >= j && /^\s*\}\s*$/.test(x));
      if (close >= 0 && close - j < MAX_EXCEPTION_LINES) j = close + 1;
    }
    // The source excerpt node prints first: `file:line`, the code, a caret line, a blank line.
    let start = i;
    if (i >= 3 && lines[i - 1]!.trim() === '' && /^\s*\^+\s*$/.test(lines[i - 2]!) && /:\d+$/.test(lines[i - 4] ?? '')) start = i - 4;
    return lines.slice(start, j).join('\n');
  }
  return undefined;
}

// ---- C ------------------------------------------------------------------------------------

const SANITIZER_START = /^(?:==\d+==)?(?:ERROR|WARNING): \w*Sanitizer\b/;
const SANITIZER_END = /^SUMMARY: \w*Sanitizer\b/;
const UBSAN = /:\d+:\d+: runtime error: /;
const ASSERTION = /Assertion [`'"].*[`'"] failed\.?$|: Assertion failed|^Assertion failed: /;
const SIGNAL_LINE = /(?:^|\s|: )(Segmentation fault|Bus error|Aborted|Floating point exception|Illegal instruction|Killed|Trace\/breakpoint trap)(?: \(core dumped\))?\s*$/;

function cCrash(lines: string[], signal: string | null | undefined): string | undefined {
  const parts: string[] = [];
  const start = lines.findIndex((l) => SANITIZER_START.test(l));
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && SANITIZER_END.test(l));
    if (end < 0) end = Math.min(lines.length - 1, start + 200);
    if (end + 1 < lines.length && /^==\d+==ABORTING/.test(lines[end + 1]!)) end++;
    const from = start > 0 && /^=+$/.test(lines[start - 1]!) ? start - 1 : start;
    parts.push(lines.slice(from, end + 1).join('\n'));
  } else {
    const ub = lines.filter((l) => UBSAN.test(l)).slice(0, 10);
    if (ub.length) parts.push(ub.join('\n'));
  }
  const assertion = lines.filter((l) => ASSERTION.test(l)).slice(-3);
  if (assertion.length) parts.push(assertion.join('\n'));
  const sig = lines.filter((l) => SIGNAL_LINE.test(l)).slice(-1);
  if (sig.length) parts.push(sig[0]!);
  else if (signal && SIGNAL_TEXT[signal] && parts.length) parts.push(`(process ended by ${signal}: ${SIGNAL_TEXT[signal]})`);
  return parts.length ? parts.join('\n') : undefined;
}

// ---- entry point --------------------------------------------------------------------------

export function extractTraceback(input: TracebackInput): Traceback {
  const err = splitLines(input.stderr ?? '');
  const out = splitLines(input.stdout ?? '');
  const pytest = pytestSummary(out) ?? pytestSummary(err);
  if (pytest) return { kind: 'pytest', text: pytest };
  const py = pythonTraceback(err);
  if (py) return { kind: 'python', text: py };
  const node = nodeError(err);
  if (node) return { kind: 'node', text: node };
  const c = cCrash(err, input.signal);
  if (c) return { kind: 'c', text: c };
  const ended = input.signal ? `(process ended by ${input.signal}${SIGNAL_TEXT[input.signal] ? `: ${SIGNAL_TEXT[input.signal]}` : ''})` : '';
  const source = err.length ? err : out;
  if (source.length) return { kind: 'tail', text: source.slice(-(input.tailLines ?? 50)).join('\n') + (ended ? `\n${ended}` : '') };
  if (ended) return { kind: 'signal', text: ended };
  return { kind: 'none', text: '' };
}
