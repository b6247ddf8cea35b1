// `evidence history PATH` and `evidence restore PATH [--run ID]`: the archival side of the object
// store. History shows each version with the params of the run that made it.
import { relative, resolve, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './project.js';
import { Workspace, type HistoryRecord } from '../cache/workspace.js';
import { readRunRecords } from '../run/run-record.js';
import { acquireRunLock, describeHolder, runLockPath } from '../run/run-lock.js';
import { normalizeRel } from '../pipeline/paths.js';

/**
 * The params each version was made with: those of the run that produced or restored it (from
 * .evidence/runs.jsonl). An archived version is what the file held before that run, so its run's
 * params say nothing about it; a run recorded before runs kept their params has none either.
 */
function paramsOfVersions(stateDir: string, rows: HistoryRecord[]): Array<Record<string, unknown> | undefined> {
  const byRun = new Map(readRunRecords(stateDir).map((r) => [r.runId, r.params]));
  return rows.map((h) => (h.event === 'archived' ? undefined : byRun.get(h.runId)));
}

const SECRET_DIGEST = /^sha256:[0-9a-f]+ \(secret\)$/;

function showParams(params: Record<string, unknown>): string {
  const text = Object.entries(params).map(([k, v]) => {
    // The digest of a secret identifies nothing to a reader; say only that it is one.
    if (typeof v === 'string' && SECRET_DIGEST.test(v)) return `${k}=(secret)`;
    if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return `${k}=${v.toExponential()}`;
    return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  });
  return text.length ? text.join(' ') : '(none)';
}

export async function artifactsVerb(inv: Invocation): Promise<number> {
  const [target] = inv.positionals;
  if (!target || inv.positionals.length > 1) throw new UsageError(`${inv.verb} takes exactly one PATH`);
  const pipelineFile = resolve(inv.values.file as string);
  if (!existsSync(pipelineFile)) throw new UsageError(`no pipeline file '${inv.values.file}' (the project root is the folder holding it)`);
  const root = dirname(pipelineFile);
  const path = normalizeRel(relative(root, resolve(target)));
  const ws = new Workspace(root);
  const versions = ws.readHistory().filter((h) => h.path === path);
  // One row per distinct content per run: a restore re-records a hash that is already listed.
  const seen = new Set<string>();
  const rows = versions.filter((h) => {
    const key = `${h.runId}:${h.hash}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (inv.verb === 'history') {
    const params = paramsOfVersions(ws.stateDir, rows);
    if (inv.values.json) process.stdout.write(JSON.stringify(rows.map((h, i) => ({ ...h, params: params[i] ?? null })), null, 2) + '\n');
    else if (!rows.length) process.stdout.write(`no stored versions of '${path}'\n`);
    else {
      process.stdout.write(`${'run id'.padEnd(36)}  ${'time'.padEnd(24)}  ${'sha256'.padEnd(12)}  ${'size'.padStart(10)}  stage (event)  params\n`);
      for (const [i, h] of rows.entries()) {
        const p = params[i];
        process.stdout.write(`${h.runId.padEnd(36)}  ${h.time.padEnd(24)}  ${h.hash.slice(0, 12)}  ${String(h.size).padStart(10)}  ${h.stage} (${h.event})  ${p ? showParams(p) : '—'}\n`);
      }
    }
    return EXIT.ok;
  }
  // A restore writes the store, the history and a project file: no run or gc may do so meanwhile
  // (gc rewrites the history and could remove the object between its check and its copy).
  const got = await acquireRunLock(ws.stateDir, { argv: ['evidence', ...process.argv.slice(2)], wait: false });
  if (!got.ok) {
    process.stderr.write(`evidence restore: the project is busy: ${describeHolder(got.holder)} holds ${runLockPath(ws.stateDir)}; nothing was restored\n`);
    return EXIT.failed;
  }
  try {
    return await restoreVersion(ws, root, path, rows, inv.values.run as string | undefined);
  } finally {
    got.lock.release();
  }
}

async function restoreVersion(ws: Workspace, root: string, path: string, rows: HistoryRecord[], runId: string | undefined): Promise<number> {
  const candidates = runId ? rows.filter((h) => h.runId === runId) : rows;
  const current = await ws.hasher.hashPath(path);
  // The newest version that differs from what the file holds now: right after a run overwrote a
  // hand-written file, that is the archived original (the run recorded both under its id).
  const currentHash = current.type === 'file' ? current.hash : undefined;
  const pick = [...candidates].reverse().find((h) => h.hash !== currentHash) ?? candidates[candidates.length - 1];
  if (pick && pick.hash === currentHash) {
    process.stdout.write(`${path} already holds that version (sha256 ${pick.hash.slice(0, 12)}); nothing to restore\n`);
    return EXIT.ok;
  }
  if (!pick) {
    process.stderr.write(runId ? `evidence restore: '${path}' has no version from run ${runId}; see evidence history ${path}\n` : `evidence restore: no stored versions of '${path}'\n`);
    return EXIT.failed;
  }
  if (!(await ws.store.verify(pick.hash))) {
    process.stderr.write(`evidence restore: the stored object for '${path}' (sha256 ${pick.hash}) is missing or corrupt; nothing was changed\n`);
    return EXIT.failed;
  }
  if (current.type === 'file' && !ws.store.has(current.hash)) {
    ws.store.put(resolve(root, path), current.hash);
    ws.appendHistory({ path, hash: current.hash, size: current.size, mode: current.mode, time: new Date().toISOString(), runId: `restore-${Date.now()}`, stage: '(before restore)', event: 'archived' });
  }
  // The version's own mode (recorded since history lines carry it); older lines fall back to the
  // current file's, then to a plain file's.
  const mode = pick.mode === 0o755 || pick.mode === 0o644 ? pick.mode : current.type === 'file' ? current.mode : 0o644;
  ws.store.restoreFile({ path, hash: pick.hash, size: pick.size, mode }, resolve(root, path));
  process.stdout.write(`restored ${path} (sha256 ${pick.hash.slice(0, 12)}, ${pick.size} bytes) from run ${pick.runId}\n`);
  return EXIT.ok;
}
