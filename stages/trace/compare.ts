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
// Pure: no files, no printing. Must stay fast: a million records per side in well under 3 s.
import type { ComparedItem, Comparison, CompareOptions, Component, Diagnosis, ToleranceSpec } from './comparison.js';
import { DEFAULT_TOLERANCE } from './comparison.js';
import { compareInto, componentNumber, componentsOf, magnitudeOf, sameLabels, sameShape, signedDeltas, type PrecisionSource } from './components.js';
import { diagnose } from './diagnose.js';
import { SEP, traceFamily } from './family.js';
import { readOnsets } from './onsets.js';
import { indexSide, matchKey, pairRecords, type Decision, type Group, type Tolerance } from './pairing.js';
import { budgetAt, effectivePrecision, keyPrecision, lessPrecise, precisionLabel, sidePrecision, ulpIn, type Precision, BUDGET_ULPS, FLOOR_ULPS } from './precision.js';
import type { TraceDocument, TraceRecord } from './record.js';
import { relateItems } from './relations.js';
import { compilePatterns, resolveTol, targetsSelectors } from './selection.js';
import { findingCheckpoints, summarise } from './summarise.js';

export * from './comparison.js';
export { STATUSES, type Status } from './status.js';
export { traceFamily } from './family.js';
export { compareComponents, type Outcome } from './components.js';
export { itemMatchesKey } from './summarise.js';

export function compareTraces(reference: TraceDocument, port: TraceDocument, options: CompareOptions = {}): Comparison {
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
  const refFamily = options.families?.reference ?? traceFamily(reference);
  const portFamily = options.families?.port ?? traceFamily(port);
  const refPrecision = sidePrecision(reference);
  const portPrecision = sidePrecision(port);

  // Index both traces into groups of records sharing an identity, then pair them.
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
  pairRecords(groups, ref, prt, options.matchBy);

  // The precision of a group's field on both sides, computed the first time an item needs it.
  const precisionOf = (g: Group, field: string | undefined): Precision => {
    g.precision ??= new Map();
    const memoKey = field ?? '';
    let p = g.precision.get(memoKey);
    if (!p) {
      const rk = keyPrecision(reference.records, g.ref, field);
      const pk = keyPrecision(port.records, g.port, field);
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

  const emit = (g: Group, ri: number, pi: number, field: string | undefined, r: Component[] | null, p: Component[] | null, labels: string[] | undefined) => {
    const rr = ri >= 0 ? reference.records[ri] : undefined;
    const pr = pi >= 0 ? port.records[pi] : undefined;
    const main = (rr ?? pr)!;
    const occ = ri >= 0 ? ref.occ[ri]! : prt.occ[pi]!;
    const key = rr ? g.refName! : g.portName!;
    const portKey = rr && pr && g.portName !== undefined && g.portName !== key ? g.portName : undefined;
    let selector = '';
    let match: ComparedItem['match'];
    if (g.matchField !== undefined && main.kind === 'record' && main.fields && g.matchField in main.fields) {
      const value = main.fields[g.matchField]!;
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
      // deltas, diagnoses, tolerance and the round-off fields are added only to the few items that
      // need them: a million MATCH items should not carry empty slots each.
    };
    if (r && p) {
      const t = decision.tol ?? baseTol;
      const refShape = field === undefined ? rr!.shape : undefined;
      const portShape = field === undefined ? pr!.shape : undefined;
      const exact = field === undefined && rr!.kind === 'integer' && pr!.kind === 'integer';
      let detail: boolean;
      if (!sameShape(refShape, portShape)) {
        item.status = 'CRITICAL';
        detail = true;
      } else {
        source.g = g;
        source.field = field;
        detail = compareInto(item, r, p, t, exact, source);
      }
      if (decision.tol) item.tolerance = { ...decision.tol };
      if (detail) describeDifference(item, g, field, r, p, t, exact, refShape, portShape, labels);
    }
    items.push(item);
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
        emit(g, ri, pi, f, [rf[f]!], pr ? (f in pf ? [pf[f]!] : null) : null, undefined);
      }
      if (pr) {
        for (const f of Object.keys(pf)) {
          if (f === skip || (rr && f in rf)) continue;
          emit(g, ri, pi, f, null, [pf[f]!], undefined);
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

  for (let i = 0; i < ref.records.length; i++) emitPair(ref.group[i]!, i, ref.pair[i]!);
  for (let j = 0; j < prt.records.length; j++) if (prt.pair[j]! < 0) emitPair(prt.group[j]!, -1, j);

  relateItems(items);
  const failOn = options.failOn ?? 'never';
  const summary = summarise(items, ignored, failOn, options.checkpoints ?? []);
  const findings = readOnsets(items).map((f) => ({ ...f, checkpoints: findingCheckpoints(f.index, items, summary.checkpoints) }));
  return {
    format: 'evidence-comparison/1',
    reference: { source: reference.source, family: refFamily, records: reference.records.length },
    port: { source: port.source, family: portFamily, records: port.records.length },
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
    items,
  };
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
