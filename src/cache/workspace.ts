// A project's cache state in one place: the hasher and its stat cache, the object store, the lock
// file and the artifact history. Decides whether a stage is up to date, restorable or must run,
// and why. Knows nothing about scheduling or how stages execute.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { AppendLog } from '../fs/append-log.js';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { TOOL_VERSION } from '../version.js';
export { TOOL_VERSION } from '../version.js';
import type { Pipeline, Stage } from '../pipeline/model.js';
import { Hasher, StatCache, type PathHash } from './hash.js';
import { PathMemo } from './path-memo.js';
import { ObjectStore, type RunRecord } from './store.js';
import type { LockFile } from './lock.js';
import { JournaledLock } from './lock-journal.js';
import { isRunnerTempName } from '../fs/atomic-write.js';
import { fingerprintOf, type FingerprintInputs } from './fingerprint.js';
import { outSpecsOf, PipelineDescriptions } from './pipeline-digest.js';
import { explainChange, lockEntryOf, type PipelineVersions } from './lock-entry.js';
import { isScriptReference } from '../pipeline/paths.js';
import type { RemoteRunSource } from './remote-cache.js';

const require = createRequire(import.meta.url);


export interface HistoryRecord {
  path: string;
  hash: string;
  size: number;
  time: string;
  runId: string;
  stage: string;
  event: 'produced' | 'restored' | 'archived';
  /** The file's mode (0o755 or 0o644), so that a restore gives the executable bit back; absent in older lines. */
  mode?: number;
}

export type Verdict = 'up-to-date' | 'restore' | 'run';

export interface Evaluation {
  stage: string;
  inputs: FingerprintInputs;
  fingerprint: string;
  verdict: Verdict;
  /** Why it is not up to date (empty when it is). */
  reasons: string[];
  /** For 'restore': the record whose outs would come back. */
  record?: RunRecord;
  /** The record came from the remote cache (fetched into the local store by this evaluation). */
  from?: 'remote';
}

export class Workspace {
  readonly stateDir: string;
  readonly hasher: Hasher;
  readonly store: ObjectStore;
  readonly lockFile: string;
  /** evidence.lock and .evidence/lock.journal, held in memory between reads. */
  private readonly recorded: JournaledLock;
  private readonly historyFile: string;
  private history: AppendLog | undefined;
  /** Run records of produced outs that commitRun has not written yet. */
  private readonly toStore: RunRecord[] = [];
  private storeFailure: unknown;
  private readonly descriptions: PipelineDescriptions;

  /** .evidence/history.jsonl: every version of every out, as runs made, restored or archived it. */
  get historyPath(): string {
    return this.historyFile;
  }

  /** Asked on a local miss before a stage would run (set by a run that has a remote cache). */
  remote?: RemoteRunSource;

  constructor(readonly root: string) {
    this.stateDir = join(root, '.evidence');
    try {
      ensureStateDir(this.stateDir);
    } catch {
      // A read-only checkout: reading (status, a dry run) still works; a write names its path when it fails.
    }
    this.hasher = new Hasher(root, new StatCache(join(this.stateDir, 'stat-cache.json')));
    this.store = new ObjectStore(join(this.stateDir, 'cache'));
    this.lockFile = join(root, 'evidence.lock');
    this.recorded = new JournaledLock(this.lockFile, join(this.stateDir, 'lock-mirror.json'), join(this.stateDir, 'lock.journal'));
    this.recorded.load();
    this.historyFile = join(this.stateDir, 'history.jsonl');
    this.descriptions = new PipelineDescriptions(join(this.stateDir, 'pipelines'), (s) => this.definitionOf(s));
  }

  /**
   * Hashes of paths seen during one run: a stage's out is hashed when it is checked and again as
   * the next stage's dep. Cleared at the start of every run and wherever the runner writes.
   */
  private readonly memo = new PathMemo();

  beginRun(): void {
    this.memo.clear();
  }

  pathHash(rel: string): Promise<PathHash> {
    return this.memo.get(rel, (r) => this.hasher.hashPath(r));
  }

  /** Drops memoised hashes of these paths, of folders holding them and of files inside them. */
  forget(paths: string[]): void {
    this.memo.forget(paths);
  }

  /** What each stage last produced: evidence.lock with the journal's lines applied. */
  get lock(): LockFile {
    return this.recorded.lock;
  }

  /** What was wrong with evidence.lock or its journal when read (unusable entries are rebuilt as stages run). */
  get lockProblems(): string[] {
    return this.recorded.problems;
  }

  /** Re-reads evidence.lock and its journal (another run may have written them). */
  reloadLock(): void {
    this.recorded.load();
  }

  /**
   * Folds the journal into evidence.lock and removes it. Only a run holding the project calls it:
   * at its start (what a killed run left) and at its end, interrupted or not.
   */
  compactLock(): void {
    this.storeProducedNow();
    this.recorded.compact();
    this.history?.close();
    this.throwStoreFailure();
  }

  saveStatCache(): void {
    try {
      this.hasher.stats.save();
    } catch {
      // The stat cache only saves re-hashing; a read-only or full disk must not fail a status.
    }
  }

  /** dep file path → content hash, folders and globs expanded, sorted by path. */
  async hashDeps(stage: Stage, overlay?: Map<string, string>): Promise<Record<string, string>> {
    const files = new Map<string, string>();
    for (const dep of stage.deps) {
      if (dep.isGlob) {
        const { globSync } = require('tinyglobby') as typeof import('tinyglobby');
        const matches = globSync(dep.pattern, { cwd: this.root, dot: true, onlyFiles: true, ignore: ['.git/**', '.evidence/**', '**/node_modules/**'] });
        for (const m of matches.sort()) {
          if (isRunnerTempName(m.slice(m.lastIndexOf('/') + 1))) continue;
          try {
            files.set(m, (await this.hasher.hashFile(m)).hash);
          } catch {
            // Vanished since the listing: it is not an input any more.
          }
        }
        continue;
      }
      const planned = overlay?.get(dep.pattern);
      if (planned) {
        files.set(dep.pattern, planned);
        continue;
      }
      const h = await this.pathHash(dep.pattern);
      if (h.type === 'missing') files.set(dep.pattern, 'missing');
      else if (h.type === 'file') files.set(h.path, h.hash);
      else for (const f of h.files) files.set(f.path, f.hash);
    }
    // A uses-script is an input of its stage like any dep.
    if (stage.kind === 'uses' && stage.uses && isScriptReference(stage.uses)) {
      const rel = stage.uses.replace(/^\.\//, '');
      try {
        files.set(rel, (await this.hasher.hashFile(rel)).hash);
      } catch {
        files.set(rel, 'missing');
      }
    }
    return Object.fromEntries([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  definitionOf(stage: Stage): Record<string, unknown> {
    if (stage.kind === 'cmd') return { kind: 'cmd', cmd: stage.cmd, timeoutMs: stage.timeoutMs };
    return { kind: 'uses', uses: stage.uses, version: stage.kindVersion ?? 'script', with: stage.with, timeoutMs: stage.timeoutMs };
  }

  async fingerprintInputs(pipeline: Pipeline, stage: Stage, upstreamOuts: Record<string, Record<string, string>>, overlay?: Map<string, string>): Promise<FingerprintInputs> {
    const params: Record<string, unknown> = {};
    for (const p of stage.describesPipeline ? Object.keys(pipeline.params) : stage.paramsUsed) params[p] = pipeline.params[p];
    return {
      tool: TOOL_VERSION,
      definition: this.definitionOf(stage),
      env: stage.env,
      cwd: stage.cwd,
      params,
      deps: await this.hashDeps(stage, overlay),
      upstream: upstreamOuts,
      outs: outSpecsOf(stage),
      pipeline: stage.describesPipeline ? this.descriptions.of(pipeline).hash : undefined,
    };
  }

  /** Drops the kept pipeline versions (.evidence/pipelines/) that no entry of the lock names. */
  prunePipelineDescriptions(): number {
    const named = new Set<string>();
    for (const e of Object.values(this.lock.stages)) if (typeof e.pipeline === 'string') named.add(e.pipeline);
    return this.descriptions.prune(named);
  }

  private pipelineVersions(pipeline: Pipeline, self: Stage): PipelineVersions {
    return { self: self.name, now: this.descriptions.of(pipeline).digest(), recorded: (hash) => this.descriptions.load(hash) };
  }

  async evaluate(
    pipeline: Pipeline,
    stage: Stage,
    upstreamOuts: Record<string, Record<string, string>>,
    force: boolean,
    /** Dry runs: hashes that files will have once upstream restores happen. */
    overlay?: Map<string, string>,
  ): Promise<Evaluation> {
    const inputs = await this.fingerprintInputs(pipeline, stage, upstreamOuts, overlay);
    const fingerprint = fingerprintOf(inputs);
    const entry = this.lock.stages[stage.name];
    const reasons: string[] = [];
    if (!entry) reasons.push('never ran');
    else if (entry.fingerprint !== fingerprint) reasons.push(...explainChange(entry, inputs, this.definitionOf(stage), stage.display, () => this.pipelineVersions(pipeline, stage)));
    else {
      for (const o of stage.outs) {
        const recorded = entry.outs[o.path];
        const now = await this.pathHash(o.path);
        if (now.type === 'missing') reasons.push(`out '${o.path}' is missing`);
        else if (!recorded || recorded.hash !== now.hash) reasons.push(`out '${o.path}' was modified`);
      }
    }
    if (force) reasons.unshift('forced');
    if (!reasons.length) return { stage: stage.name, inputs, fingerprint, verdict: 'up-to-date', reasons };
    if (!force) {
      // A record this run produced may still be waiting to be written.
      if (this.toStore.length) this.storeProducedNow();
      const record = this.store.readRun(fingerprint);
      if (this.restorable(record)) return { stage: stage.name, inputs, fingerprint, verdict: 'restore', reasons, record };
      if (this.remote && (await this.remote.fetchRun(fingerprint, stage.name, stage.outs.map((o) => o.path)))) {
        const fetched = this.store.readRun(fingerprint);
        if (this.restorable(fetched)) return { stage: stage.name, inputs, fingerprint, verdict: 'restore', reasons, record: fetched, from: 'remote' };
      }
    }
    return { stage: stage.name, inputs, fingerprint, verdict: 'run', reasons };
  }

  private restorable(record: RunRecord | undefined): record is RunRecord {
    return record !== undefined && record.outs.every((o) => o.type !== 'missing') && ObjectStore.filesOf(record.outs).every((f) => this.store.has(f.hash));
  }

  /** Hashes the current outs of a stage. */
  async hashOuts(stage: Stage): Promise<PathHash[]> {
    this.forget(stage.outs.map((o) => o.path));
    const outs: PathHash[] = [];
    for (const o of stage.outs) outs.push(await this.pathHash(o.path));
    return outs;
  }

  /**
   * Keeps the current content of each existing out in the object store before it is overwritten,
   * unless the store already has it: a hand-written or foreign artifact is never lost.
   */
  async archiveBeforeOverwrite(stage: Stage, runId: string): Promise<void> {
    for (const o of stage.outs) {
      const h = await this.pathHash(o.path);
      const files = h.type === 'file' ? [h] : h.type === 'dir' ? h.files : [];
      for (const f of files) {
        if (this.store.has(f.hash)) continue;
        this.store.put(join(this.root, f.path), f.hash);
        this.appendHistory({ path: f.path, hash: f.hash, size: f.size, mode: f.mode, time: new Date().toISOString(), runId, stage: stage.name, event: 'archived' });
      }
    }
  }

  /**
   * Stores the outs of a successful run and records it in the run cache, the lock's journal and
   * history. The copies into the object store and the journal line (what makes the stage count
   * as done, also after a kill -9) are written now; the run record, built from memory, once the
   * stages this one let start have been started (storeProducedNow), off the critical path: on a
   * cold chain of small stages it was a twentieth of each stage's time, most of it making the
   * run cache's folders. A kill -9 in between costs at most a later restore of this version,
   * never a result. (The copies cannot wait: by then a later stage may have changed the file.)
   */
  commitRun(pipeline: Pipeline, stage: Stage, evaluation: Evaluation, outs: PathHash[], runId: string, event: 'produced' | 'restored'): void {
    this.throwStoreFailure();
    const time = new Date().toISOString();
    if (event === 'produced') {
      const cacheable = new Set(stage.outs.filter((o) => o.cache).map((o) => o.path));
      for (const o of outs) {
        if (!cacheable.has(o.path)) continue;
        for (const f of o.type === 'file' ? [o] : o.type === 'dir' ? o.files : []) this.store.put(join(this.root, f.path), f.hash);
      }
      if (outs.every((o) => cacheable.has(o.path))) {
        this.toStore.push({ stage: stage.name, fingerprint: evaluation.fingerprint, outs, createdAt: time });
        if (this.toStore.length === 1) setImmediate(() => this.storeProducedNow());
      }
    }
    for (const o of outs) {
      for (const f of o.type === 'file' ? [o] : o.type === 'dir' ? o.files : []) {
        this.appendHistory({ path: f.path, hash: f.hash, size: f.size, mode: f.mode, time, runId, stage: stage.name, event });
      }
    }
    if (stage.describesPipeline) this.descriptions.save(this.descriptions.of(pipeline));
    this.recorded.record(stage.name, lockEntryOf(evaluation, stage, outs, this.definitionOf(stage)));
  }

  /** Writes the run records commitRun left; a failure comes back at the next commitRun or compactLock. */
  private storeProducedNow(): void {
    for (const record of this.toStore.splice(0)) {
      try {
        this.store.writeRun(record);
      } catch (err) {
        this.storeFailure ??= err;
      }
    }
  }

  private throwStoreFailure(): void {
    const err = this.storeFailure;
    this.storeFailure = undefined;
    if (err !== undefined) throw err;
  }

  /**
   * Restores a stage's outs from the object store. Every object is re-hashed first; a corrupt one
   * is reported (returned) and nothing is restored.
   */
  async restore(stage: Stage, record: RunRecord, runId: string): Promise<{ ok: true } | { ok: false; corrupt: { path: string; hash: string } }> {
    const files = ObjectStore.filesOf(record.outs);
    for (const f of files) {
      if (!(await this.store.verify(f.hash))) {
        this.store.quarantine(f.hash);
        return { ok: false, corrupt: { path: f.path, hash: f.hash } };
      }
    }
    await this.archiveBeforeOverwrite(stage, runId);
    for (const o of record.outs) {
      if (o.type === 'dir') rmSync(join(this.root, o.path), { recursive: true, force: true });
    }
    for (const f of files) this.store.restoreFile(f, join(this.root, f.path));
    this.forget(stage.outs.map((o) => o.path));
    for (const o of record.outs) if (o.type === 'dir') mkdirSync(join(this.root, o.path), { recursive: true });
    this.store.touchRun(record.fingerprint);
    return { ok: true };
  }

  /** The hashes of a stage's outs as the lock recorded them (its last successful run). */
  outHashesOf(name: string): Record<string, string> {
    const entry = this.lock.stages[name];
    return entry ? Object.fromEntries(Object.entries(entry.outs).map(([p, o]) => [p, o.hash])) : {};
  }

  appendHistory(rec: HistoryRecord): void {
    (this.history ??= new AppendLog(this.historyFile)).append(JSON.stringify(rec) + '\n');
  }

  readHistory(): HistoryRecord[] {
    if (!existsSync(this.historyFile)) return [];
    const out: HistoryRecord[] = [];
    for (const line of readFileSync(this.historyFile, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as HistoryRecord);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
    return out;
  }
}

/** .evidence/ ignores itself, as pytest's cache folder does, so it never shows up in git or in patches. */
export function ensureStateDir(dir: string): void {
  if (existsSync(join(dir, '.gitignore'))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '# Created by evidence: its cache and state are local to this machine.\n*\n');
}


export function outHashMap(outs: PathHash[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const o of outs) m[o.path] = o.type === 'missing' ? 'missing' : o.hash;
  return m;
}
