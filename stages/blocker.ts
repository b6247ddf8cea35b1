// The blocker stage: runs once after a failed run, with ctx.failure set, and records everything an
// engineer would otherwise save by hand, in the failed stage's report folder:
//   attempt_failed.log        command line, cwd, env, exit code or signal, duration, full stdout/stderr
//   <stage>_blocker.patch     the working tree's changes against HEAD (`git apply` reproduces them)
//   blocker.json              the record (schemas/blocker.schema.json), with the traceback
// and appends a dated section to notes.md, earlier content kept byte for byte.
// `with: { dir?, notes?, patch?, tail? }`. A user script with the same contract can replace it.
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic, type FailureInfo, type StageContext, type StageModule, formatIssues, toolSchemasDir, validateAgainst } from '../src/stage-api/index.js';
import { redactCommand, redactEnv, redactText } from './provenance/redact.js';
import { appendToNotes } from './notes/append.js';
import { extractTraceback, type Traceback } from './forensics/traceback.js';
import { writeWorkingTreePatch, type PatchResult } from './forensics/git-patch.js';

export interface BlockerWith {
  dir?: string;
  notes?: string;
  patch?: boolean;
  tail?: number;
}

export interface BlockerRecord {
  format: 'evidence-blocker/1';
  time: string;
  stage: string;
  reason: FailureInfo['reason'];
  message: string;
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
  notes: string;
  traceback: Traceback;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'blocker.input.schema.json'), 'utf8')) as object;

/** Streams bigger than this are kept by their end in attempt_failed.log. */
const MAX_STREAM_BYTES = 64 << 20;


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

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A Markdown code fence longer than any backtick run inside `text`. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

function attemptLog(f: FailureInfo, rec: BlockerRecord, stdout: string, stderr: string): string {
  const envLines = Object.entries(rec.env).map(([k, v]) => `  ${k}=${v}`);
  return [
    `# evidence: attempt failed`,
    `stage:     ${f.stage}`,
    `reason:    ${f.reason}: ${rec.message.split('\n')[0]}`,
    `command:   ${rec.command}`,
    `cwd:       ${f.cwd}`,
    `env (set by the pipeline):${envLines.length ? '' : ' (none)'}`,
    ...envLines,
    `exit code: ${f.exitCode ?? '-'}`,
    `signal:    ${f.signal ?? '-'}`,
    `duration:  ${seconds(f.durationMs)}`,
    `git HEAD:  ${rec.gitSha ?? '-'}`,
    `time:      ${rec.time}`,
    '',
    `----- stdout (${Buffer.byteLength(stdout)} bytes) -----`,
    stdout.replace(/\n$/, ''),
    `----- stderr (${Buffer.byteLength(stderr)} bytes) -----`,
    stderr.replace(/\n$/, ''),
    `----- end -----`,
    '',
  ].join('\n');
}

function notesSection(rec: BlockerRecord, artifacts: string[]): string {
  const when = rec.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const cmdFence = fence(rec.command);
  const tbFence = fence(rec.traceback.text);
  const lines = [
    `## ${when} — stage \`${rec.stage}\` failed (${rec.reason})`,
    '',
    rec.message.split('\n')[0]!,
    '',
    'Command:',
    '',
    cmdFence,
    rec.command,
    cmdFence,
    '',
  ];
  if (rec.traceback.text) lines.push(`Traceback (${rec.traceback.kind}):`, '', tbFence, rec.traceback.text, tbFence, '');
  lines.push(`Git HEAD: ${rec.gitSha ?? 'none'}. Forensics: ${artifacts.map((a) => `\`${a}\``).join(', ')}.`, '');
  return lines.join('\n');
}

async function run(ctx: StageContext): Promise<{ artifacts: string[] }> {
  const f = ctx.failure;
  if (!f) throw new Error('the blocker runs after a failed stage; ctx.failure is not set');
  const w = ctx.with as BlockerWith;
  const sub = (p: string) => p.split('{stage}').join(f.stage);
  const dir = resolve(ctx.root, sub(w.dir ?? f.reportDir));
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'attempt_failed.log');
  const patchFile = join(dir, `${f.stage}_blocker.patch`);
  const jsonFile = join(dir, 'blocker.json');
  const notesFile = w.notes ? resolve(ctx.root, sub(w.notes)) : join(dir, 'notes.md');
  const rel = (abs: string) => relative(ctx.root, abs).split('\\').join('/');

  // The patch first, and without the blocker's own files: nothing it writes can end up inside.
  let git: PatchResult;
  if (w.patch === false) git = { repo: false, sha: null, note: 'patch: false in the blocker’s with:' };
  else {
    try {
      git = await writeWorkingTreePatch(ctx.root, patchFile, [logFile, patchFile, jsonFile]);
    } catch (err) {
      git = { repo: false, sha: null, note: `could not make the patch: ${(err as Error).message}` };
    }
  }
  if (git.note) ctx.log.warn(git.note);

  // The same rules as the snapshot: secret-named env values and credentials in any text never
  // reach a forensics file, the traceback included.
  const stdout = redactText(await fullStream(f.stdoutLog, f.stdout));
  const stderr = redactText(await fullStream(f.stderrLog, f.stderr));
  const traceback = extractTraceback({ stderr, stdout, signal: f.signal, tailLines: w.tail });
  const rec: BlockerRecord = {
    format: 'evidence-blocker/1',
    time: new Date().toISOString(),
    stage: f.stage,
    reason: f.reason,
    message: redactText(f.message),
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
    notes: rel(notesFile),
    traceback,
  };
  const issues = validateAgainst(join(toolSchemasDir(), 'blocker.schema.json'), rec);
  if (issues.length) throw new Error(`blocker.json would break schemas/blocker.schema.json: ${formatIssues(issues)}`);

  await writeFileAtomic(logFile, attemptLog(f, rec, stdout, stderr));
  await writeFileAtomic(jsonFile, JSON.stringify(rec, null, 2) + '\n');
  const artifacts = [rec.log, ...(rec.patch ? [rec.patch] : []), rel(jsonFile)];
  await appendToNotes(notesFile, notesSection(rec, artifacts));
  return { artifacts: [...artifacts, rec.notes] };
}

export default { name: 'blocker', version: '1', inputSchema, run } satisfies StageModule;
