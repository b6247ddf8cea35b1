// Carries out a gc plan (gc-plan.ts) on the local store. The caller holds the project's run lock,
// so no run writes the store meanwhile; readers that take no lock (status, a dry run) may look in
// at any time, so the order matters: run records go before the objects they name. A reader then
// finds either a record whose objects all exist, or no record (the stage would run): never a
// record that promises content that is gone. History lines that name a removed object go too
// (rewritten atomically), so `evidence history` lists only versions `evidence restore` can bring back.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { planGc, type GcOptions, type GcPlan, type RunStart } from './gc-plan.js';
import type { Workspace } from './workspace.js';

export type { GcOptions, GcPlan, RunStart, Tally } from './gc-plan.js';

export function collectGarbage(ws: Workspace, runs: RunStart[], opts: GcOptions & { dryRun: boolean }): GcPlan {
  // A run's journal lines are part of what the lock names (Workspace applies them on load).
  ws.reloadLock();
  const history = ws.readHistory();
  const plan = planGc(ws.store, ws.lock, history, runs, opts);
  if (opts.dryRun) return plan;
  for (const file of plan.records) rmSync(file, { force: true });
  for (const file of plan.objects) rmSync(file, { force: true });
  for (const file of plan.quarantine.files) rmSync(file, { force: true });
  removeEmptyFolders([...plan.records, ...plan.objects]);
  // What "why it runs" keeps of earlier pipeline versions: only the lock's entries ever read it.
  ws.prunePipelineDescriptions();
  if (plan.freedHashes.size && history.some((h) => plan.freedHashes.has(h.hash))) {
    const kept = history.filter((h) => !plan.freedHashes.has(h.hash));
    writeFileAtomicSync(ws.historyPath, kept.map((h) => JSON.stringify(h) + '\n').join(''));
  }
  return plan;
}

/** The fan-out folders (objects/ab/) that the removals emptied. */
function removeEmptyFolders(files: string[]): void {
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      if (!readdirSync(dir).length) rmdirSync(dir);
    } catch {
      // Not empty after all, or gone: either is fine.
    }
  }
}
