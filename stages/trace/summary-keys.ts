// What a summary says of a compact comparison (compact.ts): a note on what its tables hold, and
// every key with its items counted by status (and within round-off) and its largest Δ rel, read
// from the columns that keep every item. Pure text.
import { relAt, roundOffAt, statusAt } from './compact.js';
import type { Comparison } from './comparison.js';
import { STATUSES } from './status.js';
import { code, formatDelta } from './summary-text.js';

/** Keys listed before the table counts the rest. */
const MAX_KEYS = 200;

export function compactNote(c: Comparison): string[] {
  const k = c.compact!;
  return [
    `This comparison is compact: it has ${k.items} items, more than ${k.threshold}, so it keeps the detail of ${c.items.length} of them ` +
      '(those beyond round-off, those they point at, and the few named above); every item\'s key, status and Δ rel are in its `compact` columns, counted by key below.',
    '',
  ];
}

/** Every key with its item count per status, its items within round-off, and its largest Δ rel. */
export function keyTable(c: Comparison): string[] {
  const k = c.compact!;
  const rows = k.keys.map(() => ({ counts: STATUSES.map(() => 0), roundOff: 0, rel: null as number | null }));
  for (let i = 0; i < k.items; i++) {
    const row = rows[k.key[i]!]!;
    row.counts[STATUSES.indexOf(statusAt(c, i))]!++;
    if (roundOffAt(c, i)) row.roundOff++;
    const r = relAt(c, i);
    if (r !== null && (row.rel === null || r > row.rel)) row.rel = r;
  }
  const out = ['Items by key:', '', `| key | items | ${STATUSES.join(' | ')} | within round-off | largest Δ rel |`, `|---|---|${STATUSES.map(() => '---|').join('')}---|---|`];
  rows.slice(0, MAX_KEYS).forEach((row, id) => {
    const total = row.counts.reduce((a, b) => a + b, 0);
    out.push(`| ${code(k.keys[id]!)} | ${total} | ${row.counts.join(' | ')} | ${row.roundOff} | ${formatDelta(row.rel)} |`);
  });
  if (rows.length > MAX_KEYS) out.push(`| … ${rows.length - MAX_KEYS} more keys |${' |'.repeat(STATUSES.length + 3)}`);
  out.push('');
  return out;
}
