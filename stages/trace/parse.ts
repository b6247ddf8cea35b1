// Parses a trace log (one intermediate value per line, as printed by an instrumented program and
// by its port) into the TraceDocument of ./record.ts. It knows the line formats of such logs, not
// what the values mean, how two traces are compared, or anything about pipelines.
//
// Line grammar (the prefix is the first token of a line, after optional leading blanks; it ends at
// ':' or a blank, so `TRACE_C` matches neither `TRACE_C_PHI` nor `TRACE_CONFIG`):
//   P:key=v1 v2 v3          set-up line                      key 'key'
//   P: key v1 v2 v3         chain line                       key 'key'
//   P: some key = v         free text (`TRACE:   Omega (solid angle) = 4.2e-07`)  key 'some key'
//   P: [0,0,0]=181.3        an indexed value                 key '[0,0,0]'
//   P: [1, 2, 3]  /  P: 1 2 a body that starts with a value (or `tensor(`, `array(`, `np.`)  key P
//   P k1=v1 k2=v2           a record (every token k=v; after ':' only when there are two or more)
//                           (as a JSON object holds it: a name given twice keeps its last value,
//                           with a warning, and names like `3` come first)
//   P                       a bare marker (`TRACE_PY_TRICUBIC_GRID_START`): no record
//   P: Some heading:        free text ending in ':' without '=': no record
// The value then reads as: `[a b c; d e f]` matrix (`[a, b, c]`, a tuple `(a, b, c)` or a one-row
// matrix is a vector), all numeric tokens, blank- or comma-separated (1 → number, or integer when the
// literal has no '.' or exponent; n → vector),
// all `label:value` tokens → parts; then, only for what would otherwise be text (./parse/printouts.ts):
// a PyTorch/NumPy printout, `tensor(v)`, `tensor([..], dtype=torch.float64, device=..)`,
// `array([[..], [..]], dtype=float32)`, `np.float64(v)` (one level of brackets → vector, two → matrix,
// one row → vector; a printed dtype → `dtype`, without its module), a bare `1,2,3` (two integers,
// `1,5`, may be a decimal comma: text), and any of these or plain numbers followed by one unit token
// of known atoms (`0.9768 Å`, `1e-06 Å^-3`, `12.4 keV`, `photons/m^2`) → `unit`; `P: k=tensor(..)`
// is a value, not a record; anything else → string (text kept verbatim).
// Numbers: C and Python spellings, including -0, nan, -nan, inf, -inf, infinity (any case);
// non-finite values become 'NaN' / 'Infinity' / '-Infinity' (JSON has none).
// Default prefixes (option `prefix` unset or empty): every token matching /^TRACE_[A-Z0-9_]+$/,
// so plain `TRACE:` free text is parsed only when 'TRACE' is asked for by name.
//
// This file is the public entry; the parts live in ./parse/: shape.ts (what a line says, as
// offsets), numbers.ts (reading number tokens), prefixes.ts, scanner.ts (the line grammar above),
// printouts.ts (tensor/array printouts and units, off the hot path),
// require.ts, records.ts (in-memory records), columns.ts (straight into columns, for compare),
// json-bytes.ts, record-heads.ts and json-writer.ts
// (the streaming JSON writer), session.ts (one parse; text in memory) and stream.ts (files).
// How fast it is and why it is built this way: the header of bench/parse.mjs.
// The parts with hot loops take what they use from each other as consts of their own module
// (`import * as shape ...; const { SPACE, isBlank } = shape;`), not as named imports, and read no
// export of their own in a hot loop: V8 reads an exported or imported binding through its module
// cell at every use and does not fold it into the code as it does a module's own consts. Named
// imports made the whole parse take 25% more instructions; isBlank reading shape's own SPACE, TAB
// and CR cost another ~6% of CPU time.
export type { ParseTraceOptions, TraceSummary } from './parse/session.js';
export { parseTraceLines, parseTraceText } from './parse/session.js';
export { MAX_LINE } from './parse/shape.js';
export { numToJson, traceRecordJson } from './parse/records.js';
export { parseTraceFile, parseTraceFileColumns, parseTraceFileTo, parseTraceFileToSink, type TextSink } from './parse/stream.js';
