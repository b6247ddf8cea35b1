// Values as Python prints them, and numbers followed by a unit: `tensor([1.0000, 2.0000])`,
// `tensor(1.5, dtype=torch.float64)`, `array([[1., 2.], [3., 4.]], dtype=float32)`,
// `np.float64(1.5)`, `[[1, 2], [3, 4]]`, `1,2,3`, `0.9768 Å`, `1e-06 Å^-3`, `tensor(0.97) Å`.
// The scanner asks this only for a value that read as neither numbers nor parts (a line that would
// otherwise be kept as text), so it costs the common lines nothing. It fills a LineShape's values,
// shape, unit and dtype; it knows nothing of keys, prefixes or output.
import * as numbers from './numbers.js';
import * as shape from './shape.js';
import type { LineShape } from './shape.js';

const { classifyNumber } = numbers;
const { COMMA, F_INT, K_INTEGER, K_MATRIX, K_NUMBER, K_VECTOR, LBRACKET, LPAREN, RBRACKET, RPAREN, isBlank, latin1, utf8 } = shape;

// A unit: atoms such as m, mm, keV, Å, rad, photons, each with an optional power (`^-3`, `^2`),
// joined by '/', '*' or '·'. Only known atoms (with an SI prefix where one makes sense), so that
// `10 done` or `5 pixels wide` stay text.
const PREFIXED = '(?:[pnuµμmcdkMGT]?(?:m|s|g|eV|rad|sr|Hz|J|W|N|Pa|K|A|Gy|Sv))';
const NAMED = '(?:Å|Ang|[Aa]ngstroms?|ångströms?|[Mm]et(?:er|re)s?|[Ss]ec(?:ond)?s?|deg(?:rees?)?|°|%|photons?|ph|counts?|electrons?|e-|pixels?|px|mol|barns?)';
const ATOM = `(?:${NAMED}|${PREFIXED})(?:\\^?[-+]?\\d+)?`;
const UNIT = new RegExp(`^${ATOM}(?:[/*·]${ATOM})*$`, 'u');

const MAX_UNIT = 32;

/** Whether src[a, e) is a unit. */
function isUnit(b: Buffer, a: number, e: number): boolean {
  const c = b[a];
  // Starts with a letter, '%' or a multi-byte character (Å, µ, °), never with a digit or sign.
  if (e - a > MAX_UNIT || !((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 37 || c >= 0xc0)) return false;
  return UNIT.test(utf8(b, a, e));
}

// `tensor(`, `array(`, `np.NAME(` and `numpy.NAME(`, `torch.tensor(`.
const WRAPPER = /^(?:torch\.)?(?:tensor|array)\(|^(?:np|numpy)\.([a-z][a-z0-9_]*)\(/;
const DTYPE = /^(?:torch\.|np\.|numpy\.)?([a-z][a-z0-9_]*)$/;

/** Whether src[a, e) starts a tensor or array printout (`F=tensor(1.5, dtype=...)` is not a record line). */
export function startsPrintout(b: Buffer, a: number, e: number): boolean {
  const c = b[a];
  if (c !== 116 && c !== 97 && c !== 110) return false; // t, a, n
  return WRAPPER.test(latin1(b, a, Math.min(e, a + 24)));
}

/**
 * Reads src[a, e) (trimmed) into sh as a number, vector or matrix with its unit and dtype; false
 * when it is not one, sh's values then being garbage that the caller overwrites.
 */
export function readPrintout(sh: LineShape, b: Buffer, a: number, e: number): boolean {
  // A unit is the last blank-separated token.
  let ve = e;
  let ts = e;
  while (ts > a && !isBlank(b[ts - 1])) ts--;
  if (ts > a && isUnit(b, ts, e)) {
    sh.unitA = ts;
    sh.unitB = e;
    ve = ts;
    while (ve > a && isBlank(b[ve - 1])) ve--;
  }
  let da = a;
  let de = ve;
  const wrapped = WRAPPER.exec(latin1(b, a, Math.min(ve, a + 24)));
  if (wrapped) {
    if (b[ve - 1] !== RPAREN) return false;
    if (wrapped[1] !== undefined && wrapped[1] !== 'array') sh.dtype = wrapped[1]; // np.float64(1.5)
    da = a + wrapped[0].length;
    de = ve - 1;
    // Keyword arguments (dtype=..., device='cuda:0', grad_fn=<MulBackward0>) follow the data
    // after the first ',' outside brackets that is followed by a name.
    let depth = 0;
    for (let i = da; i < de; i++) {
      const c = b[i];
      if (c === LBRACKET || c === LPAREN) depth++;
      else if (c === RBRACKET || c === RPAREN) depth--;
      else if (c === COMMA && depth === 0) {
        let j = i + 1;
        while (j < de && isBlank(b[j])) j++;
        const n = b[j] | 32;
        if (n >= 97 && n <= 122 && !startsNonFinite(b, j, de)) {
          if (!readKeywords(sh, b, j, de)) return false;
          de = i;
          break;
        }
      }
    }
  }
  while (da < de && isBlank(b[da])) da++;
  while (de > da && isBlank(b[de - 1])) de--;
  if (da >= de) return false;
  if (wrapped !== null || sh.unitA >= 0) return b[da] === LBRACKET ? readNested(sh, b, da, de) : readList(sh, b, da, de);
  // Bare, `1,2,3` is new; a plain number or bracketed list was read by the scanner already, and
  // `[[1, 2], [3, 4]]` or `1,5` (a decimal comma?) stay text.
  return b[da] !== LBRACKET && readList(sh, b, da, de) && !(sh.n === 2 && sh.flags[0] & sh.flags[1] & F_INT);
}

/** nan or inf (`tensor(nan)`): a value, not a keyword. */
function startsNonFinite(b: Buffer, i: number, e: number): boolean {
  const s = latin1(b, i, Math.min(e, i + 3)).toLowerCase();
  return s === 'nan' || s === 'inf';
}

/** `dtype=torch.float32, device='cuda:0'`: keeps the dtype; false on anything but name=value items. */
function readKeywords(sh: LineShape, b: Buffer, a: number, e: number): boolean {
  for (const item of utf8(b, a, e).split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return false;
    if (item.slice(0, eq).trim() !== 'dtype') continue;
    const m = DTYPE.exec(item.slice(eq + 1).trim());
    if (!m) return false;
    sh.dtype = m[1];
  }
  return true;
}

/** Cuts the number token at b[i] (it ends at a blank, ',', '[' or ']'); its end, or -1. */
function pushNumber(sh: LineShape, b: Buffer, i: number, e: number): number {
  let j = i;
  while (j < e) {
    const c = b[j];
    if (isBlank(c) || c === COMMA || c === LBRACKET || c === RBRACKET) break;
    j++;
  }
  const f = classifyNumber(b, i, j);
  if (f === 0) return -1;
  const n = sh.n++;
  sh.va[n] = i;
  sh.vb[n] = j;
  sh.flags[n] = f;
  return j;
}

/** `1.5`, `1,2,3`, `1, 2`, `1 2`: a number or a vector; one comma at most between two numbers. */
function readList(sh: LineShape, b: Buffer, a: number, e: number): boolean {
  sh.n = 0;
  let i = a;
  let comma = true; // before the first number: no comma allowed
  while (i < e) {
    const c = b[i];
    if (isBlank(c)) i++;
    else if (c === COMMA) {
      if (comma) return false;
      comma = true;
      i++;
    } else {
      i = pushNumber(sh, b, i, e);
      if (i < 0) return false;
      comma = false;
    }
  }
  if (sh.n === 0 || comma) return false;
  sh.kind = sh.n > 1 ? K_VECTOR : sh.flags[0] & F_INT ? K_INTEGER : K_NUMBER;
  return true;
}

/** `[1., 2.]` or `[[1, 2], [3, 4]]` (numbers comma- or blank-separated): a vector or a matrix. */
function readNested(sh: LineShape, b: Buffer, a: number, e: number): boolean {
  sh.n = 0;
  let depth = 0;
  let maxDepth = 0;
  let rows = 0;
  let cols = -1;
  let inRow = 0;
  let flat = 0; // numbers directly inside the outer brackets
  let closed = false;
  let i = a;
  while (i < e) {
    const c = b[i];
    if (isBlank(c) || c === COMMA) {
      i++;
      continue;
    }
    if (closed) return false; // `[1][2]`
    if (c === LBRACKET) {
      if (++depth > 2) return false;
      if (depth > maxDepth) maxDepth = depth;
      inRow = 0;
      i++;
      continue;
    }
    if (c === RBRACKET) {
      if (depth === 2) {
        if (inRow === 0 || (cols >= 0 && cols !== inRow)) return false;
        cols = inRow;
        rows++;
      }
      if (--depth === 0) closed = true;
      i++;
      continue;
    }
    if (depth === 0) return false;
    i = pushNumber(sh, b, i, e);
    if (i < 0) return false;
    if (depth === 2) inRow++;
    else flat++;
  }
  if (!closed || sh.n === 0) return false;
  if (maxDepth === 2) {
    if (flat > 0) return false;
    if (rows > 1) {
      sh.kind = K_MATRIX;
      sh.rows = rows;
      sh.cols = cols;
      return true;
    }
  }
  sh.kind = K_VECTOR; // a one-row matrix is a vector, as between plain brackets
  return true;
}
