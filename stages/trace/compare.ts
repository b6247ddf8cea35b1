// Compares a reference trace with a port trace, value by value, and names the first divergence.
//
// Alignment. Each trace has a main family (TRACE_C, TRACE_PY, TRACE_TS): prefixes are grouped under
// their shortest `_`-ancestor present in the trace (TRACE_C_PHI under TRACE_C), the group with the
// most records wins, and a family made only of `P k=v` record lines stands for its parent
// (a port trace of only TRACE_PY_PHI lines has family TRACE_PY). A record's identity is its prefix
// with the family removed, plus its key: `TRACE_C: F_latt` and `TRACE_PY: F_latt` are both
// `F_latt`; `TRACE_C_PHI phi_tic=3 ...` and `TRACE_PY_PHI phi_tic=3 ...` are both the `PHI` record
// group. A prefix outside the family (TRACE_CONFIG in a TRACE_C trace) keeps its whole name, so it
// pairs only with the same prefix. Why strip the family rather than compare prefixes after the
// first `_`: ports name their own families freely (TRACE_PY, TRACE_TORCH_PY), but sub-families
// keep the reference's suffix (`_PHI`), which is what the two traces share. `families` overrides
// the detection. Records with the same identity are paired by occurrence (the 2nd `F_latt` with
// the 2nd `F_latt`), or, for record groups named by `matchBy`, by the value of a field
// (phi_tic=3 with phi_tic=3). `aliases` renames port keys (or record prefixes) to reference keys
// before pairing.
//
// Naming. An item's `name` is unique and readable, in the reference's spelling: `F_latt`,
// `F_latt#2` (occurrence 2 of a repeated key), `TRACE_C_PHI[phi_tic=3].k_frac` (field k_frac of
// the record matched by phi_tic=3), `TRACE_C_PHI#3.k_frac` (matched by occurrence),
// `TRACE_C_TRICUBIC:key` (a non-record line of a sub-family), `TRACE_C_GRID` (a `P: values` line). Globs in `ignore` and
// `tolerance.keys`, and names in `checkpoints`, are tried against the item's name and its group
// names in both spellings: `F_latt`, `TRACE_C_PHI.k_frac`, `TRACE_PY_PHI.k_frac`.
//
// Status of a compared item (every component is compared; `scale` is the largest magnitude among
// the item's components on both sides, so round-off zeros in a vector of size 100 are judged
// against 100, not against themselves):
//   MATCH      every |port − ref| ≤ max(abs, rel × scale); integers (kind 'integer' on both sides)
//              and strings must be equal.
//   CRITICAL   nan/inf on one side (or different non-finite values), a different number of
//              components or kind (text versus number), the magnitudes differing by a factor ≥ 10
//              (including all-zero versus non-zero), or a component with the opposite sign whose
//              difference is beyond `minor`.
//   MINOR      beyond tolerance but relative difference (max |Δ| / scale) < minor (default 1e-3),
//              e.g. a float32 port checked at a float64 tolerance. Never for integers or strings.
//   DIVERGENT  everything else beyond tolerance.
//   MISSING    present in one trace only.
// `rel` in an item is max |Δ| / scale, a symmetric relative difference in [0, 2] that equals the
// usual |Δ| / |ref| to first order when small.
//
// The first divergence is the first item beyond tolerance (MINOR, DIVERGENT or CRITICAL) in the
// reference's order: the first value that disagrees beyond tolerance is where a bug shows, and a
// small one (a dropped half-pixel offset moves a position by 4e-4) is often the first sign of a
// large one downstream. MISSING items are instrumentation differences (one side prints a key the
// other does not) and do not count; `firstNonMatch` includes them. `fail_on: divergent` still
// ignores MINOR items: they are evidence, not failures.
//
// Pure: no files, no printing. Must stay fast: a million records per side in well under 3 s.
import picomatch from 'picomatch';
import type { Num, RecordKind, TraceDocument, TraceRecord } from './record.js';
import { componentNumber, diagnose, float32Share, float32TraceDiagnosis, isTellingFloat32, type Component, type Diagnosis } from './diagnose.js';

import { SEVERITY, type Status } from './status.js';
export { STATUSES, type Status } from './status.js';

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
  /** Keys to locate the first divergence against (upstream / at / downstream). */
  checkpoints?: string[];
  /** Recorded with `failed`; default 'never' (evidence is not a failure unless asked; the runner gates on with.fail_on). */
  failOn?: FailOn;
  /** Override the detected main families, e.g. { reference: 'TRACE_C', port: 'TRACE_PY' }. */
  families?: { reference?: string; port?: string };
}

export const DEFAULT_TOLERANCE = { rel: 1e-6, abs: 0, minor: 1e-3 } as const;
/** Magnitude ratio from which a difference is CRITICAL (an order of magnitude). */
export const CRITICAL_FACTOR = 10;

export interface ComparedItem {
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
  /** abs / scale (see the module header). */
  rel: number | null;
  /** port − ref at the worst component. */
  delta: number | null;
  /** port / ref at the worst component, when finite. */
  ratio: number | null;
  /** Index of the worst component (largest |Δ|, or the first offending one). */
  worst: number | null;
  /** port − ref per component, for items that are not MATCH. */
  deltas?: Array<number | null>;
  diagnoses?: Diagnosis[];
  /** The tolerance applied, when a `tolerance.keys` entry changed it. */
  tolerance?: { rel: number; abs: number; minor: number };
}

export interface DivergenceRef {
  index: number;
  name: string;
  status: Status;
}

export interface CheckpointResult {
  key: string;
  /** Index of the checkpoint's first item, null when the checkpoint is in neither trace. */
  index: number | null;
  /** Worst status among the checkpoint's items. */
  status: Status | null;
  /** Where the first divergence lies relative to the checkpoint, in the reference's order. */
  relation: 'upstream' | 'at' | 'downstream' | 'no-divergence' | 'not-found';
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
  totals: Record<Status, number> & { compared: number; ignored: number };
  /** The worst status among compared items, MISSING aside. */
  verdict: 'MATCH' | 'MINOR' | 'DIVERGENT' | 'CRITICAL';
  /** What `fail_on` makes of the verdict (the runner decides the exit code). */
  failed: boolean;
  firstDivergence: (DivergenceRef & { diagnoses: Diagnosis[] }) | null;
  firstNonMatch: DivergenceRef | null;
  checkpoints: CheckpointResult[];
  /** Indices (into items) of every item beyond tolerance (MINOR, DIVERGENT or CRITICAL), in order. */
  divergences: number[];
  items: ComparedItem[];
}

// ---------------------------------------------------------------------------------------------
// Families and identities

/**
 * The main family of a trace (see the module header): prefixes are grouped under their shortest
 * `_`-ancestor present in the trace (TRACE_PY_TRICUBIC under TRACE_PY; a one-word prefix such as
 * TRACE is never an ancestor), and the group with the most records wins, ties to the first seen.
 * A family made only of `P k=v` record lines stands for its parent: TRACE_PY_PHI → TRACE_PY.
 */
export function traceFamily(doc: TraceDocument): string {
  const counts = new Map<string, number>();
  const plain = new Set<string>();
  for (const r of doc.records) {
    counts.set(r.prefix, (counts.get(r.prefix) ?? 0) + 1);
    if (r.kind !== 'record') plain.add(r.prefix);
  }
  const prefixes = [...counts.keys()];
  const rootOf = (p: string): string => {
    let best = p;
    for (const q of prefixes) {
      if (q.length < best.length && q.includes('_') && p.startsWith(q + '_')) best = q;
    }
    return best;
  };
  const rootCounts = new Map<string, number>();
  const rootPlain = new Set<string>();
  for (const p of prefixes) {
    const root = rootOf(p);
    rootCounts.set(root, (rootCounts.get(root) ?? 0) + counts.get(p)!);
    if (plain.has(p)) rootPlain.add(root);
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [root, c] of rootCounts) {
    if (c > bestCount) {
      best = root;
      bestCount = c;
    }
  }
  best ??= doc.prefixes[0] ?? '';
  if (!rootPlain.has(best)) {
    const parts = best.split('_');
    if (parts.length >= 3) return parts.slice(0, -1).join('_');
  }
  return best;
}

const SEP = '\u0000';

/** The family-free identity of a record: '<sub-family>\0<key>' ('' key for record lines and `P: values` lines). */
function identityOf(prefix: string, key: string, kind: RecordKind, family: string): string {
  let sub: string;
  if (prefix === family) sub = '';
  else if (prefix.startsWith(family + '_')) sub = prefix.slice(family.length + 1);
  else sub = '=' + prefix;
  return kind === 'record' || key === prefix ? sub + SEP : sub + SEP + key;
}

/** The group name a person reads: key, PREFIX (record lines), or PREFIX:key (sub-family lines). */
function groupName(rec: TraceRecord, family: string): string {
  if (rec.kind === 'record' || rec.key === rec.prefix) return rec.prefix;
  return rec.prefix === family ? rec.key : `${rec.prefix}:${rec.key}`;
}

/** Records of both traces that share an identity, in each trace's order. */
interface Group {
  id: string;
  /** The group name in each trace's spelling (first record seen). */
  refName?: string;
  portName?: string;
  ref: number[];
  port: number[];
  /** Set when the group's records pair by this field's value instead of by occurrence. */
  matchField?: string;
  refByValue?: Map<string, number[]>;
  portByValue?: Map<string, number[]>;
  /** ignore / tolerance decisions per field ('' for the record itself). */
  memo?: Map<string, Decision>;
}

interface Decision {
  ignore: boolean;
  tol: Tol | null;
}

interface Side {
  records: TraceRecord[];
  group: Group[];
  /** Occurrence of each record within its group (within its match value, for matched groups). */
  occ: Int32Array;
  /** Index of the paired record in the other trace, -1 when none. */
  pair: Int32Array;
}

const NO_VALUE = '\u0002';

function matchKey(v: Num | string | undefined): string {
  return v === undefined ? NO_VALUE : typeof v === 'number' ? String(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Patterns

type Matcher = (s: string) => boolean;

function compilePatterns(patterns: string[]): Matcher {
  if (!patterns.length) return () => false;
  const literal = new Set(patterns);
  const globs = patterns.map((p) => picomatch(p, { dot: true }));
  return (s) => literal.has(s) || globs.some((g) => g(s));
}

/** Whether any pattern could single out one occurrence or one match value. */
function targetsSelectors(patterns: string[]): boolean {
  return patterns.some((p) => p.includes('#') || p.includes('['));
}

// ---------------------------------------------------------------------------------------------
// Component comparison (the hot path)

interface Tol {
  rel: number;
  abs: number;
  minor: number;
}

export interface Outcome {
  status: Status;
  abs: number | null;
  rel: number | null;
  delta: number | null;
  ratio: number | null;
  worst: number | null;
}

function componentsOf(rec: TraceRecord): { values: Component[]; labels?: string[] } {
  switch (rec.kind) {
    case 'string':
      return { values: [rec.text ?? ''] };
    case 'parts':
      return { values: (rec.parts ?? []).map((p) => p.value), labels: (rec.parts ?? []).map((p) => p.label) };
    case 'record': {
      const f = rec.fields ?? {};
      const keys = Object.keys(f);
      return { values: keys.map((k) => f[k]), labels: keys };
    }
    default:
      return { values: rec.values ?? (rec.text !== undefined ? [rec.text] : []) };
  }
}

function sameLabels(a?: string[], b?: string[]): boolean {
  if (!a || !b) return !a && !b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compares component arrays and writes status, abs, rel, delta, ratio and worst into `into`;
 * returns true when the item is not MATCH (the caller then adds deltas and diagnoses).
 * `exact`: integers on both sides, no tolerance and no MINOR.
 */
function compareInto(into: Outcome, r: Component[], p: Component[], tol: Tol, exact: boolean): boolean {
  const n = r.length;
  into.abs = null;
  into.rel = null;
  into.delta = null;
  into.ratio = null;
  into.worst = null;
  if (n !== p.length) {
    into.status = 'CRITICAL';
    return true;
  }
  let normR = 0;
  let normP = 0;
  let textDiff = -1;
  let allNumbers = true;
  for (let i = 0; i < n; i++) {
    const ri = r[i];
    const pi = p[i];
    const a = typeof ri === 'number' ? ri : componentNumber(ri);
    const b = typeof pi === 'number' ? pi : componentNumber(pi);
    if (a === undefined || b === undefined) {
      allNumbers = false;
      if (a !== undefined || b !== undefined) {
        into.status = 'CRITICAL'; // text versus number
        into.worst = i;
        return true;
      }
      if (ri !== pi && textDiff < 0) textDiff = i;
      continue;
    }
    if (a !== a || b !== b || a === Infinity || a === -Infinity || b === Infinity || b === -Infinity) {
      allNumbers = false;
      if (!((a !== a && b !== b) || a === b)) {
        into.status = 'CRITICAL';
        into.worst = i;
        return true;
      }
      continue;
    }
    const ma = a < 0 ? -a : a;
    const mb = b < 0 ? -b : b;
    if (ma > normR) normR = ma;
    if (mb > normP) normP = mb;
  }
  const scale = normR > normP ? normR : normP;
  const allowed = exact ? 0 : Math.max(tol.abs, tol.rel * scale);
  const minorAllowed = tol.minor * scale;
  let maxD = 0;
  let worst = -1;
  let signFlip = false;
  for (let i = 0; i < n; i++) {
    let a: number | undefined;
    let b: number | undefined;
    if (allNumbers) {
      a = r[i] as number;
      b = p[i] as number;
    } else {
      a = componentNumber(r[i]);
      b = componentNumber(p[i]);
      if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    }
    const d = b > a ? b - a : a - b;
    if (d > maxD) {
      maxD = d;
      worst = i;
    }
    if (d > allowed && a * b < 0 && d > minorAllowed) signFlip = true;
  }
  if (maxD <= allowed && textDiff < 0) {
    into.status = 'MATCH';
    into.abs = maxD;
    into.rel = scale === 0 ? 0 : maxD / scale;
    into.worst = worst >= 0 ? worst : n > 0 ? 0 : null;
    return false;
  }
  const rel = scale === 0 ? 0 : maxD / scale;
  let status: Status;
  const orders =
    (normR === 0) !== (normP === 0) || (normR > 0 && normP > 0 && (normR / normP >= CRITICAL_FACTOR || normP / normR >= CRITICAL_FACTOR));
  if (maxD > allowed && orders) status = 'CRITICAL';
  else if (signFlip) status = 'CRITICAL';
  else if (textDiff >= 0) status = 'DIVERGENT';
  else if (!exact && rel < tol.minor) status = 'MINOR';
  else status = 'DIVERGENT';
  if (worst < 0) worst = textDiff >= 0 ? textDiff : n > 0 ? 0 : -1;
  into.status = status;
  if (!(textDiff >= 0 && maxD === 0)) {
    into.abs = maxD;
    into.rel = rel;
  }
  if (worst >= 0) {
    into.worst = worst;
    const a = componentNumber(r[worst]);
    const b = componentNumber(p[worst]);
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) {
      into.delta = b - a;
      if (a !== 0 && Number.isFinite(b / a)) into.ratio = b / a;
    }
  }
  return true;
}

/** Compares two component arrays (a scalar is a one-element array); see the module header. */
export function compareComponents(
  reference: Component[],
  port: Component[],
  tolerance: ToleranceSpec = {},
  exact = false,
): Outcome {
  const out: Outcome = { status: 'MATCH', abs: null, rel: null, delta: null, ratio: null, worst: null };
  const tol: Tol = {
    rel: tolerance.rel ?? DEFAULT_TOLERANCE.rel,
    abs: tolerance.abs ?? DEFAULT_TOLERANCE.abs,
    minor: tolerance.minor ?? DEFAULT_TOLERANCE.minor,
  };
  compareInto(out, reference, port, tol, exact);
  return out;
}

function signedDeltas(r: Component[], p: Component[]): Array<number | null> {
  const out: Array<number | null> = new Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const a = componentNumber(r[i]);
    const b = i < p.length ? componentNumber(p[i]) : undefined;
    out[i] = a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
  }
  return out;
}

function sameShape(a: [number, number] | undefined, b: [number, number] | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a[0] === b[0] && a[1] === b[1];
}

// ---------------------------------------------------------------------------------------------
// The comparison

function* numbersOf(doc: TraceDocument): Generator<number> {
  for (const r of doc.records) {
    if (r.values) for (const v of r.values) if (typeof v === 'number') yield v;
    if (r.fields) for (const v of Object.values(r.fields)) if (typeof v === 'number') yield v;
  }
}

/**
 * A port whose every telling value is a float32 number, beside a reference whose values are not,
 * computes in single precision: a fact about the whole trace that explains each difference.
 */
function singlePrecisionPort(reference: TraceDocument, port: TraceDocument): Diagnosis | undefined {
  const p = float32Share(numbersOf(port));
  if (p.telling < 5 || p.float32 < 0.95 * p.telling) return undefined;
  const r = float32Share(numbersOf(reference));
  if (r.telling && r.float32 > 0.5 * r.telling) return undefined;
  return float32TraceDiagnosis(p);
}

export function compareTraces(reference: TraceDocument, port: TraceDocument, options: CompareOptions = {}): Comparison {
  const tolOpt = options.tolerance ?? {};
  const baseTol: Tol = {
    rel: tolOpt.rel ?? DEFAULT_TOLERANCE.rel,
    abs: tolOpt.abs ?? DEFAULT_TOLERANCE.abs,
    minor: tolOpt.minor ?? DEFAULT_TOLERANCE.minor,
  };
  const keyTols = Object.entries(tolOpt.keys ?? {}).map(([pattern, spec]) => ({ pattern, match: compilePatterns([pattern]), spec }));
  const ignorePatterns = options.ignore ?? [];
  const ignoreMatch = compilePatterns(ignorePatterns);
  const anyPatterns = ignorePatterns.length > 0 || keyTols.length > 0;
  const ignoreSelectors = targetsSelectors(ignorePatterns);
  const tolSelectors = targetsSelectors(keyTols.map((k) => k.pattern));
  const refFamily = options.families?.reference ?? traceFamily(reference);
  const portFamily = options.families?.port ?? traceFamily(port);

  // Index both traces into groups of records sharing an identity.
  const groups = new Map<string, Group>();
  const ref = indexSide(reference.records, refFamily, true, groups, undefined);
  const aliasEntries = Object.entries(options.aliases ?? {});
  let aliasOf: ((rec: TraceRecord, name: string) => string | undefined) | undefined;
  if (aliasEntries.length) {
    const idByRefName = new Map<string, string>();
    for (const g of groups.values()) if (g.refName !== undefined && !idByRefName.has(g.refName)) idByRefName.set(g.refName, g.id);
    const aliasIds = new Map(aliasEntries.map(([from, to]) => [from, idByRefName.get(to) ?? SEP + to]));
    aliasOf = (rec, name) => aliasIds.get(name) ?? aliasIds.get(rec.key);
  }
  const prt = indexSide(port.records, portFamily, false, groups, aliasOf);
  const portPrecision = singlePrecisionPort(reference, port);

  // Pairing: by a field's value for matched record groups, else by occurrence.
  for (const g of groups.values()) {
    const field = matchFieldFor(g, options.matchBy, reference.records, port.records);
    if (field === undefined) {
      const n = Math.min(g.ref.length, g.port.length);
      for (let k = 0; k < n; k++) {
        ref.pair[g.ref[k]] = g.port[k];
        prt.pair[g.port[k]] = g.ref[k];
      }
      continue;
    }
    g.matchField = field;
    g.refByValue = byValue(g.ref, reference.records, field, ref.occ);
    g.portByValue = byValue(g.port, port.records, field, prt.occ);
    for (const [vk, list] of g.refByValue) {
      const other = g.portByValue.get(vk);
      if (!other) continue;
      const n = Math.min(list.length, other.length);
      for (let k = 0; k < n; k++) {
        ref.pair[list[k]] = other[k];
        prt.pair[other[k]] = list[k];
      }
    }
  }

  const items: ComparedItem[] = [];
  let ignored = 0;
  const NO_DECISION: Decision = { ignore: false, tol: null };

  // Patterns are tried against the group's names in both spellings (whichever side the item comes
  // from), so one decision per group and field can be remembered.
  const groupCandidates = (g: Group, field: string | undefined): string[] => {
    const names = g.refName !== undefined && g.portName !== undefined && g.portName !== g.refName ? [g.refName, g.portName] : [(g.refName ?? g.portName)!];
    return field === undefined ? names : [...names.map((n) => `${n}.${field}`), field];
  };

  const decide = (g: Group, key: string, field: string | undefined, name: string, portName: string | undefined): Decision => {
    if (!anyPatterns) return NO_DECISION;
    g.memo ??= new Map();
    const memoKey = field ?? '';
    let d = g.memo.get(memoKey);
    if (!d) {
      const cands = groupCandidates(g, field);
      d = { ignore: ignorePatterns.length > 0 && cands.some(ignoreMatch), tol: resolveTol(cands, keyTols, baseTol) };
      g.memo.set(memoKey, d);
    }
    if ((ignoreSelectors || tolSelectors) && (name !== key || portName !== undefined)) {
      const full = portName !== undefined && portName !== name ? [name, portName] : [name];
      const cands = [...groupCandidates(g, field), ...full];
      return {
        ignore: d.ignore || (ignoreSelectors && full.some(ignoreMatch)),
        tol: tolSelectors ? resolveTol(cands, keyTols, baseTol) : d.tol,
      };
    }
    return d;
  };

  const emit = (
    g: Group,
    ri: number,
    pi: number,
    field: string | undefined,
    r: Component[] | null,
    p: Component[] | null,
    labels: string[] | undefined,
  ) => {
    const rr = ri >= 0 ? reference.records[ri] : undefined;
    const pr = pi >= 0 ? port.records[pi] : undefined;
    const main = (rr ?? pr)!;
    const occ = ri >= 0 ? ref.occ[ri] : prt.occ[pi];
    const key = rr ? g.refName! : g.portName!;
    const portKey = rr && pr && g.portName !== undefined && g.portName !== key ? g.portName : undefined;
    let selector = '';
    let match: ComparedItem['match'];
    if (g.matchField !== undefined && main.kind === 'record' && main.fields && g.matchField in main.fields) {
      const value = main.fields[g.matchField];
      match = { field: g.matchField, value };
      selector = `[${g.matchField}=${matchKey(value)}]` + (occ > 0 ? `#${occ}` : '');
    } else if (g.ref.length > 1 || g.port.length > 1) {
      selector = '#' + occ;
    }
    const name = field === undefined ? key + selector : `${key}${selector}.${field}`;
    const portName = portKey === undefined ? undefined : field === undefined ? portKey + selector : `${portKey}${selector}.${field}`;
    const decision = decide(g, key, field, name, portName);
    if (decision.ignore) {
      ignored++;
      return;
    }
    const item: ComparedItem = {
      name,
      key,
      portKey,
      field,
      match,
      occurrence: occ,
      kind: field !== undefined ? 'field' : main.kind,
      status: 'MISSING',
      reference: r,
      port: p,
      labels,
      shape: main.shape,
      refLine: rr?.line,
      portLine: pr?.line,
      abs: null,
      rel: null,
      delta: null,
      ratio: null,
      worst: null,
      // deltas, diagnoses and tolerance are added only to the few items that need them: a million
      // MATCH items should not carry three empty slots each.
    };
    if (r && p) {
      const t = decision.tol ?? baseTol;
      const refShape = field === undefined ? rr!.shape : undefined;
      const portShape = field === undefined ? pr!.shape : undefined;
      let detail: boolean;
      if (!sameShape(refShape, portShape)) {
        item.status = 'CRITICAL';
        detail = true;
      } else {
        const exact = field === undefined && rr!.kind === 'integer' && pr!.kind === 'integer';
        detail = compareInto(item, r, p, t, exact);
      }
      if (decision.tol) item.tolerance = { ...decision.tol };
      if (detail) {
        if (r.length > 1 && r.length === p.length) item.deltas = signedDeltas(r, p);
        const diagnoses = diagnose(r, p, {
          rel: Math.max(t.rel, 1e-6),
          abs: t.abs,
          ...(refShape ? { shape: refShape } : {}),
          ...(labels ? { labels } : {}),
        });
        if (!sameShape(refShape, portShape)) {
          diagnoses.unshift({
            kind: 'shape-mismatch',
            message: `reference is ${refShape ? refShape.join('×') : `${r.length} values`}, port ${portShape ? portShape.join('×') : `${p.length} values`}`,
          });
        }
        if (portPrecision && item.status !== 'MATCH' && !diagnoses.some((d) => d.kind === 'single-precision') && p.every((c) => typeof c !== 'number' || Number.isInteger(c) || isTellingFloat32(c))) {
          diagnoses.push(portPrecision);
        }
        item.diagnoses = diagnoses;
      }
    }
    items.push(item);
  };

  const emitPair = (g: Group, ri: number, pi: number) => {
    const rr = ri >= 0 ? reference.records[ri] : undefined;
    const pr = pi >= 0 ? port.records[pi] : undefined;
    if ((rr && rr.kind === 'record') || (pr && pr.kind === 'record')) {
      if (rr && pr && rr.kind !== pr.kind) {
        // A record line paired with an ordinary line: compare as a whole.
        const a = componentsOf(rr);
        const b = componentsOf(pr);
        emit(g, ri, pi, undefined, a.values, b.values, a.labels);
        return;
      }
      const rf = rr?.fields ?? {};
      const pf = pr?.fields ?? {};
      const skip = g.matchField;
      for (const f of Object.keys(rf)) {
        if (f === skip) continue;
        emit(g, ri, pi, f, [rf[f]], pr ? (f in pf ? [pf[f]] : null) : null, undefined);
      }
      if (pr) {
        for (const f of Object.keys(pf)) {
          if (f === skip || (rr && f in rf)) continue;
          emit(g, ri, pi, f, null, [pf[f]], undefined);
        }
      }
      return;
    }
    if (rr && pr && rr.values && pr.values) {
      emit(g, ri, pi, undefined, rr.values, pr.values, undefined); // the common case, without allocation
      return;
    }
    const a = rr ? componentsOf(rr) : undefined;
    const b = pr ? componentsOf(pr) : undefined;
    if (a && b && (a.labels || b.labels) && !sameLabels(a.labels, b.labels)) {
      // Labelled parts with different labels: line them up by label where both sides have all.
      const al = a.labels ?? [];
      const bl = b.labels ?? [];
      const union = [...al, ...bl.filter((l) => !al.includes(l))];
      const av = union.map((l) => (al.includes(l) ? a.values[al.indexOf(l)] : undefined));
      const bv = union.map((l) => (bl.includes(l) ? b.values[bl.indexOf(l)] : undefined));
      if (av.every((v) => v !== undefined) && bv.every((v) => v !== undefined)) {
        emit(g, ri, pi, undefined, av as Component[], bv as Component[], union);
      } else {
        emit(g, ri, pi, undefined, a.values, b.values, a.labels ?? b.labels);
      }
      return;
    }
    emit(g, ri, pi, undefined, a ? a.values : null, b ? b.values : null, a?.labels ?? b?.labels);
  };

  for (let i = 0; i < ref.records.length; i++) emitPair(ref.group[i], i, ref.pair[i]);
  for (let j = 0; j < prt.records.length; j++) if (prt.pair[j] < 0) emitPair(prt.group[j], -1, j);

  return summarise(reference, port, refFamily, portFamily, items, ignored, baseTol, options);
}

function indexSide(
  records: TraceRecord[],
  family: string,
  isRef: boolean,
  groups: Map<string, Group>,
  aliasOf: ((rec: TraceRecord, name: string) => string | undefined) | undefined,
): Side {
  const n = records.length;
  const group = new Array<Group>(n);
  const occ = new Int32Array(n);
  const pair = new Int32Array(n).fill(-1);
  // prefix → key → group: two lookups on strings whose hashes are cached, no string building.
  const cache = new Map<string, Map<string, Group>>();
  for (let i = 0; i < n; i++) {
    const rec = records[i];
    let byKey = cache.get(rec.prefix);
    if (!byKey) {
      byKey = new Map();
      cache.set(rec.prefix, byKey);
    }
    const k = rec.kind === 'record' ? '' : rec.key;
    let g = byKey.get(k);
    if (!g) {
      const name = groupName(rec, family);
      const id = aliasOf?.(rec, name) ?? identityOf(rec.prefix, rec.key, rec.kind, family);
      g = groups.get(id);
      if (!g) {
        g = { id, ref: [], port: [] };
        groups.set(id, g);
      }
      if (isRef) g.refName ??= name;
      else g.portName ??= name;
      byKey.set(k, g);
    }
    const list = isRef ? g.ref : g.port;
    occ[i] = list.length;
    list.push(i);
    group[i] = g;
  }
  return { records, group, occ, pair };
}

/** The field a group's records pair by, if `matchBy` names one that its record lines carry. */
function matchFieldFor(
  g: Group,
  matchBy: CompareOptions['matchBy'],
  refRecords: TraceRecord[],
  portRecords: TraceRecord[],
): string | undefined {
  if (matchBy === undefined) return undefined;
  const sample = g.ref.length ? refRecords[g.ref[0]] : portRecords[g.port[0]];
  if (!sample || sample.kind !== 'record') return undefined;
  const field =
    typeof matchBy === 'string'
      ? matchBy
      : ((g.refName !== undefined ? matchBy[g.refName] : undefined) ?? (g.portName !== undefined ? matchBy[g.portName] : undefined));
  if (field === undefined) return undefined;
  const has = (records: TraceRecord[], list: number[]) => list.some((i) => records[i].fields !== undefined && field in records[i].fields!);
  return has(refRecords, g.ref) || has(portRecords, g.port) ? field : undefined;
}

/** Groups a side's records of one group by their match value; sets each record's occurrence within it. */
function byValue(list: number[], records: TraceRecord[], field: string, occ: Int32Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of list) {
    const f = records[i].fields;
    const vk = matchKey(f && field in f ? f[field] : undefined);
    let l = out.get(vk);
    if (!l) {
      l = [];
      out.set(vk, l);
    }
    occ[i] = l.length;
    l.push(i);
  }
  return out;
}

function resolveTol(cands: string[], keyTols: Array<{ match: Matcher; spec: ToleranceSpec }>, base: Tol): Tol | null {
  let out: Tol | null = null;
  for (const k of keyTols) {
    if (!cands.some(k.match)) continue;
    out ??= { ...base };
    if (k.spec.rel !== undefined) out.rel = k.spec.rel;
    if (k.spec.abs !== undefined) out.abs = k.spec.abs;
    if (k.spec.minor !== undefined) out.minor = k.spec.minor;
  }
  return out;
}


function summarise(
  reference: TraceDocument,
  port: TraceDocument,
  refFamily: string,
  portFamily: string,
  items: ComparedItem[],
  ignored: number,
  tol: Tol,
  options: CompareOptions,
): Comparison {
  const totals = { MATCH: 0, MINOR: 0, DIVERGENT: 0, CRITICAL: 0, MISSING: 0, compared: items.length, ignored };
  const divergences: number[] = [];
  let firstNonMatch: DivergenceRef | null = null;
  let verdict: Comparison['verdict'] = 'MATCH';
  for (let i = 0; i < items.length; i++) {
    const s = items[i].status;
    totals[s]++;
    if (s === 'MATCH') continue;
    if (!firstNonMatch) firstNonMatch = { index: i, name: items[i].name, status: s };
    if (s === 'MINOR' || s === 'DIVERGENT' || s === 'CRITICAL') divergences.push(i);
    if (s !== 'MISSING' && SEVERITY[s] > SEVERITY[verdict]) verdict = s as Comparison['verdict'];
  }
  const first = divergences.length ? items[divergences[0]] : undefined;
  const firstDivergence = first
    ? { index: divergences[0], name: first.name, status: first.status, diagnoses: first.diagnoses ?? [] }
    : null;
  const failOn = options.failOn ?? 'never';
  const failed =
    failOn === 'divergent' ? verdict === 'DIVERGENT' || verdict === 'CRITICAL' : failOn === 'critical' ? verdict === 'CRITICAL' : false;
  return {
    format: 'evidence-comparison/1',
    reference: { source: reference.source, family: refFamily, records: reference.records.length },
    port: { source: port.source, family: portFamily, records: port.records.length },
    options: {
      tolerance: { ...tol, keys: options.tolerance?.keys ?? {} },
      aliases: options.aliases ?? {},
      ignore: options.ignore ?? [],
      match_by: options.matchBy ?? null,
      checkpoints: options.checkpoints ?? [],
      fail_on: failOn,
    },
    totals,
    verdict,
    failed,
    firstDivergence,
    firstNonMatch,
    checkpoints: (options.checkpoints ?? []).map((c) => locateCheckpoint(c, items, firstDivergence?.index ?? null)),
    divergences,
    items,
  };
}

/** Whether item belongs to the key a person wrote (a group name, a group.field, or an item name). */
export function itemMatchesKey(item: ComparedItem, key: string): boolean {
  if (item.name === key || item.key === key || item.portKey === key) return true;
  if (item.field === undefined) return false;
  return `${item.key}.${item.field}` === key || (item.portKey !== undefined && `${item.portKey}.${item.field}` === key);
}

function locateCheckpoint(key: string, items: ComparedItem[], firstDiv: number | null): CheckpointResult {
  let index: number | null = null;
  let worst: Status | null = null;
  let firstIsCheckpoint = false;
  for (let i = 0; i < items.length; i++) {
    if (!itemMatchesKey(items[i], key)) continue;
    if (index === null) index = i;
    const s = items[i].status;
    if (worst === null || SEVERITY[s] > SEVERITY[worst]) worst = s;
    if (i === firstDiv) firstIsCheckpoint = true;
  }
  let relation: CheckpointResult['relation'];
  if (index === null) relation = 'not-found';
  else if (firstDiv === null) relation = 'no-divergence';
  else if (firstIsCheckpoint) relation = 'at';
  else relation = firstDiv < index ? 'upstream' : 'downstream';
  return { key, index, status: worst, relation };
}
