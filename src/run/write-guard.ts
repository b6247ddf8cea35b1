// Watches what running stages do to the project outside their declared outs: a change to a
// protected file (`protect:` globs; tracked files when the project is in git) fails the stage, and
// files created or changed that no stage declares are reported as warnings naming the stage.
//
// It compares snapshots taken when a stage starts and when it ends. With stages running in
// parallel a change cannot be pinned on one of them, so it is attributed to every stage that ran
// in that window, and the message says so. Nothing is scanned until a stage actually executes, so
// a no-op run pays nothing. Before each stage starts, the protected files as last seen are handed
// to `keep` (the run archives the content that is new, so that an uncommitted edit a stage
// overwrites can be restored). Knows nothing about how stages run or about the cache.
//
// git runs through execFile, not execa, because it runs at every stage start and end: over 50
// paired calls in a 205-file repository execa cost ~1.4 ms more per `git status` (median 12.5 →
// 13.9 ms) and ~1.6 ms more per `git rev-parse` (8.7 → 10.3 ms), plus ~100 ms to load it once.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Pipeline } from '../pipeline/model.js';
import type { FileEntry, Hasher } from '../cache/hash.js';
import { isRunnerTempName } from '../fs/atomic-write.js';
import type { EventSink } from './events.js';

const require = createRequire(import.meta.url);

export interface WriteFindings {
  /** Protected files whose content changed while the stage ran. */
  protectedChanged: string[];
  /** Other stages that were running at the same time (the change may be theirs). */
  alongside: string[];
}

interface Snapshot {
  /** Protected file → content hash ('missing' once deleted). */
  protectedHashes: Map<string, string>;
  /** The protected files that exist, as hashed. */
  protectedFiles: FileEntry[];
  /** Every file that may be an undeclared write → a cheap signature (status code, size, mtime). */
  files: Map<string, string>;
}

const SKIP_DIRS = new Set(['.git', '.evidence', 'node_modules']);

function gitOut(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 256 << 20, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

async function signature(abs: string, prefix = ''): Promise<string> {
  try {
    const st = await stat(abs);
    return `${prefix}${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return `${prefix}missing`;
  }
}

export class WriteGuard {
  // Built on the first snapshot, so that a run where nothing executes pays nothing.
  private isProtected: (path: string) => boolean = () => false;
  private isDeclared: (path: string) => boolean = () => false;
  private ready = false;
  /** undefined: not probed yet; null: not a git work tree; else the project's prefix inside the repo. */
  private gitPrefix: string | null | undefined;
  private last: Snapshot | undefined;
  private readonly running = new Set<string>();
  /** Stages that ran at some point since the last snapshot. */
  private window = new Set<string>();
  private readonly pending = new Map<string, WriteFindings>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pipeline: Pipeline,
    private readonly hasher: Hasher,
    private readonly emit: EventSink,
    /** Files the runner itself writes while stages run (evidence.lock), project-relative. */
    private readonly runnerFiles: string[],
    /** Handed the protected files before each stage starts. */
    private readonly keep: (files: FileEntry[], stage: string) => void = () => undefined,
  ) {}

  private prepare(): void {
    if (this.ready) return;
    this.ready = true;
    const picomatch = require('picomatch') as (p: string | string[], o?: object) => (s: string) => boolean;
    if (this.pipeline.protect.length) this.isProtected = picomatch(this.pipeline.protect, { dot: true });
    const outs = [...this.pipeline.stages.values()].flatMap((s) => s.outs.map((o) => o.path));
    const own = new Set(this.runnerFiles);
    this.isDeclared = (p) => own.has(p) || outs.some((o) => p === o || p.startsWith(o + '/'));
  }

  /** Call before a stage's process starts. */
  stageStarted(stage: string): Promise<void> {
    return this.serial(async () => {
      if (this.running.size > 0 || !this.last) await this.observe();
      try {
        this.keep(this.last!.protectedFiles, stage);
      } catch (err) {
        this.emit({ type: 'warning', time: Date.now(), stage, message: `could not archive the protected files before it ran: ${(err as Error).message}` });
      }
      this.running.add(stage);
      this.window.add(stage);
    });
  }

  /** Call once the stage's process has ended; a second call for the same stage returns undefined. */
  stageEnded(stage: string): Promise<WriteFindings | undefined> {
    return this.serial(async () => {
      if (!this.running.has(stage)) return undefined;
      await this.observe();
      this.running.delete(stage);
      this.window = new Set(this.running);
      const found = this.pending.get(stage);
      this.pending.delete(stage);
      return found ?? { protectedChanged: [], alongside: [] };
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Takes a snapshot, attributes what changed since the last one to the window's stages. */
  private async observe(): Promise<void> {
    const now = await this.snapshot();
    const before = this.last;
    this.last = now;
    if (!before || this.window.size === 0) return;
    const suspects = [...this.window].sort();
    const changedProtected: string[] = [];
    for (const p of new Set([...before.protectedHashes.keys(), ...now.protectedHashes.keys()])) {
      if (before.protectedHashes.get(p) !== now.protectedHashes.get(p)) changedProtected.push(p);
    }
    const undeclared: string[] = [];
    for (const p of new Set([...before.files.keys(), ...now.files.keys()])) {
      if (before.files.get(p) === now.files.get(p)) continue;
      if (this.isDeclared(p) || changedProtected.includes(p)) continue;
      undeclared.push(p);
    }
    changedProtected.sort();
    undeclared.sort();
    if (undeclared.length) {
      const shown = undeclared.slice(0, 10).join(', ') + (undeclared.length > 10 ? `, … (${undeclared.length} files)` : '');
      const who = suspects.length > 1 ? ` (stages ${suspects.join(', ')} ran at the same time; any of them may have written them)` : '';
      this.emit({
        type: 'warning',
        time: Date.now(),
        stage: suspects.length === 1 ? suspects[0] : undefined,
        message: `created or changed files that no stage declares as outs: ${shown}${who}; declare them as outs, or ignore them in .gitignore`,
      });
    }
    if (changedProtected.length) {
      for (const s of suspects) {
        const f = this.pending.get(s) ?? { protectedChanged: [], alongside: [] };
        f.protectedChanged = [...new Set([...f.protectedChanged, ...changedProtected])].sort();
        f.alongside = [...new Set([...f.alongside, ...suspects.filter((x) => x !== s)])].sort();
        this.pending.set(s, f);
      }
    }
  }

  private async snapshot(): Promise<Snapshot> {
    this.prepare();
    const root = this.pipeline.root;
    if (this.gitPrefix === undefined) {
      const prefix = await gitOut(['rev-parse', '--show-prefix'], root);
      this.gitPrefix = prefix === undefined ? null : prefix.trim();
    }
    const protectedHashes = new Map<string, string>();
    const protectedFiles: FileEntry[] = [];
    const files = new Map<string, string>();
    let candidates: string[];
    if (this.gitPrefix !== null) {
      const prefix = this.gitPrefix;
      candidates = this.pipeline.protect.length ? ((await gitOut(['ls-files', '-z'], root)) ?? '').split('\0').filter(Boolean) : [];
      // Porcelain paths are relative to the top of the repository, whatever the cwd.
      const status = ((await gitOut(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.'], root)) ?? '').split('\0');
      for (let i = 0; i < status.length; i++) {
        const entry = status[i]!;
        if (entry.length < 4) continue;
        const code = entry.slice(0, 2);
        if (code[0] === 'R' || code[0] === 'C') i++; // the next field is the original path
        const top = entry.slice(3);
        if (!top.startsWith(prefix)) continue;
        const rel = top.slice(prefix.length);
        if (isRunnerTempName(rel.slice(rel.lastIndexOf('/') + 1))) continue;
        files.set(rel, await signature(join(root, rel), code));
      }
    } else {
      const all: string[] = [];
      await walk(root, '', all);
      for (const rel of all) files.set(rel, await signature(join(root, rel)));
      candidates = all;
    }
    for (const rel of candidates) {
      if (!this.isProtected(rel)) continue;
      try {
        const entry = await this.hasher.hashFile(rel);
        protectedHashes.set(rel, entry.hash);
        protectedFiles.push(entry);
      } catch {
        protectedHashes.set(rel, 'missing');
      }
    }
    return { protectedHashes, protectedFiles, files };
  }
}

async function walk(abs: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (SKIP_DIRS.has(e.name) || isRunnerTempName(e.name)) continue;
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walk(join(abs, e.name), childRel, out);
    else out.push(childRel);
  }
}
