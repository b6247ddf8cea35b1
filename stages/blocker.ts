// The blocker stage: runs once after a failed run, with ctx.failure set, and records everything an
// engineer would otherwise save by hand, in the failed stage's report folder:
//   attempt_failed.log        command line, cwd, env, exit code or signal, duration, full stdout/stderr
//   <stage>_blocker.patch     the source changes against HEAD (`git apply` reproduces them), without
//                             the outs, the lock or the blocker's files, within size limits
//   blocker.json              the record (schemas/blocker.schema.json): the traceback, what the patch
//                             holds and left out, and every stage's outs with size and hash
// and appends a dated section to notes.md, earlier content kept byte for byte, unless the notes
// already end with this same failure (notes/identity.ts): then the files above are rewritten and
// the notes left as they are.
// `with: { dir?, notes?, patch?, tail? }`. A user script with the same contract can replace it.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic, type FailureInfo, type StageContext, type StageModule, formatIssues, toolSchemasDir, validateAgainst } from '../src/stage-api/index.js';
import { redactCommand, redactEnv, redactText } from './provenance/redact.js';
import { appendToNotes } from './notes/append.js';
import { extractTraceback, type Traceback } from './forensics/traceback.js';
import { DEFAULT_PATCH_LIMITS, writeWorkingTreePatch, type OmittedFile, type PatchLimits, type PatchResult } from './forensics/git-patch.js';
import { listOuts, type ListedOut, type OutsListing } from './forensics/outs.js';
import { attemptLog, failureIdentity, notesSection } from './forensics/failure-text.js';

export interface BlockerWith {
  dir?: string;
  notes?: string;
  patch?: boolean | { max_file_kb?: number; max_kb?: number };
  tail?: number;
}

export interface BlockerRecord {
  format: 'evidence-blocker/2';
  time: string;
  stage: string;
  reason: FailureInfo['reason'];
  message: string;
  job?: { scheduler: 'slurm'; id: string; state: string; detail?: string; node?: string; stdout?: string; stderr?: string };
  exitCode: number | null;
  signal: string | null;
  command: string;
  cwd: string;
  env: Record<string, string>;
  durationMs: number;
  gitSha: string | null;
  log: string;
  patch: string | null;
  patchNote?: string;
  /** Repository-relative paths the patch changes. */
  patchFiles: string[];
  patchBytes: number;
  patchLimits: { fileBytes: number; totalBytes: number };
  patchOmitted: OmittedFile[];
  outs: ListedOut[];
  outsNote?: string;
  notes: string;
  notesAppended: boolean;
  traceback: Traceback;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'blocker.input.schema.json'), 'utf8')) as object;

/** Streams bigger than this are kept by their end in attempt_failed.log. */
const MAX_STREAM_BYTES = 64 << 20;
/** Names the blocker gives its files: those of earlier failures stay out of the patch too. */
const ARTIFACT_GLOBS = ['attempt_failed.log', 'blocker.json', '*_blocker.patch'];
/** What a run makes besides the outs: the lock and the runner's own folder. */
const RUNNER_PRODUCTS = ['evidence.lock', '.evidence'];

/** A stream's full text: the runner's complete capture when it has one, else what the failure carries. */
async function fullStream(file: string | undefined, fallback: string): Promise<string> {
  if (!file) return fallback;
  try {
    const size = statSync(file).size;
    if (size > MAX_STREAM_BYTES) return `[${size} bytes in ${file}; only the last part is kept here]\n${fallback}`;
    return await readFile(file, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * Refuses a folder that leads outside the project through a symlink: the loader checked `dir` and
 * `notes` as written, but `{stage}` is replaced only now and a stage may have planted a link since.
 */
function confine(root: string, abs: string, what: string): void {
  const realRoot = realpathSync(root);
  let existing = abs;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const real = realpathSync(existing);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new Error(`the blocker's ${what} '${relative(root, abs)}' leads outside the project (${existing} → ${real})`);
}

function outsNote(listed: OutsListing): string | undefined {
  const parts = [
    ...(listed.unhashed ? [`${listed.unhashed} listed without a hash (over 1 GiB of outs hashed already)`] : []),
    ...(listed.more ? [`${listed.more} more files in the outs not listed (1000 at most)`] : []),
  ];
  return parts.length ? parts.join('; ') : undefined;
}

function patchLimits(w: BlockerWith): PatchLimits {
  const o = typeof w.patch === 'object' ? w.patch : {};
  return {
    fileBytes: o.max_file_kb !== undefined ? o.max_file_kb * 1024 : DEFAULT_PATCH_LIMITS.fileBytes,
    totalBytes: o.max_kb !== undefined ? o.max_kb * 1024 : DEFAULT_PATCH_LIMITS.totalBytes,
  };
}

async function run(ctx: StageContext): Promise<{ artifacts: string[] }> {
  const f = ctx.failure;
  if (!f) throw new Error('the blocker runs after a failed stage; ctx.failure is not set');
  const w = ctx.with as BlockerWith;
  const sub = (p: string, stage = f.stage) => p.split('{stage}').join(stage);
  const dir = resolve(ctx.root, sub(w.dir ?? f.reportDir));
  const notesFile = w.notes ? resolve(ctx.root, sub(w.notes)) : join(dir, 'notes.md');
  confine(ctx.root, dir, 'dir');
  confine(ctx.root, dirname(notesFile), 'notes');
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'attempt_failed.log');
  const patchFile = join(dir, `${f.stage}_blocker.patch`);
  const jsonFile = join(dir, 'blocker.json');
  const rel = (abs: string) => relative(ctx.root, abs).split('\\').join('/');

  // The notes of every stage's blocker, where `dir` or `notes` name {stage}: earlier failures' files.
  const stageNames = ctx.pipeline.stages.map((s) => s.name);
  const blockerNotes = stageNames.flatMap((s) => (w.notes ? [sub(w.notes, s)] : w.dir ? [`${sub(w.dir, s)}/notes.md`] : []));
  const limits = patchLimits(w);
  // The patch first, and without the blocker's own files: nothing it writes can end up inside.
  let git: PatchResult;
  if (w.patch === false) git = { repo: false, sha: null, note: 'patch: false in the blocker’s with:' };
  else {
    try {
      git = await writeWorkingTreePatch(ctx.root, patchFile, {
        products: [...ctx.pipeline.stages.flatMap((s) => s.outs), ...RUNNER_PRODUCTS],
        artifacts: [...[logFile, patchFile, jsonFile, notesFile].map(rel), ...blockerNotes],
        artifactGlobs: ARTIFACT_GLOBS,
        limits,
      });
    } catch (err) {
      git = { repo: false, sha: null, note: `could not make the patch: ${(err as Error).message}` };
    }
  }
  if (git.note) ctx.log.warn(git.note);
  const listed = await listOuts(ctx.root, ctx.pipeline.stages);

  // The same rules as the snapshot: secret-named env values and credentials in any text never
  // reach a forensics file, the traceback included.
  const stdout = redactText(await fullStream(f.stdoutLog, f.stdout));
  const stderr = redactText(await fullStream(f.stderrLog, f.stderr));
  const traceback = extractTraceback({ stderr, stdout, signal: f.signal, tailLines: w.tail });
  const rec: BlockerRecord = {
    format: 'evidence-blocker/2',
    time: new Date().toISOString(),
    stage: f.stage,
    reason: f.reason,
    message: redactText(f.message),
    ...(f.job ? { job: { ...f.job, ...(f.stdoutLog ? { stdout: rel(f.stdoutLog) } : {}), ...(f.stderrLog ? { stderr: rel(f.stderrLog) } : {}) } } : {}),
    exitCode: f.exitCode,
    signal: f.signal,
    command: redactCommand(f.command),
    cwd: rel(f.cwd) || '.',
    env: redactEnv(f.env),
    durationMs: f.durationMs,
    gitSha: git.sha,
    log: rel(logFile),
    patch: git.patch ? rel(git.patch) : null,
    ...(git.note ? { patchNote: git.note } : {}),
    patchFiles: git.files ?? [],
    patchBytes: git.bytes ?? 0,
    patchLimits: limits,
    patchOmitted: git.omitted ?? [],
    outs: listed.outs,
    ...(outsNote(listed) ? { outsNote: outsNote(listed) } : {}),
    notes: rel(notesFile),
    notesAppended: false,
    traceback,
  };
  const artifacts = [rec.log, ...(rec.patch ? [rec.patch] : []), rel(jsonFile)];
  const section = notesSection(rec, artifacts);
  // Validated before anything is written: a record that breaks its schema leaves no half of it.
  const issues = validateAgainst(join(toolSchemasDir(), 'blocker.schema.json'), rec);
  if (issues.length) throw new Error(`blocker.json would break schemas/blocker.schema.json: ${formatIssues(issues)}`);

  await writeFileAtomic(logFile, attemptLog(f, rec, stdout, stderr));
  const { appended } = await appendToNotes(notesFile, section, { writer: 'blocker', subject: f.stage, identity: failureIdentity(rec) });
  if (!appended) ctx.log.info(`${rec.notes} already ends with this failure of ${f.stage}: no section appended`);
  await writeFileAtomic(jsonFile, JSON.stringify({ ...rec, notesAppended: appended }, null, 2) + '\n');
  return { artifacts: [...artifacts, rec.notes] };
}

export default { name: 'blocker', version: '2', inputSchema, run } satisfies StageModule;
