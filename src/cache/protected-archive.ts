// Keeps the content of protected files (`protect:` globs) in the object store before stages run,
// recorded in the artifact history as 'archived', so that `evidence restore PATH` gives back an
// uncommitted edit that a stage overwrote. The run's write guard hashes the protected files
// (stat-cached) when the run's first stage starts, and again those a stage wrote; it hands over
// only the files whose content is new since the last stage, so a run costs the archive one look
// per protected file at its start and nothing per stage while they stay unchanged. This module
// looks the hashes up in a small index (path → last archived hash,
// .evidence/protected-index.json) and copies a file only when its content is new for that path.
// Knows nothing about stages or scheduling.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { FileEntry } from './hash.js';
import type { ObjectStore } from './store.js';
import type { HistoryRecord } from './workspace.js';

/** What the archive needs of a workspace. */
export interface ArchiveTarget {
  root: string;
  stateDir: string;
  store: ObjectStore;
  appendHistory(rec: HistoryRecord): void;
}

export class ProtectedArchive {
  private index: Record<string, string> | undefined;
  private readonly file: string;

  constructor(
    private readonly ws: ArchiveTarget,
    private readonly runId: string,
  ) {
    this.file = join(ws.stateDir, 'protected-index.json');
  }

  private load(): Record<string, string> {
    if (this.index) return this.index;
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: number; files?: Record<string, string> };
      this.index = data.version === 1 && data.files && typeof data.files === 'object' ? { ...data.files } : {};
    } catch {
      this.index = {};
    }
    return this.index;
  }

  /** Archives each file whose content is new for its path, naming the stage about to run. */
  keep(files: FileEntry[], stage: string): void {
    const index = this.load();
    let changed = false;
    for (const f of files) {
      if (index[f.path] === f.hash && this.ws.store.has(f.hash)) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(this.ws.root, f.path));
      } catch {
        continue; // gone since it was hashed: nothing to keep
      }
      // Hashed again from the bytes stored: the file may have changed since the guard hashed it.
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (index[f.path] === hash && this.ws.store.has(hash)) continue;
      this.ws.store.putBytes(bytes, hash);
      this.ws.appendHistory({ path: f.path, hash, size: bytes.length, mode: f.mode, time: new Date().toISOString(), runId: this.runId, stage, event: 'archived' });
      index[f.path] = hash;
      changed = true;
    }
    if (changed) writeFileAtomicSync(this.file, JSON.stringify({ version: 1, files: index }));
  }
}
