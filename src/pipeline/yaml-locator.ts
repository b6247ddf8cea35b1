// Maps places in pipeline.yaml (a path of keys and indices, or a byte offset) to line and column,
// and makes located diagnostics: the yaml library keeps every node's range. A mapping's keys are
// indexed on first use: a pipeline of thousands of stages asks for each stage's nodes.
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import type { SourceLoc } from './model.js';

export type PathSeg = string | number;

/** Mappings up to this many keys are searched in place rather than indexed. */
const SCAN_UP_TO = 16;

export class Locator {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
    readonly source = '',
  ) {}

  locOfOffset(offset: number, length = 1): SourceLoc {
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col, length };
  }

  locOfNode(node: Node | null | undefined): SourceLoc {
    if (!node?.range) return { line: 1, column: 1 };
    const [start, valueEnd] = node.range;
    return this.locOfOffset(start, Math.max(1, Math.min(valueEnd - start, 80)));
  }

  /**
   * Where `needle`, found at `index` of a scalar's value, is written: the same occurrence of it in
   * the node's source text (quotes, escapes and folded lines move offsets, not the needle's own
   * characters when it holds none of them, as a `${params.x}` reference does).
   */
  locOfText(node: Node | null | undefined, value: string, index: number, needle: string): SourceLoc {
    if (!node?.range) return this.locOfNode(node);
    let nth = 0;
    for (let j = value.indexOf(needle); j >= 0 && j < index; j = value.indexOf(needle, j + 1)) nth++;
    const [start, end] = node.range;
    const written = this.source.slice(start, end);
    let at = written.indexOf(needle);
    for (let k = 0; k < nth && at >= 0; k++) at = written.indexOf(needle, at + 1);
    return at < 0 ? this.locOfNode(node) : this.locOfOffset(start + at, needle.length);
  }

  /** Indexes of large mappings (a Locator lives for one load, so a plain Map holds them). */
  private readonly pairs = new Map<YAMLMap, Map<string, Pair>>();

  private pairOf(map: YAMLMap, key: PathSeg): Pair | undefined {
    const name = String(key);
    // A stage's own mapping has a handful of keys: scanning them costs less than indexing each.
    if (map.items.length <= SCAN_UP_TO) {
      for (const item of map.items) if (isPair(item) && isScalar(item.key) && String(item.key.value) === name) return item;
      return undefined;
    }
    let index = this.pairs.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      this.pairs.set(map, index);
    }
    return index.get(name);
  }

  node(path: PathSeg[]): Node | undefined {
    let cur = this.doc.contents as unknown;
    for (const seg of path) {
      if (isMap(cur)) cur = this.pairOf(cur, seg)?.value;
      else if (isSeq(cur) && /^\d+$/.test(String(seg))) cur = cur.items[Number(seg)];
      else return undefined;
    }
    return (cur as Node | null | undefined) ?? undefined;
  }

  /** The key node of `key` inside the map at `path` (for errors about the key itself). */
  keyNode(path: PathSeg[], key: string): Node | undefined {
    const parent = path.length ? this.node(path) : this.doc.contents;
    if (!isMap(parent)) return undefined;
    return (this.pairOf(parent, key)?.key as Node | undefined) ?? undefined;
  }

  /** The deepest existing node along `path`. */
  nearest(path: PathSeg[]): Node | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? (this.doc.contents as Node | null) : this.node(path.slice(0, n));
      if (node) return node;
    }
    return undefined;
  }

  diag(loc: SourceLoc, message: string, hint?: string): Diagnostic {
    return { file: this.file, line: loc.line, column: loc.column, length: loc.length, message, hint };
  }
}
