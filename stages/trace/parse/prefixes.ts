// Which line prefixes a parse keeps (the `prefix` option, or by default every TRACE_[A-Z0-9_]+
// token), and the table of those met so far, whose index the writers use to cache per-prefix
// bytes. Knows nothing of what follows the prefix on a line.
import * as shape from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { isDigit, sameBytes } = shape;

/** The prefixes a scan keeps, and the table of those it has met. */
export class PrefixTable {
  /** Prefixes met, in order of first appearance, with their UTF-8 bytes. */
  readonly seen: string[] = [];
  private readonly seenBytes: Buffer[] = [];
  private readonly allowed: Buffer[] | undefined;

  constructor(prefix: string | string[] | undefined) {
    const list = prefix === undefined ? [] : Array.isArray(prefix) ? [...new Set(prefix)] : [prefix];
    for (const p of list) {
      if (typeof p !== 'string' || p.length === 0 || /[\s:]/.test(p)) {
        throw new TypeError(`invalid trace prefix ${JSON.stringify(p)}: a prefix is one token without blanks or ':'`);
      }
    }
    this.allowed = list.length ? list.map((p) => Buffer.from(p, 'utf8')) : undefined;
  }

  /** Index in `seen` of the prefix b[a, e), or -1 when it is not kept. */
  match(b: Buffer, a: number, e: number): number {
    const n = e - a;
    const seen = this.seenBytes;
    for (let k = 0; k < seen.length; k++) if (sameBytes(seen[k], b, a, n)) return k;
    if (this.allowed) {
      for (const p of this.allowed) if (sameBytes(p, b, a, n)) return this.add(p);
      return -1;
    }
    // Default: TRACE_[A-Z0-9_]+
    if (n < 7 || b[a] !== 84 || b[a + 1] !== 82 || b[a + 2] !== 65 || b[a + 3] !== 67 || b[a + 4] !== 69 || b[a + 5] !== 95) return -1;
    for (let i = a + 6; i < e; i++) {
      const c = b[i];
      if (!((c >= 65 && c <= 90) || isDigit(c) || c === 95)) return -1;
    }
    return this.add(Buffer.from(b.subarray(a, e)));
  }

  private add(bytes: Buffer): number {
    this.seenBytes.push(bytes);
    this.seen.push(bytes.toString('utf8'));
    return this.seen.length - 1;
  }
}
