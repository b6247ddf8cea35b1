// Whether a port's components are the reference's in another order, some with their sign flipped
// (axis conventions, swapped axes), and whether that order is a matrix transpose. Pure; the caller
// says what "the same value" means.

/** A bijection map with signs such that p[i] ≈ signs[i]·r[map[i]], preferring identity and +1. */
export function signedPermutation(r: number[], p: number[], same: (a: number, b: number) => boolean): { map: number[]; signs: number[] } | undefined {
  const n = r.length;
  const candidates: Array<Array<[number, number]>> = [];
  for (let i = 0; i < n; i++) {
    const c: Array<[number, number]> = [];
    const order = [i, ...[...Array(n).keys()].filter((j) => j !== i)];
    for (const j of order) {
      if (same(p[i]!, r[j]!)) c.push([j, 1]);
      else if (same(p[i]!, -r[j]!)) c.push([j, -1]);
    }
    if (!c.length) return undefined;
    candidates.push(c);
  }
  const map = new Array<number>(n);
  const signs = new Array<number>(n);
  const used = new Array<boolean>(n).fill(false);
  let steps = 0;
  const search = (i: number): boolean => {
    if (i === n) return true;
    if (++steps > 10_000) return false;
    for (const [j, s] of candidates[i]!) {
      if (used[j]) continue;
      used[j] = true;
      map[i] = j;
      signs[i] = s;
      if (search(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return search(0) ? { map, signs } : undefined;
}

export function isTranspose(map: number[], [rows, cols]: [number, number]): boolean {
  if (rows !== cols || rows * cols !== map.length) return false;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (map[i * cols + j] !== j * rows + i) return false;
  return true;
}
