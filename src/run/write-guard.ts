// Watches what running stages do to the project outside their declared outs: a change to a
// protected file (`protect:` globs; in git, the tracked files they match) fails the stage, and
// files created or changed that no stage declares are reported as warnings naming the stage.
//
// Changes are looked for when a stage ends (and when one starts while others run): with stages
// running in parallel a change cannot be pinned on one of them, so it is attributed to every stage
// that ran in that window, and the message says so. Nothing is looked at until a stage actually
// executes, so a no-op run pays nothing. Before each stage starts, the protected files whose
// content is new since the last stage are handed to `keep` (the run archives them, so that an
// uncommitted edit a stage overwrites can be restored). Knows nothing about how stages run or
// about the cache.
//
// What a look costs follows what the stages wrote (src/run/project-tree.ts watches the folders),
// not the size of the project. In git, `ls-files` runs once per run (the tracked files, which
// folders are not ignored), `check-ignore` once more when some folder was not listed, and then only
// when a stage wrote a path whose ignore status is not known yet; before, a `git status` at every
// stage start and end cost ~13 ms each in a 2,000-file repository, and a `rev-parse` probe ~20 ms
// per run even outside git (src/fs/git-work-tree.ts finds the repository without it). git runs
// through execFile, not execa (~1.5 ms more per call measured, plus ~100 ms to load it once).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Pipeline } from '../pipeline/model.js';
import type { FileEntry, Hasher } from '../cache/hash.js';
import { findGitWorkTree } from '../fs/git-work-tree.js';
import type { EventSink } from './events.js';
import { ProjectTree, type TreeMode } from './project-tree.js';

const require = createRequire(import.meta.url);

export interface WriteFindings {
  /** Protected files whose content changed while the stage ran. */
  protectedChanged: string[];
  /** Other stages that were running at the same time (the change may be theirs). */
  alongside: string[];
}

export interface GuardOptions {
  /** The runner's state folder (.evidence): the file watcher keeps its barrier file there. */
  stateDir: string;
  /** 'poll' stats every file at every look (the fallback where inotify is not available). */
  mode?: TreeMode;
  /** For tests: the number of events in one look from which some may have been lost. */
  overflowAt?: number;
}

/** What the guard did, for tests and measurements. */
export interface GuardCounters {
  /** stat calls on project files and folders by the tree. */
  treeStats: number;
  readdirs: number;
  watches: number;
  /** Protected files hashed (each a stat, and a read when the stat cache does not know it). */
  protectedHashed: number;
  gitSpawns: number;
  looks: number;
  mode: TreeMode | 'not started';
}

interface GitView {
  tracked: Set<string>;
  /** Path → ignored by git; every path `ls-files` listed is known not to be. */
  ignored: Map<string, boolean>;
}

function gitOut(args: string[], cwd: string, input?: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, maxBuffer: 256 << 20, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout) => {
      // check-ignore exits 1 when no path is ignored: its (empty) answer is still an answer.
      resolve(err && !(args[0] === 'check-ignore' && (err as { code?: unknown }).code === 1) ? undefined : stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

export class WriteGuard {
  private isProtected: (path: string) => boolean = () => false;
  private isDeclared: (path: string) => boolean = () => false;
  private tree: ProjectTree | undefined;
  /** null: not in a git work tree. */
  private git: GitView | null = null;
  /** Protected file → content hash ('missing' once deleted), as last seen. */
  private readonly protectedHashes = new Map<string, string>();
  /** Protected files whose content is new since the last call of `keep`. */
  private toKeep = new Map<string, FileEntry>();
  private readonly running = new Set<string>();
  /** Stages that ran at some point since the last look. */
  private window = new Set<string>();
  private readonly pending = new Map<string, WriteFindings>();
  private queue: Promise<unknown> = Promise.resolve();
  private gitSpawns = 0;
  private protectedHashed = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly hasher: Hasher,
    private readonly emit: EventSink,
    /** Files the runner itself writes while stages run (evidence.lock), project-relative. */
    private readonly runnerFiles: string[],
    /** Handed the protected files before each stage starts. */
    private readonly keep: (files: FileEntry[], stage: string) => void,
    private readonly options: GuardOptions,
  ) {}

  get counters(): GuardCounters {
    const t = this.tree?.counters;
    return {
      treeStats: t?.stats ?? 0,
      readdirs: t?.readdirs ?? 0,
      watches: t?.watches ?? 0,
      protectedHashed: this.protectedHashed,
      gitSpawns: this.gitSpawns,
      looks: t?.looks ?? 0,
      mode: this.tree?.mode ?? 'not started',
    };
  }

  /** Call before a stage's process starts. */
  stageStarted(stage: string): Promise<void> {
    return this.serial(async () => {
      if (!this.tree) await this.start();
      else if (this.running.size > 0) await this.observe();
      if (this.toKeep.size) {
        const files = [...this.toKeep.values()];
        this.toKeep = new Map();
        try {
          this.keep(files, stage);
        } catch (err) {
          this.emit({ type: 'warning', time: Date.now(), stage, message: `could not archive the protected files before it ran: ${(err as Error).message}` });
        }
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

  /**
   * Call when the run ends: protected files are hashed once more, so that a change no look saw (a
   * write through a memory map or through a hard link in an unwatched folder, which inotify does
   * not report) is still named, then the watches end.
   */
  finish(): Promise<void> {
    return this.serial(async () => {
      if (!this.tree) return;
      this.tree.close();
      const unseen = await this.rehashProtected([...this.protectedHashes.keys()]);
      if (unseen.length) {
        this.emit({ type: 'warning', time: Date.now(), message: `protected files changed during the run where no stage's writes showed it (written through a memory map, or a hard link elsewhere?): ${unseen.join(', ')}` });
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async start(): Promise<void> {
    const root = this.pipeline.root;
    const picomatch = require('picomatch') as (p: string | string[], o?: object) => (s: string) => boolean;
    if (this.pipeline.protect.length) this.isProtected = picomatch(this.pipeline.protect, { dot: true });
    // An out declares itself and, when it is a folder, everything below it.
    const declared = new Set([...this.runnerFiles, ...[...this.pipeline.stages.values()].flatMap((s) => s.outs.map((o) => o.path))]);
    this.isDeclared = (p) => {
      for (let q = p; q; q = parentOf(q)) if (declared.has(q)) return true;
      return false;
    };

    let descend: (rel: string) => boolean = () => true;
    // undefined: the environment redirects git's discovery, so git is asked.
    if (findGitWorkTree(root) !== null) {
      this.gitSpawns++;
      const listed = await gitOut(['ls-files', '-z', '-t', '-c', '-o', '--exclude-standard', '--directory'], root);
      if (listed !== undefined) ({ git: this.git, descend } = readListing(listed));
    }
    this.tree = new ProjectTree({
      root,
      skip: this.isDeclared,
      descend,
      barrierDir: join(this.options.stateDir, 'guard'),
      mode: this.options.mode ?? (process.platform === 'linux' ? 'events' : 'poll'),
      overflowAt: this.options.overflowAt,
    });
    this.tree.start();
    if (this.git) await this.lookIntoUnlisted();
    if (this.pipeline.protect.length) {
      const candidates = this.git ? [...this.git.tracked] : [...this.tree.files()];
      await this.rehashProtected(candidates.filter(this.isProtected));
    }
  }

  /**
   * Folders ls-files did not list are ignored, or hold only ignored files (`logs/` with `*.log`
   * ignored): a stage may still write a file there that git does not ignore. check-ignore tells
   * them apart, usually in one call (one more per level of such folders nested in each other).
   */
  private async lookIntoUnlisted(): Promise<void> {
    for (let ask = this.tree!.takeUndecided(); ask.length; ask = this.tree!.takeUndecided()) {
      this.gitSpawns++;
      const out = await gitOut(['check-ignore', '-z', '--stdin'], this.pipeline.root, ask.join('\0') + '\0');
      const ignored = new Set((out ?? '').split('\0'));
      for (const dir of ask) {
        this.git!.ignored.set(dir, ignored.has(dir));
        if (!ignored.has(dir)) this.tree!.lookInto(dir);
      }
    }
  }

  /** In git only tracked files are protected; outside git any file the globs match. */
  private protects(p: string): boolean {
    return this.isProtected(p) && (!this.git || this.git.tracked.has(p));
  }

  /** Hashes protected files again; returns those whose content differs from the last time. */
  private async rehashProtected(paths: string[]): Promise<string[]> {
    const changed: string[] = [];
    for (const p of paths) {
      let hash = 'missing';
      this.protectedHashed++;
      try {
        const entry = await this.hasher.hashFile(p);
        hash = entry.hash;
        if (this.protectedHashes.get(p) !== hash) this.toKeep.set(p, entry);
      } catch {
        this.toKeep.delete(p);
      }
      const before = this.protectedHashes.get(p);
      this.protectedHashes.set(p, hash);
      // A file seen for the first time (the run's start) changed nothing; one created since did.
      if (before === undefined ? this.tree!.counters.looks > 0 && hash !== 'missing' : before !== hash) changed.push(p);
    }
    return changed;
  }

  /** Looks for what changed since the last look and attributes it to the window's stages. */
  private async observe(): Promise<void> {
    const { paths, complete } = await this.tree!.changed();
    const suspects = [...this.window].sort();
    const recheck = complete ? paths.filter((p) => this.protects(p)) : [...new Set([...this.protectedHashes.keys(), ...paths.filter((p) => this.protects(p))])];
    const changedProtected = (await this.rehashProtected(recheck)).sort();
    if (suspects.length === 0) return;
    const candidates = paths.filter((p) => !this.isDeclared(p) && !changedProtected.includes(p));
    const undeclared = this.git ? await this.notIgnored(candidates) : candidates;
    if (undeclared.length) {
      const shown = undeclared.slice(0, 10).join(', ') + (undeclared.length > 10 ? `, … (${undeclared.length} files)` : '');
      const who = suspects.length > 1 ? ` (stages ${suspects.join(', ')} ran at the same time; any of them may have written them)` : '';
      const partial = complete ? '' : ' (more changes than the file watcher could follow at once: files changed in place may be missing from this list)';
      this.emit({
        type: 'warning',
        time: Date.now(),
        stage: suspects.length === 1 ? suspects[0] : undefined,
        message: `created or changed files that no stage declares as outs: ${shown}${who}${partial}; declare them as outs, or ignore them in .gitignore`,
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

  /**
   * The paths git does not ignore. Verdicts are kept for the run, and a path under a folder known
   * to be ignored needs no question, so git runs only for paths (and their folders) new to the run.
   */
  private async notIgnored(paths: string[]): Promise<string[]> {
    const git = this.git!;
    // The rules changed: only tracked files are known not to be ignored.
    if (paths.some((p) => p === '.gitignore' || p.endsWith('/.gitignore'))) git.ignored.clear();
    const verdict = (p: string): boolean | undefined => {
      if (git.tracked.has(p)) return false;
      for (let q: string = p; q; q = parentOf(q)) {
        const v = git.ignored.get(q);
        if (v !== undefined && (v || q === p)) return v;
      }
      return undefined;
    };
    const ask = new Set<string>();
    for (const p of paths) {
      if (verdict(p) !== undefined) continue;
      ask.add(p);
      const dir = parentOf(p);
      if (dir && git.ignored.get(dir) === undefined) ask.add(dir);
    }
    if (ask.size) {
      this.gitSpawns++;
      const out = await gitOut(['check-ignore', '-z', '--stdin'], this.pipeline.root, [...ask].join('\0') + '\0');
      const ignored = new Set((out ?? '').split('\0').filter(Boolean));
      const files = new Set(paths);
      for (const p of ask) {
        git.ignored.set(p, ignored.has(p));
        // An ignored folder a stage made (a __pycache__) is not watched any further.
        if (ignored.has(p) && !files.has(p)) this.tree!.leaveAlone(p);
      }
    }
    return paths.filter((p) => verdict(p) !== true);
  }
}

/**
 * Reads `git ls-files -t -c -o --exclude-standard --directory`: tracked files, untracked ones that
 * are not ignored, and untracked folders as `dir/`. The folders to look into are those holding a
 * listed file and every untracked folder; the rest (ignored build folders, virtualenvs) are left.
 */
function readListing(listed: string): { git: GitView; descend: (rel: string) => boolean } {
  const git: GitView = { tracked: new Set(), ignored: new Map() };
  const folders = new Set<string>(['']);
  const untrackedFolders: string[] = [];
  for (const entry of listed.split('\0')) {
    if (entry.length < 3) continue;
    const tag = entry[0];
    let path = entry.slice(2);
    if (path.endsWith('/')) {
      path = path.slice(0, -1);
      if (path === '.') path = '';
      untrackedFolders.push(path);
      git.ignored.set(path, false);
    } else if (tag === '?') {
      git.ignored.set(path, false);
    } else {
      git.tracked.add(path);
    }
    for (let dir = parentOf(path); dir; dir = parentOf(dir)) {
      if (folders.has(dir)) break;
      folders.add(dir);
    }
  }
  const descend = (rel: string) => folders.has(rel) || untrackedFolders.some((u) => u === '' || rel === u || rel.startsWith(u + '/'));
  return { git, descend };
}
