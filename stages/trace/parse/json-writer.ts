// The streaming writer of the trace document: each emitted LineShape becomes one record of JSON,
// written as bytes into reused output buffers that the caller takes and writes out (stream.ts). It
// must not know about files, sinks or the document's opening and closing (stream.ts writes those),
// nor how lines are read. It owns the input buffers too, lent to the file reader, so that numbers
// can be copied from input to output within one allocation.
import * as json from './json-bytes.js';
import { RecordHeads, RecordNumbering } from './record-heads.js';
import { fieldsJson, fieldsOf } from './records.js';
import * as shape from './shape.js';
import type { Emit } from './shape.js';

// Module consts, not imported bindings, for the hot loops: see stages/trace/parse.ts.
const { ascii, put, putNumbers, putQuoted, putUint, putValue } = json;
const { COLON, COMMA, FIELDS_AS_WRITTEN, K_INTEGER, K_MATRIX, K_NUMBER, K_PARTS, K_RECORD, K_STRING, K_VECTOR, RBRACE, RBRACKET } = shape;

const OUT_BYTES = 8 << 20;

const J_SHAPE = ascii('],"shape":[');
const J_LABEL_FIRST = ascii('{"label":');
const J_LABEL = ascii(',{"label":');
const J_VALUE = ascii(',"value":');
const J_UNIT = ascii(',"unit":');
const J_DTYPE = ascii(',"dtype":');

/**
 * Writes records as JSON (one per line) into a byte buffer, straight from a LineShape's offsets:
 * bytes of keys and numbers are copied, only non-ASCII or escaped text is decoded and re-encoded.
 */
export class RecordJsonWriter {
  /**
   * One allocation holds the two input buffers that scanFile fills (inputBytes each) and the two
   * output buffers, so that numbers go from input to output by arena.copyWithin at offsets known in
   * advance: 22 ns a call against ~60 for a byte loop over 50 bytes, Buffer.copy or set(subarray)
   * (reading .buffer and .byteOffset on each call made it 80): 45 ms per 200 MB.
   */
  private readonly arena: Uint8Array;
  readonly inputs: [Buffer, Buffer];
  /** The output buffer and its offset in the arena (-1 once outgrown by a huge record). */
  buf: Buffer;
  private bufAt: number;
  pos = 0;
  private readonly heads = new RecordHeads();
  private readonly numbering = new RecordNumbering();

  constructor(private readonly inputBytes: number) {
    // Not zero-filled (every byte is written before it is read): zeroing 20 MB cost a small log 1 ms.
    const ab = Buffer.allocUnsafeSlow(2 * inputBytes + 2 * OUT_BYTES).buffer;
    this.arena = new Uint8Array(ab);
    this.inputs = [Buffer.from(ab, 0, inputBytes), Buffer.from(ab, inputBytes, inputBytes)];
    this.bufAt = 2 * inputBytes;
    this.buf = Buffer.from(ab, this.bufAt, OUT_BYTES);
    this.spareAt = this.bufAt + OUT_BYTES;
    this.spare = Buffer.from(ab, this.spareAt, OUT_BYTES);
  }

  /** Room for `n` more bytes. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.bufAt = -1;
  }

  readonly emit: Emit = (sh, seq, line) => {
    const n = sh.n;
    // Text grows at most 6-fold when escaped (the prefix is written twice at most), a number takes
    // at most 32 bytes.
    this.ensure(6 * sh.lineBytes + 12 * sh.prefix.length + 48 * n + 256);
    const out = this.buf;
    const s = sh.src;
    let p = this.numbering.put(out, this.pos, seq, line);
    p = this.heads.put(out, p, sh);
    switch (sh.kind) {
      case K_NUMBER:
      case K_INTEGER:
      case K_VECTOR:
      case K_MATRIX:
        p = putNumbers(out, p, sh, this.arena, this.bufAt, s === this.inputs[0] ? 0 : s === this.inputs[1] ? this.inputBytes : -1);
        if (sh.kind === K_MATRIX) {
          p = put(out, p, J_SHAPE);
          p = putUint(out, p, sh.rows);
          out[p++] = COMMA;
          p = putUint(out, p, sh.cols);
        }
        out[p++] = RBRACKET;
        if (sh.unitA >= 0) {
          p = put(out, p, J_UNIT);
          p = putQuoted(out, p, s, sh.unitA, sh.unitB);
        }
        if (sh.dtype !== '') {
          p = put(out, p, J_DTYPE);
          p = p + out.write(JSON.stringify(sh.dtype), p, 'latin1'); // [a-z0-9_]+: ASCII
        }
        break;
      case K_PARTS:
        for (let k = 0; k < n; k++) {
          p = put(out, p, k === 0 ? J_LABEL_FIRST : J_LABEL);
          p = putQuoted(out, p, s, sh.la[k], sh.lb[k]);
          p = put(out, p, J_VALUE);
          p = putValue(out, p, s, sh.va[k], sh.vb[k], sh.flags[k]);
          out[p++] = RBRACE;
        }
        out[p++] = RBRACKET;
        break;
      case K_RECORD:
        if (sh.fieldOrder !== FIELDS_AS_WRITTEN) {
          // Rare: written as the object every reader makes of it. Within the room ensured above:
          // text grows at most 6-fold, a number's JSON takes at most 24 bytes.
          p += out.write(fieldsJson(fieldsOf(sh)), p, 'utf8');
          out[p++] = RBRACE;
          break;
        }
        for (let k = 0; k < n; k++) {
          if (k > 0) out[p++] = COMMA;
          p = putQuoted(out, p, s, sh.la[k], sh.lb[k]);
          out[p++] = COLON;
          p = putValue(out, p, s, sh.va[k], sh.vb[k], sh.flags[k]);
        }
        out[p++] = RBRACE;
        break;
      case K_STRING:
        p = putQuoted(out, p, s, sh.textA, sh.textB);
        break;
    }
    out[p++] = RBRACE;
    this.pos = p;
  };

  /**
   * The bytes written so far. The writer continues in its other buffer, so these stay valid until
   * `recycle()` says they have been written out (at most one take is in flight).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.taken = this.buf;
    this.takenAt = this.bufAt;
    if (this.spare) {
      this.buf = this.spare;
      this.bufAt = this.spareAt;
    } else {
      this.buf = Buffer.allocUnsafe(this.buf.length);
      this.bufAt = -1;
    }
    this.spare = undefined;
    this.pos = 0;
    return out;
  }

  /** The last take has been written: its buffer may be reused. */
  recycle(): void {
    this.spare = this.taken;
    this.spareAt = this.takenAt;
    this.taken = undefined;
  }
  private taken: Buffer | undefined;
  private takenAt = -1;
  private spare: Buffer | undefined;
  private spareAt: number;
}
