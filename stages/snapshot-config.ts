// The snapshot-config stage: writes config_snapshot.json, what a later reader needs to redo a run —
// resolved params, every stage's resolved command line, the env the pipeline declares (secrets
// redacted), versions of the declared tools, the git state of the project, and sha256 of the inputs.
// `with: { tools?: {name: 'cmd --version'}, inputs?: [paths or globs], output? }`. A tool command
// gets 15 s; at the timeout, or when the stage is canceled, it is killed with all it started.
// No timestamp and nothing from the process env: identical inputs give a byte-identical snapshot,
// so the runner's early cutoff can skip everything downstream.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { writeFileAtomic, type StageContext, type StageModule, toolSchemasDir, outputOf } from '../src/stage-api/index.js';

export interface SnapshotConfigWith {
  tools?: Record<string, string>;
  inputs?: string[];
  output?: string;
}

export const REDACTED = '***REDACTED***';
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|KEY/i;

export interface GitState {
  sha: string | null;
  branch: string | null;
  dirty: boolean | null;
  /** Project-relative paths with uncommitted changes (declared outs excluded), sorted, at most 100. */
  changed: string[];
}

export interface ToolVersion {
  command: string;
  /** First line of the command's output (stdout, else stderr); null when it failed. */
  version: string | null;
  error: string | null;
}

export interface InputHash {
  /** Project-relative, forward slashes. */
  path: string;
  sha256: string | null;
  bytes: number | null;
  /** Set when a literal (non-glob) input does not exist. */
  missing?: true;
}

export interface ConfigSnapshot {
  format: 'evidence-config-snapshot/1';
  /** pipeline.yaml, project-relative. */
  pipeline: string;
  params: Record<string, unknown>;
  env: Record<string, string>;
  stages: Array<{ name: string; command: string; deps: string[]; outs: string[]; env: Record<string, string> }>;
  tools: Record<string, ToolVersion>;
  git: GitState;
  inputs: InputHash[];
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'snapshot-config.input.schema.json'), 'utf8')) as object;

/** Copies `env` with the values of secret-looking names replaced. Keys sorted, for determinism. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) out[name] = SECRET_NAME.test(name) ? REDACTED : env[name];
  return out;
}

/** Redacts values under secret-looking keys at any depth (params may carry an API key). */
export function redactDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_NAME.test(k) ? REDACTED : redactDeep(v);
    return out;
  }
  return value;
}

/**
 * Redacts secrets written into a command line: `API_TOKEN=abc cmd`, `--password=xyz`,
 * `--api-key xyz`, and `"token":"abc"` in the JSON of a uses-stage's `with`.
 */
export function redactCommand(command: string): string {
  const secret = (name: string) => SECRET_NAME.test(name);
  return command
    .replace(/("([^"\\]+)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g, (all, head: string, name: string) => (secret(name) ? `${head}"${REDACTED}"` : all))
    .replace(/(^|\s)((?:--?)?[A-Za-z_][\w-]*)=("[^"]*"|'[^']*'|\S+)/g, (all, lead: string, name: string) => (secret(name) ? `${lead}${name}=${REDACTED}` : all))
    .replace(/(^|\s)(--?[A-Za-z][\w-]*)(\s+)(?!-)("[^"]*"|'[^']*'|\S+)/g, (all, lead: string, flag: string, gap: string) =>
      secret(flag) ? `${lead}${flag}${gap}${REDACTED}` : all,
    );
}

// execa loads lazily (~100 ms, measured): write-notes imports readGitState from here.
async function git(args: string[], cwd: string, signal?: AbortSignal): Promise<string> {
  const { execa } = await import('execa');
  const r = await execa('git', args, { cwd, cancelSignal: signal, timeout: 15_000, stdin: 'ignore', maxBuffer: 16 << 20, stripFinalNewline: false, env: { LC_ALL: 'C' } });
  return r.stdout;
}

/**
 * The git state of `dir`: HEAD's SHA (null before the first commit), the branch (null when
 * detached), and whether anything but the declared outs (`ignore`, project-relative paths or
 * globs) differs from HEAD. All null when `dir` is not in a git work tree or git is missing.
 */
export async function readGitState(dir: string, ignore: string[] = [], signal?: AbortSignal): Promise<GitState> {
  const none: GitState = { sha: null, branch: null, dirty: null, changed: [] };
  let prefix: string;
  try {
    const inside = (await git(['rev-parse', '--is-inside-work-tree'], dir, signal)).trim();
    if (inside !== 'true') return none;
    prefix = (await git(['rev-parse', '--show-prefix'], dir, signal)).trim();
  } catch {
    return none;
  }
  const sha = await git(['rev-parse', '--verify', '-q', 'HEAD'], dir, signal).then(
    (s) => s.trim() || null,
    () => null,
  );
  const branch = await git(['symbolic-ref', '--short', '-q', 'HEAD'], dir, signal).then(
    (s) => s.trim() || null,
    () => null,
  );
  let porcelain: string;
  try {
    porcelain = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.'], dir, signal);
  } catch {
    return { sha, branch, dirty: null, changed: [] };
  }
  const skip = ignore.length ? picomatch(ignore.flatMap((p) => [p, `${p}/**`]), { dot: true }) : () => false;
  const changed: string[] = [];
  const entries = porcelain.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.length < 4) continue;
    const code = e.slice(0, 2);
    const repoPath = e.slice(3);
    if (code[0] === 'R' || code[0] === 'C') i++; // the next entry is the rename's source
    const path = repoPath.startsWith(prefix) ? repoPath.slice(prefix.length) : repoPath;
    if (skip(path)) continue;
    changed.push(path);
  }
  changed.sort();
  return { sha, branch, dirty: changed.length > 0, changed: changed.slice(0, 100) };
}

const TOOL_TIMEOUT_MS = 15_000;

/**
 * Runs a tool's version command (a shell string); the first non-empty line of stdout (else
 * stderr), or why it failed, naming the command.
 */
export async function toolVersion(command: string, cwd: string, env: Record<string, string>, signal?: AbortSignal, timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolVersion> {
  const { execa } = await import('execa');
  const first = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? null;
  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  // Its own process group, ended as a whole: /bin/sh (dash) does not exec a lone command, and a
  // tool may leave a child behind, so killing only the shell (execa's own timeout) would leave
  // stdout open and the call hanging until that child is done.
  const tool = execa(command, { shell: true, detached: true, cwd, env, stdin: 'ignore', cancelSignal: stop, maxBuffer: 1 << 20, reject: false });
  const endGroup = () => {
    try {
      if (tool.pid) process.kill(-tool.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  stop.addEventListener('abort', endGroup, { once: true });
  let r;
  try {
    r = await tool;
  } finally {
    // Once the group is reaped its id may be reused: never signal it after this point.
    stop.removeEventListener('abort', endGroup);
  }
  const from = `(from ${r.escapedCommand})`;
  if (r.failed) {
    const error = timeout.aborted
      ? `timed out after ${timeoutMs / 1000} s, killed ${from}`
      : r.isCanceled
        ? `canceled ${from}`
        : r.exitCode !== undefined && !r.isMaxBuffer
          ? `exit ${r.exitCode}: ${first(r.stderr) ?? 'no output'} ${from}`
          : // execa's message names the command (too much output, killed by a signal, could not start).
            (r.shortMessage ?? r.escapedCommand).split('\n')[0];
    return { command, version: null, error };
  }
  const line = first(r.stdout) ?? first(r.stderr);
  return line === null ? { command, version: null, error: 'no output' } : { command, version: line, error: null };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** Expands `patterns` (relative to cwd) and hashes every file, sorted by project-relative path. */
export async function hashInputs(patterns: string[], cwd: string, root: string): Promise<InputHash[]> {
  const files = new Set<string>();
  const missing: string[] = [];
  for (const pattern of patterns) {
    if (picomatch.scan(pattern).isGlob) {
      for (const f of await glob(pattern, { cwd, absolute: true, dot: true, onlyFiles: true, expandDirectories: false })) files.add(resolve(f));
      continue;
    }
    const abs = resolve(cwd, pattern);
    const st = await stat(abs).catch(() => undefined);
    if (!st) missing.push(abs);
    else if (st.isDirectory()) {
      for (const f of await glob('**/*', { cwd: abs, absolute: true, dot: true, onlyFiles: true })) files.add(resolve(f));
    } else files.add(abs);
  }
  const out: InputHash[] = [];
  for (const abs of files) {
    const st = await stat(abs);
    out.push({ path: toPosix(relative(root, abs)), sha256: await sha256File(abs), bytes: st.size });
  }
  for (const abs of missing) out.push({ path: toPosix(relative(root, abs)), sha256: null, bytes: null, missing: true });
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** Builds the snapshot (no writing), for tests and for write-notes. */
export async function buildSnapshot(ctx: StageContext): Promise<ConfigSnapshot> {
  const w = ctx.with as SnapshotConfigWith;
  const pipeline = ctx.pipeline;
  const ownOutput = w.output ? [toPosix(relative(ctx.root, resolve(ctx.cwd, w.output)))] : [];
  const allOuts = [...new Set([...ctx.outs, ...ownOutput, ...pipeline.stages.flatMap((s) => s.outs)])];
  const toolNames = Object.keys(w.tools ?? {}).sort();
  const tools: Record<string, ToolVersion> = {};
  for (const name of toolNames) tools[name] = await toolVersion(w.tools![name], ctx.cwd, ctx.env, ctx.signal);
  const inputs = w.inputs ? await hashInputs(w.inputs, ctx.cwd, ctx.root) : await hashInputs(ctx.deps, ctx.root, ctx.root);
  return {
    format: 'evidence-config-snapshot/1',
    pipeline: toPosix(relative(ctx.root, pipeline.file)),
    params: redactDeep(ctx.params) as Record<string, unknown>,
    env: redactEnv(pipeline.env),
    stages: pipeline.stages.map((s) => ({
      name: s.name,
      command: redactCommand(s.command),
      deps: [...s.deps],
      outs: [...s.outs],
      env: redactEnv(s.env),
    })),
    tools,
    git: await readGitState(ctx.root, allOuts, ctx.signal),
    inputs,
  };
}

async function runStage(ctx: StageContext): Promise<void> {
  const w = ctx.with as SnapshotConfigWith;
  const output = outputOf(ctx);
  const snapshot = await buildSnapshot(ctx);
  for (const [name, t] of Object.entries(snapshot.tools)) if (t.error) ctx.log.warn(`tool ${name}: ${t.error}`);
  await writeFileAtomic(output, JSON.stringify(snapshot, null, 2) + '\n');
  const g = snapshot.git;
  ctx.log.info(
    `${snapshot.stages.length} stage(s), ${Object.keys(snapshot.tools).length} tool(s), ${snapshot.inputs.length} input(s), git ${g.sha ? g.sha.slice(0, 12) + (g.dirty ? ' (dirty)' : '') : 'none'}`,
  );
}

export default { name: 'snapshot-config', version: '1', inputSchema, run: runStage } satisfies StageModule;
