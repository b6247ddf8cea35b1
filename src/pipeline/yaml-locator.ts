// Maps places in pipeline.yaml (a path of keys and indices, or a byte offset) to line and column,
// and makes located diagnostics: the yaml library keeps every node's range.
import { isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import type { SourceLoc } from './model.js';

export type PathSeg = string | number;

export class Locator {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
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

  node(path: PathSeg[]): Node | undefined {
    return (this.doc.getIn(path, true) as Node | undefined) ?? undefined;
  }

  /** The key node of `key` inside the map at `path` (for errors about the key itself). */
  keyNode(path: PathSeg[], key: string): Node | undefined {
    const parent = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(parent)) return undefined;
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key as Node;
    }
    return undefined;
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
