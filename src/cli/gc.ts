// `evidence gc [--keep-last N] [--max-size SIZE] [--dry-run] [--wait] [--json]`: trims the local
// store (src/cache/gc-plan.ts decides, gc.ts removes) while holding the project's run lock, so
// that no run writes the store or reads half of it meanwhile. Another run holding the lock makes
// gc refuse at once (exit 1), or with --wait, wait for it up to WAIT_LIMIT_MS and then refuse.
import { dirname, join, resolve } from 'node:path';
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';
import { abortOnInterrupt } from './interrupts.js';
import { Workspace, ensureStateDir } from '../cache/workspace.js';
import { collectGarbage, type GcPlan } from '../cache/gc.js';
import { acquireRunLock, describeHolder } from '../run/run-lock.js';
import { readRunRecords } from '../run/run-record.js';
import { formatByteSize, parseByteSize, SIZE_EXPECTED } from '../pipeline/byte-size.js';

/** Without --keep-last or --max-size: what the last DEFAULT_KEEP_LAST runs made or used stays. */
export const DEFAULT_KEEP_LAST = 5;
/** How long --wait waits for the run holding the project before gc gives up (exit 1). */
const WAIT_LIMIT_MS = 10 * 60_000;

export function parseKeepLast(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw)) || !Number.isSafeInteger(n)) throw new UsageError(`--keep-last expects a whole number of runs ≥ 0, got '${raw}'`);
  return n;
}

export function parseMaxSize(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const bytes = parseByteSize(String(raw));
  if (bytes === undefined) throw new UsageError(`--max-size expects ${SIZE_EXPECTED}, got '${raw}'`);
  return bytes;
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const tally = (t: { objects: number; records: number; bytes: number }) => `${counted(t.objects, 'object')} and ${counted(t.records, 'run record')}, ${formatByteSize(t.bytes)}`;

function describe(plan: GcPlan, o: { dryRun: boolean; keepLast?: number; maxSize?: number }): string {
  const lines = [
    `${o.dryRun ? 'would free' : 'freed'} ${tally(plan.freed)}${o.dryRun ? ' (dry run: nothing was deleted)' : ''}`,
    `kept ${tally(plan.kept)}; evidence.lock names ${tally(plan.live)}`,
  ];
  const aside = plan.quarantine.files.length;
  if (aside) lines.push(`${o.dryRun ? 'would remove' : 'removed'} ${counted(aside, 'file')} set aside as corrupt (.evidence/cache/corrupt/, never restored from), ${formatByteSize(plan.quarantine.bytes)}`);
  if (o.keepLast !== undefined) {
    const since = plan.keptSince ? ` (since ${plan.keptSince})` : '';
    if (o.keepLast === 0) lines.push('retention: only what evidence.lock names (--keep-last 0)');
    else if (plan.runs <= o.keepLast) lines.push(`retention: every run so far (${plan.runs}) is among the last ${o.keepLast}: nothing is removed for age`);
    else lines.push(`retention: what the last ${o.keepLast} of ${counted(plan.runs, 'run')} made or used${since}`);
  }
  if (o.maxSize !== undefined && plan.overBudget) {
    lines.push(`warning: the store still takes ${formatByteSize(plan.kept.bytes)}, above --max-size ${formatByteSize(o.maxSize)}: what evidence.lock names is never removed`);
  }
  return lines.map((l) => `gc: ${l}\n`).join('');
}

export async function gcVerb(inv: Invocation): Promise<number> {
  const v = inv.values;
  if (inv.positionals.length) throw new UsageError(`gc takes no arguments, got '${inv.positionals[0]}'`);
  const maxSize = parseMaxSize(v['max-size']);
  const given = parseKeepLast(v['keep-last']);
  const keepLast = given ?? (maxSize === undefined ? DEFAULT_KEEP_LAST : undefined);
  const dryRun = Boolean(v['dry-run']);
  const root = dirname(resolve(v.file as string));
  const stateDir = join(root, '.evidence');
  ensureStateDir(stateDir);

  const interrupt = new AbortController();
  const stopListening = abortOnInterrupt(interrupt);
  const signal = AbortSignal.any([interrupt.signal, AbortSignal.timeout(WAIT_LIMIT_MS)]);
  try {
    const got = await acquireRunLock(stateDir, {
      argv: ['evidence', ...process.argv.slice(2)],
      wait: Boolean(v.wait),
      signal,
      onWait: (h) => process.stderr.write(`evidence gc: waiting for ${describeHolder(h)} to finish (at most ${WAIT_LIMIT_MS / 60_000} minutes)\n`),
    });
    if (!got.ok) {
      if (interrupt.signal.aborted) return EXIT.interrupted;
      const waited = v.wait ? ` and did not finish within ${WAIT_LIMIT_MS / 60_000} minutes` : '';
      process.stderr.write(`evidence gc: the project is busy: ${describeHolder(got.holder)} holds ${join(stateDir, 'run.lock')}${waited}; nothing was deleted.
  A run reads and writes the cache: run gc when it has finished, or with --wait to wait for it.
`);
      return EXIT.failed;
    }
    try {
      const ws = new Workspace(root);
      const runs = readRunRecords(stateDir).map((r) => ({ runId: r.runId, startedAt: r.startedAt }));
      const plan = collectGarbage(ws, runs, { keepLast, maxSize, dryRun });
      if (v.json) {
        const { records: _r, objects: _o, freedHashes: _h, quarantine, ...summary } = plan;
        const corrupt = { files: quarantine.files.length, bytes: quarantine.bytes };
        process.stdout.write(JSON.stringify({ dryRun, keepLast: keepLast ?? null, maxSize: maxSize ?? null, ...summary, corrupt }, null, 2) + '\n');
      } else process.stdout.write(describe(plan, { dryRun, keepLast, maxSize }));
      return EXIT.ok;
    } finally {
      got.lock.release();
    }
  } finally {
    stopListening();
  }
}
