// The shape of a comparison (schemas/comparison.schema.json): what compare-traces writes and what the
// summary, the notes and the findings reader read. Pure types and constants, so that the modules that
// build a comparison (compare, components, precision, diagnose, relations, onsets) can share them
// without importing each other in a loop. Knows nothing about files or rendering.
import type { Num, RecordKind } from './record.js';
import type { Status } from './status.js';

/** A component as compared: a number, 'NaN' / 'Infinity' / '-Infinity', or text. */
export type Component = Num | string;

export interface ToleranceSpec {
  rel?: number;
  abs?: number;
  minor?: number;
}

export interface ToleranceOptions extends ToleranceSpec {
  /** Per-key overrides by glob; when several match, later entries override earlier ones field by field. */
  keys?: Record<string, ToleranceSpec>;
}

export type FailOn = 'divergent' | 'critical' | 'never';

export interface CompareOptions {
  tolerance?: ToleranceOptions;
  /** portKey → refKey (key names or record prefixes as the port prints them). */
  aliases?: Record<string, string>;
  /** Globs of item names to leave out of the comparison. */
  ignore?: string[];
  /** A record field to pair records by (all record groups having it), or per record group. */
  matchBy?: string | Record<string, string>;
  /** Keys to locate the first divergence and each finding against (upstream / at / downstream). */
  checkpoints?: string[];
  /** Recorded with `failed`; default 'never' (evidence is not a failure unless asked; the runner gates on with.fail_on). */
  failOn?: FailOn;
  /** Override the detected main families, e.g. { reference: 'TRACE_C', port: 'TRACE_PY' }. */
  families?: { reference?: string; port?: string };
  /** Items above which the comparison is compact (compact.ts); default COMPACT_ABOVE. */
  compactAbove?: number;
}

export const DEFAULT_TOLERANCE = { rel: 1e-6, abs: 0, minor: 1e-3 } as const;
/** Magnitude ratio from which a difference is CRITICAL (an order of magnitude). */
export const CRITICAL_FACTOR = 10;

export type DiagnosisKind =
  | 'non-finite'
  | 'zero-side'
  | 'unit-factor'
  | 'scale-factor'
  | 'sign-flip'
  | 'permutation'
  | 'single-precision'
  | 'round-off'
  | 'carry-over'
  | 'shift'
  | 'combination'
  | 'shape-mismatch'
  | 'kind-mismatch'
  | 'string-mismatch';

export interface Diagnosis {
  kind: DiagnosisKind;
  /** One sentence a person can act on. */
  message: string;
  /** port / reference, when one ratio holds for every significant component. */
  ratio?: number;
  /** unit-factor: the power of ten k with ratio ≈ ±10^k, when the factor is a power of ten. */
  power?: number;
  /** unit-factor: the unit pair the factor usually means, e.g. 'm ↔ Å'. */
  units?: string;
  /** unit-factor with a residual: the largest relative disagreement left once the factor is applied. */
  residual?: number;
  /** Component indices concerned (sign flips, non-finite values, single-precision check). */
  components?: number[];
  /** permutation: port component i equals sign[i] × reference component map[i]. */
  map?: number[];
  signs?: number[];
  /** round-off, single-precision: the largest |Δ| in ulps of the item's magnitude, and the budget. */
  ulps?: number;
  budgetUlps?: number;
  /** carry-over, shift, combination: the items (by index) the numbers relate this one to. */
  related?: number[];
}

export interface ComparedItem {
  /** In a compact comparison: the item's position among all compared items. */
  index?: number;
  name: string;
  /** The group name in the reference's spelling (the port's for port-only items). */
  key: string;
  /** The group name as the port spells it, when it differs. */
  portKey?: string;
  /** For record fields (`TRACE_C_PHI phi_tic=0 k_frac=...`): the field compared. */
  field?: string;
  /** For records paired by a field value. */
  match?: { field: string; value: Num | string };
  occurrence: number;
  kind: RecordKind | 'field';
  status: Status;
  /** Components (a scalar is a one-element array); null on the side where the item is missing. */
  reference: Component[] | null;
  port: Component[] | null;
  /** Component labels for `parts` values (rotx, roty, ...). */
  labels?: string[];
  shape?: [number, number];
  refLine?: number;
  portLine?: number;
  /** max |port − ref| over components; null when not computable (missing, non-finite, text). */
  abs: number | null;
  /** abs / the item's largest magnitude (a symmetric relative difference in [0, 2]). */
  rel: number | null;
  /** port − ref at the worst component. */
  delta: number | null;
  /** port / ref at the worst component, when finite. */
  ratio: number | null;
  /** Index of the worst component: the one furthest beyond its allowance (see compare.ts). */
  worst: number | null;
  /** port − ref per component, for items that are not MATCH. */
  deltas?: Array<number | null>;
  diagnoses?: Diagnosis[];
  /** The tolerance applied, when a `tolerance.keys` entry changed it. */
  tolerance?: { rel: number; abs: number; minor: number };
  // The fields below are set only on numeric items that are not MATCH.
  /** The less precise side's precision for this key: 'float32', 'float64' or 'N digits'. */
  precision?: string;
  /** The round-off budget (absolute, per component) at the item's magnitude. */
  budget?: number;
  /** The largest |Δ| in ulps of the item's magnitude in that precision. */
  ulps?: number;
  /** True when every difference fits the round-off budget: noise, never a finding. */
  roundOff?: boolean;
  /** Beyond the budget: the finding (index into Comparison.findings) this item is read with. */
  finding?: number;
  /** How the item relates to its finding (see onsets.ts). */
  relation?: ItemRelation;
}

export type RelationKind = 'onset' | 'repeat' | 'same-factor' | 'combination' | 'downstream';

export interface ItemRelation {
  kind: RelationKind;
  /** The earlier item (index) it repeats, shares a factor with, or follows. */
  item?: number;
  /** For combinations: the items whose ratios multiply to this one's. */
  items?: number[];
}

export interface DivergenceRef {
  index: number;
  name: string;
  status: Status;
}

export type CheckpointRelation = 'upstream' | 'at' | 'downstream' | 'no-divergence' | 'not-found';

export interface CheckpointResult {
  key: string;
  /** Index of the checkpoint's first item, null when the checkpoint is in neither trace. */
  index: number | null;
  /** Worst status among the checkpoint's items. */
  status: Status | null;
  /** Where the first divergence lies relative to the checkpoint, in the reference's order. */
  relation: CheckpointRelation;
}

export type OnsetReason = 'first' | 'new-factor' | 'after-agreement' | 'after-large';

/** A divergence beyond round-off that is not simply downstream of an earlier one. */
export interface Finding extends DivergenceRef {
  diagnoses: Diagnosis[];
  /** Why it counts as a new onset (see onsets.ts). */
  reason: OnsetReason;
  /** How many items beyond round-off are read with it (itself included). */
  items: number;
  /** Where it lies relative to each checkpoint. */
  checkpoints: Array<{ key: string; relation: 'upstream' | 'at' | 'downstream' | 'not-found' }>;
}

export interface SidePrecision {
  /** What the side's numbers are: single or double precision, or printed to `digits` significant digits. */
  type: 'float32' | 'float64' | 'decimal';
  digits?: number;
  /** Non-integer finite numbers seen, and how many of them are exactly float32 values. */
  telling: number;
  float32: number;
  /** Keys whose own precision differs from the side's (a trace that mixes them). */
  keys?: Record<string, 'float32' | 'float64'>;
}

export interface Comparison {
  format: 'evidence-comparison/1';
  reference: { source: string; family: string; records: number };
  port: { source: string; family: string; records: number };
  options: {
    tolerance: { rel: number; abs: number; minor: number; keys: Record<string, ToleranceSpec> };
    aliases: Record<string, string>;
    ignore: string[];
    match_by: string | Record<string, string> | null;
    checkpoints: string[];
    fail_on: FailOn;
  };
  totals: Record<Status, number> & { compared: number; ignored: number; roundOff: number };
  /** The worst status among compared items, MISSING aside (strict: round-off counts). */
  verdict: 'MATCH' | 'MINOR' | 'DIVERGENT' | 'CRITICAL';
  /** The worst status among items beyond the round-off budget: what the findings amount to. */
  findingVerdict: 'MATCH' | 'MINOR' | 'DIVERGENT' | 'CRITICAL';
  /** What `fail_on` makes of the items beyond round-off (the runner decides the exit code). */
  failed: boolean;
  /** Each side's precision and the round-off rule applied. */
  precision: { reference: SidePrecision; port: SidePrecision; budgetUlps: number; floorUlps: number };
  /** Divergences beyond round-off that start something new, in the reference's order; the first is the headline. */
  findings: Finding[];
  /** The strict first item beyond tolerance (MINOR included, round-off included). */
  firstDivergence: (DivergenceRef & { diagnoses: Diagnosis[] }) | null;
  firstNonMatch: DivergenceRef | null;
  checkpoints: CheckpointResult[];
  /** Indices (into items) of every item beyond tolerance (MINOR, DIVERGENT or CRITICAL), in order. */
  divergences: number[];
  /** Every item; in a compact comparison only the detailed ones, each with its `index`. */
  items: ComparedItem[];
  /** Set when the comparison is compact: every item's key, status and Δ rel (compact.ts). */
  compact?: CompactItems;
}

/**
 * Every item of a large comparison in a few columns, one entry per item in the comparison's
 * order; `items` then holds the detail of the items beyond round-off and of the few others a
 * reader names (compact.ts).
 */
export interface CompactItems {
  /** The number of items above which a comparison is written compact. */
  threshold: number;
  /** How many items were compared (every column has this length). */
  items: number;
  /** Item keys (`key`, the reference's spelling), in order of first appearance. */
  keys: string[];
  /** Per item: its key, as an index into `keys`. */
  key: ArrayLike<number>;
  /** Per item: its status as one letter, M MATCH, N MINOR, D DIVERGENT, C CRITICAL, X MISSING; n, d, c within round-off. */
  status: string;
  /** Per item: Δ rel (three significant digits once written), null (NaN in memory) where none. */
  rel: ArrayLike<number | null>;
}
