// The Slurm jobs this project's runner has in flight, one file per job under .evidence/slurm-jobs/.
// srun runs in a process group of its own, so a runner killed with kill -9 leaves it and its job
// running, writing into outs the next run is about to make again. The run lock makes one runner
// per project: a file still here when a run begins names an orphan, which that run cancels.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class JobLedger {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'slurm-jobs');
  }

  add(id: string, stage: string): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, id), `${stage}\n`);
  }

  remove(id: string): void {
    rmSync(join(this.dir, id), { force: true });
  }

  /** Jobs recorded by an earlier runner that did not live to remove them: id → stage. */
  leftovers(): Map<string, string> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const id of names) {
      if (!/^[0-9]+(?:_[0-9]+)?$/.test(id)) continue;
      try {
        out.set(id, readFileSync(join(this.dir, id), 'utf8').trim());
      } catch {
        out.set(id, '?');
      }
    }
    return out;
  }
}
