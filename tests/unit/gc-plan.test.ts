// The gc planner on a store built in a temp folder: the live tier survives every bound, retention
// counts runs by recency, --max-size evicts by last use, and no surviving record names an object
// that goes. Sizes: the parser takes what people write and refuses what it cannot read.
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../src/cache/store.js';
import { planGc, type RunStart } from '../../src/cache/gc-plan.js';
import type { LockFile, LockEntry } from '../../src/cache/lock.js';
import type { HistoryRecord } from '../../src/cache/workspace.js';
import { sha256 } from '../../src/cache/fingerprint.js';
import { formatByteSize, parseByteSize } from '../../src/pipeline/byte-size.js';

describe('parseByteSize', () => {
  it.each([
    ['500M', 500 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
    ['2g', 2 * 1024 ** 3],
    ['1.5GB', 1.5 * 1024 ** 3],
    ['800KiB', 800 * 1024],
    ['10 k', 10 * 1024],
    ['1048576', 1048576],
    ['0', 0],
    [4096, 4096],
  ] as const)('reads %s', (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(['', 'M', '-1', '2X', '1e3', '1.5.2G', 'lots', '2 G B'])('refuses %j', (text) => expect(parseByteSize(text)).toBeUndefined());

  it('refuses a negative or fractional number of bytes given as a number', () => {
    expect(parseByteSize(-5)).toBeUndefined();
    expect(parseByteSize(1.5)).toBeUndefined();
  });

  it('formats sizes for people', () => {
    expect(formatByteSize(812)).toBe('812 B');
    expect(formatByteSize(3482)).toBe('3.4 KiB');
    expect(formatByteSize(2 * 1024 ** 3)).toBe('2.0 GiB');
  });
});

/** A store with one version per run: each run `rN` made a 1,000-byte object and its record. */
function storeOf(runs: number) {
  const store = new ObjectStore(mkdtempSync(join(tmpdir(), 'evidence-gc-')));
  const history: HistoryRecord[] = [];
  const starts: RunStart[] = [];
  const hashes: string[] = [];
  for (let i = 1; i <= runs; i++) {
    const bytes = Buffer.alloc(1000, i);
    const hash = sha256(bytes.toString('latin1'));
    // The hash only names the object here; gc never re-hashes content.
    store.putBytes(bytes, hash);
    const time = new Date(Date.UTC(2026, 0, i)).toISOString();
    store.writeRun({ stage: 'make', fingerprint: `fp${i}`.padEnd(64, '0'), outs: [{ type: 'file', path: 'out.bin', hash, size: 1000, mode: 0o644 }], createdAt: time });
    // File times as of the run: the planner must go by recency, not by when the test wrote them.
    const t = new Date(time);
    utimesSync(store.objectPath(hash), t, t);
    utimesSync(store.runPath(`fp${i}`.padEnd(64, '0')), t, t);
    history.push({ path: 'out.bin', hash, size: 1000, time, runId: `r${i}`, stage: 'make', event: 'produced' });
    starts.push({ runId: `r${i}`, startedAt: time });
    hashes.push(hash);
  }
  return { store, history, starts, hashes };
}

function lockNaming(fingerprint: string, hash: string): LockFile {
  const entry = { fingerprint, outs: { 'out.bin': { hash, size: 1000 } } } as unknown as LockEntry;
  return { version: 1, stages: { make: entry } };
}

const fp = (i: number) => `fp${i}`.padEnd(64, '0');
const gone = (plan: { objects: string[] }, hash: string) => plan.objects.some((f) => f.endsWith(hash.slice(2)));

describe('planGc', () => {
  it('keeps the lock and the last N runs, frees the older ones', () => {
    const { store, history, starts, hashes } = storeOf(4);
    const lock = lockNaming(fp(1), hashes[0]!);
    const plan = planGc(store, lock, history, starts, { keepLast: 2 });
    expect(hashes.map((h) => gone(plan, h))).toEqual([false, true, false, false]);
    expect(plan.records.map((f) => f.includes(fp(2)))).toEqual([true]);
    expect(plan.freed).toEqual({ objects: 1, records: 1, bytes: 1000 + statSync(store.runPath(fp(2))).size });
    expect(plan.keptSince).toBe(starts[2]!.startedAt);
    expect(plan.runs).toBe(4);
  });

  it('keeps everything when there were fewer runs than N, and only the lock for N = 0', () => {
    const { store, history, starts, hashes } = storeOf(3);
    const lock = lockNaming(fp(3), hashes[2]!);
    expect(planGc(store, lock, history, starts, { keepLast: 10 }).freed.objects).toBe(0);
    const none = planGc(store, lock, history, starts, { keepLast: 0 });
    expect(hashes.map((h) => gone(none, h))).toEqual([true, true, false]);
    expect(none.kept).toEqual(none.live);
  });

  it('evicts the least recently used first under --max-size, with the records that name it', () => {
    const { store, history, starts, hashes } = storeOf(4);
    // Run 5 restored version 1: it is now more recent than versions 2 and 3.
    history.push({ path: 'out.bin', hash: hashes[0]!, size: 1000, time: new Date(Date.UTC(2026, 0, 5)).toISOString(), runId: 'r5', stage: 'make', event: 'restored' });
    const lock = lockNaming(fp(4), hashes[3]!);
    const live = planGc(store, lock, history, starts, { keepLast: 0 }).live.bytes;
    const recordSize = (planGc(store, lock, history, starts, {}).kept.bytes - 4000) / 4;
    const plan = planGc(store, lock, history, starts, { maxSize: live + 2 * (1000 + recordSize) });
    expect(hashes.map((h) => gone(plan, h))).toEqual([false, true, false, false]);
    expect(plan.records.some((f) => f.includes(fp(2)))).toBe(true);
    expect(plan.kept.bytes).toBeLessThanOrEqual(live + 2 * (1000 + recordSize));
    const floor = planGc(store, lock, history, starts, { maxSize: 1 });
    expect(floor.overBudget).toBe(true);
    expect(floor.kept).toEqual(floor.live);
  });

  it('never keeps a record whose objects go, and frees a record whose content is already gone', () => {
    const { store, history, starts, hashes } = storeOf(2);
    const lock = lockNaming(fp(2), hashes[1]!);
    // Record 1's object vanished (removed by hand): the record can never be restored from.
    rmSync(store.objectPath(hashes[0]!));
    const plan = planGc(store, lock, history, starts, {});
    expect(plan.records.map((f) => f.includes(fp(1)))).toEqual([true]);
    expect(plan.objects).toEqual([]);
  });
});
