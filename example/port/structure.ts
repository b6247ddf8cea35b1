// Structure factors: the `h k l F` table read from an -hkl file and the
// nearest-neighbour lookup with default_F outside it. Works on the file's text;
// reading the file is the caller's business.

export interface HklTable {
  /** reflections read; 0 means every structure factor is defaultF */
  readonly count: number;
  readonly defaultF: number;
  readonly min: readonly [number, number, number];
  readonly max: readonly [number, number, number];
  readonly F: Float64Array;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function emptyTable(defaultF: number): HklTable {
  return { count: 0, defaultF, min: [0, 0, 0], max: [-1, -1, -1], F: new Float64Array(0) };
}

/** Like nanoBragg, reads `h k l F` quadruples until the first thing that is not one. */
export function parseHklTable(text: string, defaultF: number): HklTable {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  const rows: Array<[number, number, number, number]> = [];
  for (let i = 0; i + 3 < tokens.length; i += 4) {
    const quad = tokens.slice(i, i + 4);
    if (!quad.every((t) => NUMBER.test(t))) break;
    const [h, k, l, F] = quad.map(Number) as [number, number, number, number];
    rows.push([Math.trunc(h), Math.trunc(k), Math.trunc(l), F]);
  }
  if (rows.length === 0) return emptyTable(defaultF);
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (const row of rows) {
    for (let axis = 0; axis < 3; axis++) {
      min[axis] = Math.min(min[axis]!, row[axis]!);
      max[axis] = Math.max(max[axis]!, row[axis]!);
    }
  }
  const [nh, nk, nl] = [max[0] - min[0] + 1, max[1] - min[1] + 1, max[2] - min[2] + 1];
  const F = new Float64Array(nh * nk * nl).fill(defaultF);
  for (const [h, k, l, value] of rows) F[((h - min[0]) * nk + (k - min[1])) * nl + (l - min[2])] = value;
  return { count: rows.length, defaultF, min, max, F };
}

/** Structure factor of the nearest reflection; indices outside the file's box get defaultF. */
export function lookupF(table: HklTable, h: number, k: number, l: number): number {
  if (table.count === 0) return table.defaultF;
  const { min, max } = table;
  if (h < min[0] || h > max[0] || k < min[1] || k > max[1] || l < min[2] || l > max[2]) return table.defaultF;
  const nk = max[1] - min[1] + 1;
  const nl = max[2] - min[2] + 1;
  return table.F[((h - min[0]) * nk + (k - min[1])) * nl + (l - min[2])]!;
}
