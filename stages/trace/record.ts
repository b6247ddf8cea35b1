// The shape of a parsed trace: the contract between parse-trace (which writes it) and
// compare-traces (which reads it). Pure types plus one conversion; knows nothing about files.
//
// A trace log holds one intermediate value per line for one pixel, e.g.
//   TRACE_C: pix0_vector_meters -0.2164 0.2163 -0.2301     → kind 'vector'
//   TRACE_C:Omega=[a b c; d e f; g h i]                     → kind 'matrix', shape [3,3]
//   TRACE_C:rotation=rotx:0 roty:0 rotz:0                   → kind 'parts'
//   TRACE_C_PHI phi_tic=0 phi_deg=10 k_frac=-0.5            → kind 'record' (key = the prefix)
//   TRACE_C:convention=MOSFLM                               → kind 'string'
// Every matching line becomes one TraceRecord, in file order; a key repeated in the log (one block
// per phi step, say) yields one record per occurrence. JSON cannot hold NaN or infinities, so those
// are stored as the strings 'NaN', 'Infinity', '-Infinity' (`nan`, `-nan`, `inf`, `-inf` in C's
// printf output). `-0` is the number -0; the parser's writer emits it as `-0` (valid JSON, and
// JSON.parse keeps the sign), but a plain JSON.stringify would print 0, so consumers must not
// depend on the sign of zero.
// Kinds: 'integer' is a single integer literal as printed (`steps 10`); `1.000000000000000e+00` is a
// 'number' of the same value, so consumers should compare number/integer/vector values numerically
// and treat the kind as a hint. 'vector' is two or more values, or one value written in brackets.
// Lines that the parser could not read as numbers, parts or fields keep their text (kind 'string').
// PyTorch/NumPy printouts (`tensor([1.0000, 2.0000])`, `array([[1., 2.], [3., 4.]], dtype=float32)`,
// `np.float64(1.5)`) and numbers followed by a unit (`0.9768 Å`) are numeric kinds too, with the
// optional `unit` and `dtype`; a consumer that compares values across units must read `unit`.
// This format is versioned by `format`; change it only together with compare-traces.

export type Num = number | 'NaN' | 'Infinity' | '-Infinity';

export type RecordKind = 'number' | 'integer' | 'vector' | 'matrix' | 'string' | 'parts' | 'record';

export interface TraceRecord {
  /** 0-based order among records of this trace. */
  seq: number;
  /** 1-based source line number. */
  line: number;
  /** e.g. 'TRACE_C', 'TRACE_C_PHI', 'TRACE_PY'. */
  prefix: string;
  /** e.g. 'pix0_vector_meters'; for a `P k1=v1 k2=v2` record line, the prefix itself (e.g. 'TRACE_C_PHI'). */
  key: string;
  kind: RecordKind;
  /** number/integer: 1 value; vector: n values; matrix: row-major flattened. */
  values?: Num[];
  /** matrix only: rows, cols. */
  shape?: [number, number];
  /**
   * Numeric kinds: the unit printed after the value, as printed (`Å`, `Å^-3`, `keV`, `mm`,
   * `photons/m^2`). Absent when none was printed, which says nothing about the value's unit.
   */
  unit?: string;
  /**
   * Numeric kinds read from a PyTorch/NumPy printout: the element type when the printout names it
   * (`dtype=torch.float64` → 'float64', `np.float32(1.5)` → 'float32'), without its module.
   * Absent when not printed: PyTorch omits torch's default dtype (usually float32), NumPy float64.
   */
  dtype?: string;
  /** Labelled parts, `rotx:0 roty:0`, `X:1e-5 pixel_mm:0.1`. */
  parts?: Array<{ label: string; value: Num | string }>;
  /** key=value records, `TRACE_C_PHI phi_tic=0 phi_deg=10 k_frac=...`. */
  fields?: Record<string, Num | string>;
  /** string kind (e.g. 'MOSFLM', any non-numeric value), and the raw text for anything odd. */
  text?: string;
}

export interface TraceDocument {
  format: 'evidence-trace/1';
  /** The input path as given. */
  source: string;
  /** Distinct prefixes of the records, in order of first appearance. */
  prefixes: string[];
  records: TraceRecord[];
  /** lines: lines read; records: records produced; ignored: lines that produced no record; bytes: input size. */
  stats: { lines: number; records: number; ignored: number; bytes: number };
}

/** The number a stored value stands for: 'NaN' → NaN, 'Infinity' → Infinity, '-Infinity' → -Infinity. */
export function numValue(n: Num): number {
  if (typeof n === 'number') return n;
  if (n === 'NaN') return NaN;
  return n === 'Infinity' ? Infinity : -Infinity;
}
