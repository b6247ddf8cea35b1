// What `evidence gc` would remove from the local store (.evidence/cache/objects and runs), decided
// from what is on disk without deleting anything (gc.ts carries the plan out).
//
// Three tiers:
// - live: the run records of the fingerprints evidence.lock (with its journal) names, every
//   object those records name, and the lock's file-out hashes. Never removed.
// - retained (--keep-last N): what was made or used since the N-th most recent run started. A run
//   is an id of .evidence/runs.jsonl or of the artifact history (a watch cycle and an `evidence
//   restore` count too). An object was last used at the newest history line naming it (produced,
//   restored, archived) or its file's time; a run record when it was written or last restored
//   from (a restore touches it). N = 0 keeps only the live tier; no N keeps everything.
// - --max-size: past that, what remains outside the live tier goes, least recently used first,
//   until the store fits (or only the live tier is left).
// A record naming an object that goes goes too, so a surviving record always names objects that
// exist. Knows nothing about the run lock or the terminal: the CLI holds the lock and reports.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRunnerTempName } from '../fs/atomic-write.js';
import { ObjectStore } from './store.js';
import type { LockFile } from './lock.js';
import type { HistoryRecord } from './workspace.js';

export interface GcOptions {
  /** Keep what the last N runs made or used; undefined keeps everything (only --max-size prunes). */
  keepLast?: number;
  /** Bytes the store (objects + run records) may take after gc. */
  maxSize?: number;
}

/** A run's id and when it started, from .evidence/runs.jsonl (handed in by the caller). */
export interface RunStart {
  runId: string;
  startedAt: string;
}

interface Entry {
  file: string;
  size: number;
  /** ms since the epoch: when it was last made or used. */
  used: number;
}

interface ObjectEntry extends Entry {
  hash: string;
}

interface RecordEntry extends Entry {
  fingerprint: string;
  /** Object hashes it names; undefined for a record that cannot be trusted (never restored from). */
  objects?: string[];
}

export interface Tally {
  objects: number;
  records: number;
  bytes: number;
}

export interface GcPlan {
  /** Record files to remove, then object files (in that order: see gc.ts). */
  records: string[];
  objects: string[];
  /** Hashes of the objects removed (the history lines naming them go too). */
  freedHashes: Set<string>;
  freed: Tally;
  kept: Tally;
  /** What the lock alone holds: the floor under --max-size. */
  live: Tally;
  /** Runs seen, and the start of the oldest one kept (ISO), when --keep-last was applied. */
  runs: number;
  keptSince?: string;
  /** --max-size could not be met without touching the live tier. */
  overBudget: boolean;
  /** Files the store moved aside as corrupt (cache/corrupt/): never restored from, kept only for a look. */
  quarantine: { files: string[]; bytes: number };
}

function listFiles(dir: string): Array<{ name: string; file: string }> {
  const out: Array<{ name: string; file: string }> = [];
  let fans: string[];
  try {
    fans = readdirSync(dir);
  } catch {
    return out;
  }
  for (const fan of fans.sort()) {
    let names: string[];
    try {
      names = readdirSync(join(dir, fan));
    } catch {
      continue; // not a fan-out folder
    }
    // A temp file is a write in flight (or a killed one): never judged here.
    for (const name of names.sort()) if (!isRunnerTempName(name)) out.push({ name: fan + name, file: join(dir, fan, name) });
  }
  return out;
}

function statOf(file: string): { size: number; mtime: number } | undefined {
  try {
    const st = statSync(file);
    return st.isFile() ? { size: st.size, mtime: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

const time = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : 0;
};

/** When the N-th most recent run started; -Infinity when there were fewer runs, +Infinity for N = 0. */
function cutoffOf(keepLast: number, runs: RunStart[], history: HistoryRecord[]): { cutoff: number; runs: number } {
  const starts = new Map<string, number>();
  for (const r of runs) starts.set(r.runId, time(r.startedAt));
  for (const h of history) {
    const t = time(h.time);
    const s = starts.get(h.runId);
    if (s === undefined || t < s) starts.set(h.runId, t);
  }
  const sorted = [...starts.values()].sort((a, b) => b - a);
  if (keepLast === 0) return { cutoff: Infinity, runs: sorted.length };
  return { cutoff: sorted.length >= keepLast ? sorted[keepLast - 1]! : -Infinity, runs: sorted.length };
}

export function planGc(store: ObjectStore, lock: LockFile, history: HistoryRecord[], runs: RunStart[], opts: GcOptions): GcPlan {
  const lastSeen = new Map<string, number>();
  for (const h of history) {
    const t = time(h.time);
    if (t > (lastSeen.get(h.hash) ?? 0)) lastSeen.set(h.hash, t);
  }

  const objects = new Map<string, ObjectEntry>();
  for (const { name, file } of listFiles(store.objectsDir)) {
    const st = statOf(file);
    if (st) objects.set(name, { hash: name, file, size: st.size, used: Math.max(st.mtime, lastSeen.get(name) ?? 0) });
  }
  const records = new Map<string, RecordEntry>();
  for (const { name, file } of listFiles(store.runsDir)) {
    if (!name.endsWith('.json')) continue;
    const fingerprint = name.slice(2, -'.json'.length);
    const st = statOf(file);
    if (!st) continue;
    const record = store.readRun(fingerprint);
    store.takeRefusedRun(fingerprint);
    const entry: RecordEntry = { fingerprint, file, size: st.size, used: st.mtime };
    if (record) {
      entry.objects = [...new Set(ObjectStore.filesOf(record.outs).map((f) => f.hash))];
      // A restore touches the record (Workspace.restore): its time is its last use.
      entry.used = Math.max(st.mtime, time(record.createdAt));
    }
    records.set(fingerprint, entry);
  }

  // The live tier.
  const liveRecords = new Set<string>();
  const liveObjects = new Set<string>();
  for (const entry of Object.values(lock.stages)) {
    for (const out of Object.values(entry.outs)) if (objects.has(out.hash)) liveObjects.add(out.hash);
    const r = records.get(entry.fingerprint);
    if (!r?.objects) continue;
    liveRecords.add(r.fingerprint);
    for (const h of r.objects) if (objects.has(h)) liveObjects.add(h);
  }

  // Retention: what the last N runs made or used.
  const { cutoff, runs: runCount } = opts.keepLast === undefined ? { cutoff: -Infinity, runs: 0 } : cutoffOf(opts.keepLast, runs, history);
  const keptObjects = new Set<string>();
  for (const o of objects.values()) if (liveObjects.has(o.hash) || o.used >= cutoff) keptObjects.add(o.hash);
  const keptRecords = new Set<string>();
  for (const r of records.values()) {
    // A record that cannot be trusted, or whose content is gone, can never be restored from.
    if (!r.objects || !r.objects.every((h) => objects.has(h))) continue;
    if (liveRecords.has(r.fingerprint) || r.used >= cutoff) {
      keptRecords.add(r.fingerprint);
      for (const h of r.objects) keptObjects.add(h);
    }
  }

  // The size bound: least recently used first, never the live tier.
  const namedBy = new Map<string, string[]>();
  for (const fp of keptRecords) for (const h of records.get(fp)!.objects!) namedBy.set(h, [...(namedBy.get(h) ?? []), fp]);
  const sum = (tally: Iterable<Entry>) => [...tally].reduce((n, e) => n + e.size, 0);
  let total = sum([...keptObjects].map((h) => objects.get(h)!)) + sum([...keptRecords].map((fp) => records.get(fp)!));
  let overBudget = false;
  if (opts.maxSize !== undefined && total > opts.maxSize) {
    const candidates = [...keptObjects].filter((h) => !liveObjects.has(h)).map((h) => objects.get(h)!);
    candidates.sort((a, b) => a.used - b.used || (a.hash < b.hash ? -1 : 1));
    for (const o of candidates) {
      if (total <= opts.maxSize) break;
      keptObjects.delete(o.hash);
      total -= o.size;
      for (const fp of namedBy.get(o.hash) ?? []) {
        if (!keptRecords.delete(fp)) continue;
        total -= records.get(fp)!.size;
      }
    }
    overBudget = total > opts.maxSize;
  }

  const quarantine = { files: [] as string[], bytes: 0 };
  let aside: string[] = [];
  try {
    aside = readdirSync(join(store.cacheDir, 'corrupt'));
  } catch {
    // No corrupt object was ever found.
  }
  for (const name of aside) {
    const file = join(store.cacheDir, 'corrupt', name);
    const st = statOf(file);
    if (!st) continue;
    quarantine.files.push(file);
    quarantine.bytes += st.size;
  }

  const goneRecords = [...records.values()].filter((r) => !keptRecords.has(r.fingerprint));
  const goneObjects = [...objects.values()].filter((o) => !keptObjects.has(o.hash));
  return {
    records: goneRecords.map((r) => r.file),
    objects: goneObjects.map((o) => o.file),
    freedHashes: new Set(goneObjects.map((o) => o.hash)),
    freed: { objects: goneObjects.length, records: goneRecords.length, bytes: sum(goneObjects) + sum(goneRecords) },
    kept: { objects: keptObjects.size, records: keptRecords.size, bytes: total },
    live: { objects: liveObjects.size, records: liveRecords.size, bytes: sum([...liveObjects].map((h) => objects.get(h)!)) + sum([...liveRecords].map((fp) => records.get(fp)!)) },
    runs: runCount,
    keptSince: Number.isFinite(cutoff) ? new Date(cutoff).toISOString() : undefined,
    overBudget,
    quarantine,
  };
}
