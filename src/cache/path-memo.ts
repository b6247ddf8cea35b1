// Memoised hashes of project paths for one run, forgotten by path: a path, the folders holding it
// and everything inside it. Every key is also filed under each of its ancestor folders, so that
// forgetting costs the depth of the path, not the number of paths hashed so far (a 5,000-stage run
// forgets twice per stage). Pending hashes are kept too, so two stages asking for the same dep at
// once hash it once.
import type { PathHash } from './hash.js';

export class PathMemo {
  private readonly hashes = new Map<string, Promise<PathHash>>();
  /** Folder → every memoised key below it, at any depth. */
  private readonly below = new Map<string, Set<string>>();

  clear(): void {
    this.hashes.clear();
    this.below.clear();
  }

  get size(): number {
    return this.hashes.size;
  }

  /** The memoised hash of rel, or the one `compute` makes (kept unless rel is forgotten meanwhile). */
  get(rel: string, compute: (rel: string) => Promise<PathHash>): Promise<PathHash> {
    const known = this.hashes.get(rel);
    if (known) return known;
    const pending = compute(rel);
    this.hashes.set(rel, pending);
    for (const dir of ancestorsOf(rel)) {
      let set = this.below.get(dir);
      if (!set) this.below.set(dir, (set = new Set()));
      set.add(rel);
    }
    // A failed hash is not remembered: the next ask tries again and sees the error itself.
    pending.catch(() => {
      if (this.hashes.get(rel) === pending) this.drop(rel);
    });
    return pending;
  }

  /** Drops these paths, the folders holding them and everything inside them. */
  forget(paths: readonly string[]): void {
    for (const p of paths) {
      this.drop(p);
      for (const dir of ancestorsOf(p)) this.drop(dir);
      const inside = this.below.get(p);
      if (inside) for (const key of [...inside]) this.drop(key);
    }
  }

  private drop(key: string): void {
    if (!this.hashes.delete(key)) return;
    for (const dir of ancestorsOf(key)) {
      const set = this.below.get(dir);
      if (!set) continue;
      set.delete(key);
      if (set.size === 0) this.below.delete(dir);
    }
  }
}

/** 'a/b/c' → 'a/b', 'a' (project-relative paths with '/' separators). */
function* ancestorsOf(rel: string): Generator<string> {
  for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) yield rel.slice(0, i);
}
