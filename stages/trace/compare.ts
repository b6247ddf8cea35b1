// Compares a reference trace with a port trace, value by value, and reads the result: which values
// differ beyond tolerance, which of those differences round-off explains, and where the port
// first diverges for real (the findings).
//
// Alignment (pairing.ts, family.ts). Each trace has a main family (TRACE_C, TRACE_PY, TRACE_TS):
// prefixes are grouped under their shortest `_`-ancestor present in the trace (TRACE_C_PHI under
// TRACE_C), the group with the most records wins, and a family made only of `P k=v` record lines
// stands for its parent. A record's identity is its prefix with the family removed, plus its key:
// `TRACE_C: F_latt` and `TRACE_PY: F_latt` are both `F_latt`; `TRACE_C_PHI phi_tic=3 ...` and
// `TRACE_PY_PHI phi_tic=3 ...` are both the `PHI` record group. A prefix outside the family
// (TRACE_CONFIG in a TRACE_C trace) keeps its whole name. Why strip the family rather than compare
// prefixes after the first `_`: ports name their own families freely (TRACE_PY, TRACE_TORCH_PY),
// but sub-families keep the reference's suffix (`_PHI`). `families` overrides the detection.
// Records with the same identity pair by occurrence, or, for record groups named by `matchBy`, by
// the value of a field. `aliases` renames port keys (or record prefixes) to reference keys first.
//
// Naming. An item's `name` is unique and readable, in the reference's spelling: `F_latt`,
// `F_latt#2` (occurrence 2 of a repeated key), `TRACE_C_PHI[phi_tic=3].k_frac`, `TRACE_C_PHI#3.k_frac`
// (matched by occurrence), `TRACE_C_TRICUBIC:key`, `TRACE_C_GRID`. Globs in `ignore` and
// `tolerance.keys`, and names in `checkpoints`, are tried against the item's name and its group names
// in both spellings: `F_latt`, `TRACE_C_PHI.k_frac`, `TRACE_PY_PHI.k_frac`.
//
// Status (components.ts): each component is judged against its own magnitude with a floor tied to
// the item's magnitude and precision; MATCH, MINOR, DIVERGENT, CRITICAL, MISSING.
// Round-off (precision.ts): every item beyond tolerance gets a budget from its less precise side's
// precision and its magnitude; within it, it is labelled round-off (single precision for float32)
// and is never a finding. Diagnoses (diagnose.ts, relations.ts) are claimed only where the numbers
// hold them. Findings (onsets.ts): the items beyond round-off that start something new; the first
// is the headline. The strict first divergence (the first item beyond tolerance, MINOR and
// round-off included) is kept as `firstDivergence`: a user asking for 1e-6 still gets it.
//
// Memory (columns.ts, items.ts): both traces are read as columns, and the items as a table in
// which only the items that are not MATCH are objects; a MATCH item is made again from its records
// when a reader asks for it. Above `compactAbove` items (default COMPACT_ABOVE) the comparison is
// written compact (compact.ts): the detailed items, and one key, status and Δ rel per item.
//
// Pure: no files, no printing. Must stay fast: a million records per side in well under a second.
import { columnsOf, F_ODD, F_TEXT, K_INTEGER, K_MATRIX, K_RECORD, type TraceColumns } from './columns.js';
import type { ComparedItem, Comparison, CompareOptions, Component, Diagnosis, ToleranceSpec } from './comparison.js';
import { DEFAULT_TOLERANCE } from './comparison.js';
import { compactComparison, COMPACT_ABOVE } from './compact.js';
import { compareInto, compareNumbersInto, componentNumber, componentsOf, magnitudeOf, sameLabels, sameShape, signedDeltas, type Outcome, type PrecisionSource } from './components.js';
import { diagnose } from './diagnose.js';
import { SEP, traceFamily } from './family.js';
import { ItemTable } from './items.js';
import { readOnsets } from './onsets.js';
import { indexSide, matchKey, pairRecords, type Decision, type Group, type Tolerance } from './pairing.js';
import { budgetAt, effectivePrecision, keyPrecision, lessPrecise, precisionLabel, sidePrecision, ulpIn, type Precision, BUDGET_ULPS, FLOOR_ULPS } from './precision.js';
import type { TraceDocument } from './record.js';
import { relateItems } from './relations.js';
import { compilePatterns, resolveTol, targetsSelectors } from './selection.js';
import { findingCheckpoints, summarise } from './summarise.js';

export * from './comparison.js';
export { STATUSES, type Status } from './status.js';
export { traceFamily } from './family.js';
export { compareComponents, type Outcome } from './components.js';
export { itemMatchesKey } from './summarise.js';
export { COMPACT_ABOVE } from './compact.js';

/** Components of an item that is not a record field, and their labels. */
interface Whole {
  r: Component[] | null;
  p: Component[] | null;
  labels: string[] | undefined;
}

export function compareTraces(reference: TraceDocument | TraceColumns, port: TraceDocument | TraceColumns, options: CompareOptions = {}): Comparison {
  const refCols = columnsOf(reference);
  const portCols = columnsOf(port);
  const tolOpt = options.tolerance ?? {};
  const baseTol: Tolerance = {
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
  const refFamily = options.families?.reference ?? traceFamily(refCols);
  const portFamily = options.families?.port ?? traceFamily(portCols);
  const refPrecision = sidePrecision(refCols);
  const portPrecision = sidePrecision(portCols);

  // Index both traces into groups of records sharing an identity, then pair them.
  const groups = new Map<string, Group>();
  const groupList: Group[] = [];
  const ref = indexSide(refCols, refFamily, true, groups, undefined, groupList);
  const aliasEntries = Object.entries(options.aliases ?? {});
  let aliasOf: ((key: string, name: string) => string | undefined) | undefined;
  if (aliasEntries.length) {
    const idByRefName = new Map<string, string>();
    for (const g of groups.values()) if (g.refName !== undefined && !idByRefName.has(g.refName)) idByRefName.set(g.refName, g.id);
    const aliasIds = new Map(aliasEntries.map(([from, to]) => [from, idByRefName.get(to) ?? SEP + to]));
    aliasOf = (key, name) => aliasIds.get(name) ?? aliasIds.get(key);
  }
  const prt = indexSide(portCols, portFamily, false, groups, aliasOf, groupList);
  pairRecords(groups, ref, prt, options.matchBy);

  // The precision of a group's field on both sides, computed the first time an item needs it.
  const precisionOf = (g: Group, field: string | undefined): Precision => {
    g.precision ??= new Map();
    const memoKey = field ?? '';
    let p = g.precision.get(memoKey);
    if (!p) {
      const rk = keyPrecision(refCols, g.ref, field);
      const pk = keyPrecision(portCols, g.port, field);
      const name = field === undefined ? undefined : `.${field}`;
      if (rk !== undefined && refPrecision.type !== 'decimal' && rk !== refPrecision.type && g.refName !== undefined) (refPrecision.keys ??= {})[g.refName + (name ?? '')] = rk;
      if (pk !== undefined && portPrecision.type !== 'decimal' && pk !== portPrecision.type && g.portName !== undefined) (portPrecision.keys ??= {})[g.portName + (name ?? '')] = pk;
      p = lessPrecise(effectivePrecision(refPrecision, rk), effectivePrecision(portPrecision, pk));
      g.precision.set(memoKey, p);
    }
    return p;
  };
  // One mutable source for the hot path: no closure per item.
  const source: PrecisionSource & { g?: Group; field?: string } = {
    precision() {
      return precisionOf(this.g!, this.field);
    },
  };

  let ignored = 0;
  const NO_DECISION: Decision = { ignore: false, tol: null };
  const needNames = ignoreSelectors || tolSelectors;

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
    if (needNames && (name !== key || portName !== undefined)) {
      const full = portName !== undefined && portName !== name ? [name, portName] : [name];
      const cands = [...groupCandidates(g, field), ...full];
      return {
        ignore: d.ignore || (ignoreSelectors && full.some(ignoreMatch)),
        tol: tolSelectors ? resolveTol(cands, keyTols, baseTol) : d.tol,
      };
    }
    return d;
  };

  // An item's names: `name` is unique (key, selector, field); `portName` the port's spelling.
  let itemName = '';
  let itemPortName: string | undefined;
  let itemMatch: ComparedItem['match'];
  const nameItem = (g: Group, ri: number, pi: number, field: string | undefined, key: string, portKey: string | undefined): void => {
    const [cols, mi, occ] = ri >= 0 ? [refCols, ri, ref.occ[ri]!] : [portCols, pi, prt.occ[pi]!];
    let selector = '';
    itemMatch = undefined;
    if (g.matchField !== undefined && cols.kind[mi] === K_RECORD && cols.hasField(mi, g.matchField)) {
      const value = cols.fieldValue(mi, g.matchField)!;
      itemMatch = { field: g.matchField, value };
      selector = `[${g.matchField}=${matchKey(value)}]` + (occ > 0 ? `#${occ}` : '');
    } else if (g.ref.length > 1 || g.port.length > 1) {
      selector = '#' + occ;
    }
    itemName = field === undefined ? key + selector : `${key}${selector}.${field}`;
    itemPortName = portKey === undefined ? undefined : field === undefined ? portKey + selector : `${portKey}${selector}.${field}`;
  };

  /** The item as every reader sees it; the property order is the JSON's. */
  const newItem = (g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined, key: string, portKey: string | undefined): ComparedItem => {
    nameItem(g, ri, pi, field, key, portKey);
    const [cols, mi] = ri >= 0 ? [refCols, ri] : [portCols, pi];
    return {
      name: itemName,
      key,
      portKey,
      field,
      match: itemMatch,
      occurrence: ri >= 0 ? ref.occ[ri]! : prt.occ[pi]!,
      kind: field !== undefined ? 'field' : cols.kindOf(mi),
      status: 'MISSING',
      reference: r,
      port: p,
      labels,
      shape: cols.shapeOf(mi),
      refLine: ri >= 0 ? refCols.lineOf(ri) : undefined,
      portLine: pi >= 0 ? portCols.lineOf(pi) : undefined,
      abs: null,
      rel: null,
      delta: null,
      ratio: null,
      worst: null,
      // deltas, diagnoses, tolerance and the round-off fields are added only to the few items that
      // need them: a million MATCH items should not carry empty slots each.
    };
  };

  const keyOf = (g: Group, ri: number) => (ri >= 0 ? g.refName! : g.portName!);
  const portKeyOf = (g: Group, ri: number, pi: number, key: string) => (ri >= 0 && pi >= 0 && g.portName !== undefined && g.portName !== key ? g.portName : undefined);
  const decisionOf = (g: Group, ri: number, pi: number, field: string | undefined, key: string, portKey: string | undefined): Decision => {
    if (!anyPatterns) return NO_DECISION;
    if (!needNames) return decide(g, key, field, key, undefined);
    nameItem(g, ri, pi, field, key, portKey);
    return decide(g, key, field, itemName, itemPortName);
  };

  const table: ItemTable = new ItemTable(
    {
      materialize(gi, ri, pi, field) {
        const g = groupList[gi]!;
        let r: Component[] | null;
        let p: Component[] | null;
        let labels: string[] | undefined;
        if (field !== undefined) {
          r = ri >= 0 && refCols.hasField(ri, field) ? [refCols.fieldValue(ri, field)!] : null;
          p = pi >= 0 && portCols.hasField(pi, field) ? [portCols.fieldValue(pi, field)!] : null;
        } else {
          const w = wholeOf(ri, pi);
          r = w.r;
          p = w.p;
          labels = w.labels;
        }
        const key = keyOf(g, ri);
        const portKey = portKeyOf(g, ri, pi, key);
        // Compared again: the same outcome, and no precision asked for that was not asked before.
        return itemOf(g, ri, pi, field, r, p, labels, key, portKey, decisionOf(g, ri, pi, field, key, portKey), false);
      },
      keyOf: (gi, ri) => keyOf(groupList[gi]!, ri),
      portKeyOf: (gi, ri, pi) => {
        const g = groupList[gi]!;
        return portKeyOf(g, ri, pi, keyOf(g, ri));
      },
    },
    Math.ceil((refCols.length + portCols.length) * 1.25),
  );
  const outcome: Outcome = { status: 'MATCH', abs: null, rel: null, delta: null, ratio: null, worst: null };

  /**
   * The item of a pair, compared: status, differences, tolerance and, when it is not MATCH, its
   * deltas, round-off and diagnoses. With `lean`, a MATCH gives undefined and only `outcome` holds
   * what the comparison found (no object for the million items that match).
   */
  function itemOf(g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined, key: string, portKey: string | undefined, decision: Decision, lean: true): ComparedItem | undefined;
  function itemOf(g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined, key: string, portKey: string | undefined, decision: Decision, lean: false): ComparedItem;
  function itemOf(g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined, key: string, portKey: string | undefined, decision: Decision, lean: boolean): ComparedItem | undefined {
    let critical = false;
    let t = baseTol;
    let exact = false;
    let refShape: [number, number] | undefined;
    let portShape: [number, number] | undefined;
    if (r && p) {
      t = decision.tol ?? baseTol;
      refShape = field === undefined ? refCols.shapeOf(ri) : undefined;
      portShape = field === undefined ? portCols.shapeOf(pi) : undefined;
      exact = field === undefined && refCols.kind[ri] === K_INTEGER && portCols.kind[pi] === K_INTEGER;
      if (!sameShape(refShape, portShape)) critical = true;
      else {
        source.g = g;
        source.field = field;
        if (!compareInto(outcome, r, p, t, exact, source) && lean) return undefined;
      }
    }
    const item = newItem(g, ri, pi, field, r, p, labels, key, portKey);
    if (r && p) {
      if (critical) item.status = 'CRITICAL';
      else {
        item.status = outcome.status;
        item.abs = outcome.abs;
        item.rel = outcome.rel;
        item.delta = outcome.delta;
        item.ratio = outcome.ratio;
        item.worst = outcome.worst;
      }
      if (decision.tol) item.tolerance = { ...decision.tol };
      if (item.status !== 'MATCH') describeDifference(item, g, field, r, p, t, exact, refShape, portShape, labels);
    }
    return item;
  }

  const emit = (g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined) => {
    const key = keyOf(g, ri);
    const portKey = portKeyOf(g, ri, pi, key);
    const decision = decisionOf(g, ri, pi, field, key, portKey);
    if (decision.ignore) {
      ignored++;
      return;
    }
    const item = itemOf(g, ri, pi, field, r, p, labels, key, portKey, decision, true);
    if (!item) table.addMatch(g.index, ri, pi, field, r!.length, outcome.rel);
    // Only what relations and findings add to stays an object: a round-off difference or a key
    // one side prints alone is made again when asked (a float32 port at a tight tolerance has a
    // million of them).
    else if (item.status === 'MISSING' || item.roundOff) table.addKept(item, g.index, ri, pi);
    else table.addDetail(item, g.index, ri, pi);
  };

  /** Deltas, precision, round-off budget and diagnoses of an item that is not MATCH. */
  const describeDifference = (
    item: ComparedItem,
    g: Group,
    field: string | undefined,
    r: Component[],
    p: Component[],
    t: Tolerance,
    exact: boolean,
    refShape: [number, number] | undefined,
    portShape: [number, number] | undefined,
    labels: string[] | undefined,
  ) => {
    if (r.length > 1 && r.length === p.length) item.deltas = signedDeltas(r, p);
    const precision = precisionOf(g, field);
    const scale = magnitudeOf(r, p);
    const budget = budgetAt(scale, precision);
    const numeric = item.abs !== null && r.length === p.length && sameShape(refShape, portShape) && allFiniteOrEqual(r, p);
    if (numeric && scale > 0) {
      item.precision = precisionLabel(precision);
      item.budget = budget;
      item.ulps = Number((item.abs! / ulpIn(scale, precision)).toPrecision(3));
      // An integer difference is never round-off; neither is a difference in text.
      item.roundOff = !exact && item.abs! <= budget;
    }
    const diagnoses: Diagnosis[] = diagnose(r, p, {
      abs: t.abs,
      budget,
      precision,
      ...(refShape ? { shape: refShape } : {}),
      ...(labels ? { labels } : {}),
    });
    if (!sameShape(refShape, portShape)) {
      diagnoses.unshift({
        kind: 'shape-mismatch',
        message: `reference is ${refShape ? refShape.join('×') : `${r.length} values`}, port ${portShape ? portShape.join('×') : `${p.length} values`}`,
      });
    }
    if (exact) {
      // diagnose() does not know the values were integers: a difference of 1 in a count is no round-off.
      for (let i = diagnoses.length - 1; i >= 0; i--) if (diagnoses[i]!.kind === 'round-off' || diagnoses[i]!.kind === 'single-precision') diagnoses.splice(i, 1);
    }
    item.diagnoses = diagnoses;
  };

  /** The components of a pair that is not compared field by field (the only way `materialize` gets them again). */
  const wholeOf = (ri: number, pi: number): Whole => {
    const rk = ri >= 0 ? refCols.kind[ri]! : -1;
    const pk = pi >= 0 ? portCols.kind[pi]! : -1;
    if (rk === K_RECORD || pk === K_RECORD) {
      // A record line paired with an ordinary line: compared as a whole.
      const a = componentsOf(refCols.record(ri));
      const b = componentsOf(portCols.record(pi));
      return { r: a.values, p: b.values, labels: a.labels };
    }
    if (ri >= 0 && pi >= 0) {
      const rv = refCols.values(ri);
      const pv = rv && portCols.values(pi);
      if (rv && pv) return { r: rv, p: pv, labels: undefined }; // the common case
    }
    const a = ri >= 0 ? componentsOf(refCols.record(ri)) : undefined;
    const b = pi >= 0 ? componentsOf(portCols.record(pi)) : undefined;
    if (a && b && (a.labels || b.labels) && !sameLabels(a.labels, b.labels)) {
      // Labelled parts with different labels: line them up by label where both sides have all.
      const al = a.labels ?? [];
      const bl = b.labels ?? [];
      const union = [...al, ...bl.filter((l) => !al.includes(l))];
      const av = union.map((l) => (al.includes(l) ? a.values[al.indexOf(l)] : undefined));
      const bv = union.map((l) => (bl.includes(l) ? b.values[bl.indexOf(l)] : undefined));
      if (av.every((v) => v !== undefined) && bv.every((v) => v !== undefined)) return { r: av as Component[], p: bv as Component[], labels: union };
      return { r: a.values, p: b.values, labels: a.labels ?? b.labels };
    }
    return { r: a ? a.values : null, p: b ? b.values : null, labels: a?.labels ?? b?.labels };
  };

  /**
   * Two records of plain numbers, compared in place in the columns: a MATCH leaves no array and no
   * object behind. False when the pair needs the general path (which then compares it again: the
   * same outcome, and no precision is asked for twice).
   */
  const emitNumbers = (g: Group, ri: number, pi: number): boolean => {
    // Without selectors in the patterns a group's records share one decision: remembered here.
    let decision = needNames ? undefined : g.whole;
    if (!decision) {
      const key = keyOf(g, ri);
      decision = decisionOf(g, ri, pi, undefined, key, portKeyOf(g, ri, pi, key));
      if (!needNames) g.whole = decision;
    }
    if (decision.ignore) {
      ignored++;
      return true;
    }
    if (!sameShape(refCols.shapeOf(ri), portCols.shapeOf(pi))) return false;
    const exact = refCols.kind[ri] === K_INTEGER && portCols.kind[pi] === K_INTEGER;
    source.g = g;
    source.field = undefined;
    const rs = refCols.start[ri]!;
    const ps = portCols.start[pi]!;
    const rn = refCols.start[ri + 1]! - rs;
    if (compareNumbersInto(outcome, refCols.num, rs, rn, portCols.num, ps, portCols.start[pi + 1]! - ps, decision.tol ?? baseTol, exact, source)) return false;
    table.addMatch(g.index, ri, pi, undefined, rn, outcome.rel);
    return true;
  };
  const plainNumbers = (cols: TraceColumns, i: number) => cols.kind[i]! <= K_MATRIX && (cols.flags[i]! & (F_ODD | F_TEXT)) === 0;

  const emitPair = (g: Group, ri: number, pi: number) => {
    if (ri >= 0 && pi >= 0 && plainNumbers(refCols, ri) && plainNumbers(portCols, pi) && emitNumbers(g, ri, pi)) return;
    const rk = ri >= 0 ? refCols.kind[ri]! : -1;
    const pk = pi >= 0 ? portCols.kind[pi]! : -1;
    if ((rk === K_RECORD || pk === K_RECORD) && !(ri >= 0 && pi >= 0 && rk !== pk)) {
      // Record lines: one item per field.
      const rf = ri >= 0 ? (refCols.record(ri).fields ?? {}) : {};
      const pf = pi >= 0 ? (portCols.record(pi).fields ?? {}) : {};
      const skip = g.matchField;
      for (const f of Object.keys(rf)) {
        if (f === skip) continue;
        emit(g, ri, pi, f, [rf[f]!], pi >= 0 ? (f in pf ? [pf[f]!] : null) : null, undefined);
      }
      if (pi >= 0) {
        for (const f of Object.keys(pf)) {
          if (f === skip || (ri >= 0 && f in rf)) continue;
          emit(g, ri, pi, f, null, [pf[f]!], undefined);
        }
      }
      return;
    }
    const w = wholeOf(ri, pi);
    emit(g, ri, pi, undefined, w.r, w.p, w.labels);
  };

  for (let i = 0; i < ref.records.length; i++) emitPair(groupList[ref.group[i]!]!, i, ref.pair[i]!);
  for (let j = 0; j < prt.records.length; j++) if (prt.pair[j]! < 0) emitPair(groupList[prt.group[j]!]!, -1, j);

  relateItems(table);
  const failOn = options.failOn ?? 'never';
  const summary = summarise(table, ignored, failOn, options.checkpoints ?? []);
  const findings = readOnsets(table).map((f) => ({ ...f, checkpoints: findingCheckpoints(f.index, table, summary.checkpoints) }));
  const comparison: Comparison = {
    format: 'evidence-comparison/1',
    reference: { source: refCols.source, family: refFamily, records: refCols.length },
    port: { source: portCols.source, family: portFamily, records: portCols.length },
    options: {
      tolerance: { ...baseTol, keys: (options.tolerance?.keys ?? {}) as Record<string, ToleranceSpec> },
      aliases: options.aliases ?? {},
      ignore: options.ignore ?? [],
      match_by: options.matchBy ?? null,
      checkpoints: options.checkpoints ?? [],
      fail_on: failOn,
    },
    totals: summary.totals,
    verdict: summary.verdict,
    findingVerdict: summary.findingVerdict,
    failed: summary.failed,
    precision: { reference: refPrecision, port: portPrecision, budgetUlps: BUDGET_ULPS, floorUlps: FLOOR_ULPS },
    findings,
    firstDivergence: summary.firstDivergence,
    firstNonMatch: summary.firstNonMatch,
    checkpoints: summary.checkpoints,
    divergences: summary.divergences,
    items: [],
  };
  const threshold = options.compactAbove ?? COMPACT_ABOVE;
  if (table.length > threshold) return compactComparison(comparison, table, threshold);
  for (let i = 0; i < table.length; i++) comparison.items.push(table.item(i));
  return comparison;
}

/** Whether every component pair is two finite numbers, or the same non-finite value or text. */
function allFiniteOrEqual(r: Component[], p: Component[]): boolean {
  let any = false;
  for (let i = 0; i < r.length; i++) {
    const a = componentNumber(r[i]!);
    const b = componentNumber(p[i]!);
    if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) {
      if (r[i] !== p[i]) return false;
      continue;
    }
    any = true;
  }
  return any;
}
