// What the pipeline's stages had produced when a run failed: every declared out (the files inside a
// folder out one by one) with its size, content hash and the stage that declares it. The blocker
// lists them in blocker.json instead of putting them in its patch: they are products that a run
// makes again, and their hashes say which ones a later run reproduced. Symlinks are named, never
// followed (an out may point anywhere); missing outs are listed with null size and hash. At most
// 1 GiB is hashed (the blocker has a time limit, and a simulator's image outs can be large): a
// file that would pass that budget is listed with its size only.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { PipelineView } from '../../src/stage-api/index.js';

export interface ListedOut {
  /** Project-relative. */
  path: string;
  /** The stage that declares it (for a file inside a folder out: the folder's stage). */
  stage: string;
  size: number | null;
  sha256: string | null;
  /** Where a symlink points; then size and hash are null. */
  symlink?: string;
}

/** Folders a hasher has no business in, as everywhere in the runner. */
const SKIP_DIRS = new Set(['.git', '.evidence', 'node_modules']);

function sha256Of(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

function statOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

export interface OutsListing {
  outs: ListedOut[];
  /** Files in the outs beyond `max`, not listed. */
  more: number;
  /** Files listed without a hash because the hashing budget was spent. */
  unhashed: number;
}

/**
 * Every declared out of `stages`, files within folder outs expanded in name order, at most `max`
 * entries, hashed until `hashBudget` bytes were read. Paths declared by several stages are listed
 * once, for the first.
 */
export async function listOuts(root: string, stages: PipelineView['stages'], max = 1000, hashBudget = 1 << 30): Promise<OutsListing> {
  const outs: ListedOut[] = [];
  const seen = new Set<string>();
  let more = 0;
  let unhashed = 0;
  let budget = hashBudget;
  const add = async (path: string, stage: string, st: Stats | null) => {
    if (seen.has(path)) return;
    seen.add(path);
    if (outs.length >= max) {
      more++;
      return;
    }
    const abs = join(root, path);
    if (!st) outs.push({ path, stage, size: null, sha256: null });
    else if (st.isSymbolicLink()) outs.push({ path, stage, size: null, sha256: null, symlink: readlinkSync(abs) });
    else {
      let sha256: string | null = null;
      if (st.size > budget) unhashed++;
      else {
        budget -= st.size;
        try {
          sha256 = await sha256Of(abs);
        } catch {
          // Unreadable: listed with its size, without a hash.
        }
      }
      outs.push({ path, stage, size: st.size, sha256 });
    }
  };
  const walk = async (dir: string, stage: string): Promise<void> => {
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      const st = statOrNull(join(root, path));
      if (st?.isDirectory()) {
        if (!SKIP_DIRS.has(name)) await walk(path, stage);
      } else if (st?.isFile() || st?.isSymbolicLink()) await add(path, stage, st);
    }
  };
  for (const s of stages) {
    for (const out of s.outs) {
      const st = statOrNull(join(root, out));
      if (st?.isDirectory()) await walk(out, s.name);
      else await add(out, s.name, st);
    }
  }
  return { outs, more, unhashed };
}
