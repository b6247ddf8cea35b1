// Sizes as people write them (`500M`, `2G`, `1.5GB`, `800KiB`, `1048576`): K, M, G and T are
// powers of 1024, as du and Docker count, with or without a trailing B or iB. Shared by
// `evidence gc --max-size` and pipeline.yaml's `cache: { max_size }`.

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$/i;

export const SIZE_EXPECTED = 'a size such as 500M, 2G or 1048576 (bytes; K, M, G, T count by 1024)';

/** Bytes, or undefined when the text is not a size. */
export function parseByteSize(raw: string | number): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  const m = SIZE.exec(raw.trim());
  if (!m) return undefined;
  // "5B" is 5 bytes, while "5b" is as surely meant; only the unit letter matters.
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A short size for people: 812 B, 3.4 KiB, 1.2 GiB. */
export function formatByteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
