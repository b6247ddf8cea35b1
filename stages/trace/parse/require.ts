// The `require` option: keys that must occur in the log with at least one real value, not a
// placeholder such as NaN, N/A or NOT_EXTRACTED (a port that could not compute a quantity often
// prints one, and a comparison against it would prove nothing). It watches the shapes the scanner
// emits and fails the parse at the end; it must not know how lines are read or how output is written.
import { StageFailure } from '../../../src/stage-api/index.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { F_NAN, FIELDS_MERGED, K_RECORD, K_STRING } = shape;

function givenLater(sh: LineShape, k: number, name: string): boolean {
  for (let j = k + 1; j < sh.n; j++) if (sh.label(j) === name) return true;
  return false;
}

// Texts that stand for "no value": a port that could not extract a quantity often prints one.
const PLACEHOLDER =
  /^(?:|n\/a|none|null|nil|undefined|nan|-nan|not[ _-]?(?:extracted|computed|available|implemented|set)|unavailable|missing|todo|tbd|placeholder|\?+|-+)$/i;

function isPlaceholderValue(raw: string, flags: number): boolean {
  return flags === 0 ? PLACEHOLDER.test(raw) : (flags & F_NAN) !== 0;
}

/** Tracks `require` keys: seen at all, and seen with a real value. Bounded memory. */
export class RequireTracker {
  private readonly state = new Map<string, { lines: number[]; ok: boolean }>();
  private pending: number;

  constructor(keys: string[]) {
    for (const k of keys) this.state.set(k, { lines: [], ok: false });
    this.pending = this.state.size;
  }

  observe(sh: LineShape, line: number): void {
    if (this.pending === 0) return;
    const st = this.state.get(sh.key());
    if (st && !st.ok) this.note(st, line, this.shapeIsPlaceholder(sh));
    if (sh.kind === K_RECORD) {
      for (let k = 0; k < sh.n; k++) {
        const name = sh.label(k);
        const fst = this.state.get(name);
        // A name given twice keeps only its last value in the document: judge that one.
        if (fst && !fst.ok && !(sh.fieldOrder === FIELDS_MERGED && givenLater(sh, k, name))) {
          this.note(fst, line, isPlaceholderValue(sh.raw(k), sh.flags[k]));
        }
      }
    }
  }

  private note(st: { lines: number[]; ok: boolean }, line: number, placeholder: boolean): void {
    if (!placeholder) {
      st.ok = true;
      this.pending--;
    } else if (st.lines.length < 5) st.lines.push(line);
  }

  private shapeIsPlaceholder(sh: LineShape): boolean {
    if (sh.kind === K_STRING) return PLACEHOLDER.test(sh.text());
    for (let k = 0; k < sh.n; k++) if (!isPlaceholderValue(sh.raw(k), sh.flags[k])) return false;
    return true;
  }

  /** Throws StageFailure('require') naming every unmet key and the file. */
  check(source: string, prefixes: string[]): void {
    if (this.pending === 0) return;
    const problems: string[] = [];
    for (const [key, st] of this.state) {
      if (st.ok) continue;
      if (st.lines.length === 0) {
        const where = prefixes.length ? ` (prefixes seen: ${prefixes.join(', ')})` : ' (no trace lines matched)';
        problems.push(`required key '${key}' not found in ${source}${where}`);
      } else {
        const lines = `line${st.lines.length > 1 ? 's' : ''} ${st.lines.join(', ')}`;
        problems.push(`required key '${key}' in ${source} holds only placeholder values (NaN, N/A, None, NOT_EXTRACTED, ...) on ${lines}`);
      }
    }
    throw new StageFailure('require', problems.join('; '));
  }
}
