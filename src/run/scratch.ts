// `workdir: scratch`: a cmd stage runs in a fresh folder under .evidence/scratch instead of the
// project, so that whatever else it leaves behind (nanoBragg's Fdump.bin cache, a core file, a
// temp file) neither poisons later runs nor lands in the project. The folder mirrors the project's
// layout: each dep is a symlink to the project's file (a glob's matches one by one), the stage's
// cwd is made, and when the command succeeds each declared out is moved into the project. The
// folder is removed afterwards, whatever happened.
//
// The links are to the project's own files: a command that writes *into* an input writes the
// project's file (the write guard still sees that). Copying every input instead would cost as much
// as the inputs weigh on every run; what scratch is for is what a command *creates*.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Stage } from '../pipeline/model.js';

const require = createRequire(import.meta.url);

export interface Scratch {
  /** Absolute folder the command runs in (the stage's cwd inside the scratch folder). */
  cwd: string;
  /** Moves each declared out the command wrote into the project; returns those it did not write. */
  collect(): string[];
  dispose(): void;
}

function link(root: string, dir: string, rel: string): void {
  const target = join(dir, rel);
  if (existsSync(target) || isLink(target)) return;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(root, rel), target);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export function openScratch(root: string, stage: Stage): Scratch {
  const base = join(root, '.evidence', 'scratch');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, `${stage.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  for (const dep of stage.deps) {
    if (dep.isGlob) {
      const { globSync } = require('tinyglobby') as typeof import('tinyglobby');
      for (const rel of globSync(dep.pattern, { cwd: root, dot: true, onlyFiles: true, expandDirectories: false })) link(root, dir, rel);
    } else if (dep.pattern !== '.' && existsSync(join(root, dep.pattern))) {
      link(root, dir, dep.pattern);
    }
  }
  const cwd = join(dir, stage.cwd);
  mkdirSync(cwd, { recursive: true });
  // Folders that will hold outs exist, as they would in the project.
  for (const out of stage.outs) if (!out.stream) mkdirSync(dirname(join(dir, out.path)), { recursive: true });
  return {
    cwd,
    collect() {
      const missing: string[] = [];
      for (const out of stage.outs) {
        if (out.stream) continue;
        const from = join(dir, out.path);
        if (!existsSync(from) || isLink(from)) {
          missing.push(out.path);
          continue;
        }
        const to = join(root, out.path);
        mkdirSync(dirname(to), { recursive: true });
        rmSync(to, { recursive: true, force: true });
        renameSync(from, to);
      }
      return missing;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
