// A parsed line straight into columns (../columns.ts), for compare's one-off command given a raw
// log: a million records in columns instead of a million objects. The values are the ones
// shapeToRecord gives (records.ts); a record line whose fields an object would reorder or merge
// (a repeated name, a name like an index) is kept whole, as that object.
import { ColumnsBuilder, type TraceColumns } from '../columns.js';
import * as numbers from './numbers.js';
import { shapeToRecord } from './records.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { toNum } = numbers;
const { FIELDS_AS_WRITTEN, K_INTEGER, K_MATRIX, K_NUMBER, K_PARTS, K_RECORD, K_STRING, K_VECTOR } = shape;

/** Column kind codes (columns.ts) of the scanner's kinds (shape.ts). */
const CODE: Record<number, number> = { [K_NUMBER]: 0, [K_INTEGER]: 1, [K_VECTOR]: 2, [K_MATRIX]: 3, [K_STRING]: 4, [K_PARTS]: 5, [K_RECORD]: 6 };

export class ColumnsEmitter {
  readonly b: ColumnsBuilder;
  private prefixId = new Map<string, number>();

  constructor(records = 1024) {
    this.b = new ColumnsBuilder(records, records * 3);
  }

  readonly emit = (sh: LineShape, seq: number, line: number): void => {
    const b = this.b;
    if (sh.kind === K_RECORD && sh.fieldOrder !== FIELDS_AS_WRITTEN) {
      b.whole(shapeToRecord(sh, seq, line));
      return;
    }
    let prefix = this.prefixId.get(sh.prefix);
    if (prefix === undefined) this.prefixId.set(sh.prefix, (prefix = b.intern(sh.prefix)));
    b.begin();
    const value = (k: number) => {
      const v = sh.flags[k] ? toNum(sh.raw(k), sh.flags[k]) : sh.raw(k);
      if (typeof v === 'number') b.number(v);
      else b.string(v);
    };
    switch (sh.kind) {
      case K_NUMBER:
      case K_INTEGER:
      case K_VECTOR:
      case K_MATRIX: {
        for (let k = 0; k < sh.n; k++) {
          const v = toNum(sh.raw(k), sh.flags[k]);
          if (typeof v === 'number') b.number(v);
          else b.string(v);
        }
        const unit = sh.unitA >= 0 ? sh.unit() : undefined;
        if (sh.kind === K_MATRIX || unit !== undefined || sh.dtype !== '') {
          b.setExtra({ ...(sh.kind === K_MATRIX ? { shape: [sh.rows, sh.cols] as [number, number] } : {}), ...(unit !== undefined ? { unit } : {}), ...(sh.dtype !== '' ? { dtype: sh.dtype } : {}) });
        }
        break;
      }
      case K_PARTS:
      case K_RECORD:
        for (let k = 0; k < sh.n; k++) {
          value(k);
          b.label(b.intern(sh.label(k)));
        }
        break;
      case K_STRING:
        b.setExtra({ text: sh.text() });
        break;
    }
    b.setKeys(prefix, b.intern(sh.key()), CODE[sh.kind]!, line);
    b.end();
  };

  finish(meta: Parameters<ColumnsBuilder['finish']>[0]): TraceColumns {
    return this.b.finish(meta);
  }
}
