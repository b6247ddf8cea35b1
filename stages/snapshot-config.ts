// The snapshot-config stage: writes config_snapshot.json, what a later reader needs to redo a run —
// resolved params, every stage's resolved command line, the env the pipeline declares (secrets
// redacted, see provenance/redact.ts), versions of the declared tools, the git state of the project
// and sha256 of the inputs. `with: { tools?: {name: 'cmd --version'}, inputs?: [paths or globs],
// output? }`. A tool command gets 15 s; at the timeout, or when the stage is canceled, it is killed
// with all it started.
//
// A snapshot must never describe another run than the one that uses it, restored or not, so its
// fingerprint covers what it records: every param and every stage's definition (the catalog marks
// the kind `describesPipeline`), its own `with:` (so the tool commands), and its deps, which must
// cover `inputs` (checked here: an input outside the deps fails the stage). Not covered, because the
// runner cannot know them without running anything: what a tool command prints (a compiler
// upgraded in place keeps the old version line until the snapshot re-runs: `--force snapshot`), and
// the git state, which is the one of the run that last made the snapshot (a commit that changes no
// input leaves the evidence, and so the snapshot, as it was).
// No timestamp and nothing from the process env: identical inputs give a byte-identical snapshot,
// so the runner's early cutoff can skip everything downstream.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { writeFileAtomic, StageFailure, type StageContext, type StageModule, toolSchemasDir, outputOf } from '../src/stage-api/index.js';
import { uncovered } from './provenance/coverage.js';
import { readGitState } from './provenance/git.js';
import { redactText } from './provenance/redact.js';
import { evidenceVersion, recordPipeline, SNAPSHOT_FORMAT, toPosix, type ConfigSnapshot, type InputHash, type ToolVersion } from './provenance/snapshot.js';

export { REDACTED, redactCommand, redactEnv, redactValue } from './provenance/redact.js';
export { readGitState, type GitState } from './provenance/git.js';
export type { ConfigSnapshot, InputHash, ToolVersion } from './provenance/snapshot.js';

export interface SnapshotConfigWith {
  tools?: Record<string, string>;
  inputs?: string[];
  output?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'snapshot-config.input.schema.json'), 'utf8')) as object;

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

/** Project-relative patterns of `with.inputs` that the stage's deps do not cover. */
export function inputsOutsideDeps(ctx: StageContext): string[] {
  const w = ctx.with as SnapshotConfigWith;
  const patterns = (w.inputs ?? []).map((p) => toPosix(relative(ctx.root, resolve(ctx.cwd, p))));
  return uncovered(patterns, ctx.deps);
}

/** Builds the snapshot (no writing), for tests. */
export async function buildSnapshot(ctx: StageContext): Promise<ConfigSnapshot> {
  const w = ctx.with as SnapshotConfigWith;
  const pipeline = ctx.pipeline;
  const ownOutput = w.output ? [toPosix(relative(ctx.root, resolve(ctx.cwd, w.output)))] : [];
  const allOuts = [...new Set([...ctx.outs, ...ownOutput, ...pipeline.stages.flatMap((s) => s.outs)])];
  const tools: Record<string, ToolVersion> = {};
  for (const name of Object.keys(w.tools ?? {}).sort()) {
    const t = await toolVersion(w.tools![name]!, ctx.cwd, ctx.env, ctx.signal);
    // A version line or an error may quote a URL with its credentials, or the command's own options.
    tools[name] = { command: redactText(t.command), version: t.version === null ? null : redactText(t.version), error: t.error === null ? null : redactText(t.error) };
  }
  const inputs = w.inputs ? await hashInputs(w.inputs, ctx.cwd, ctx.root) : await hashInputs(ctx.deps, ctx.root, ctx.root);
  return {
    format: SNAPSHOT_FORMAT,
    evidence: evidenceVersion(),
    pipeline: toPosix(relative(ctx.root, pipeline.file)),
    ...recordPipeline(pipeline, ctx.params),
    tools,
    git: await readGitState(ctx.root, allOuts, ctx.signal),
    inputs,
  };
}

async function runStage(ctx: StageContext): Promise<void> {
  const outside = inputsOutsideDeps(ctx);
  if (outside.length) {
    throw new StageFailure(
      'require',
      `input(s) ${outside.map((p) => `'${p}'`).join(', ')} not among the deps of stage '${ctx.stage}': a change to them would not re-run it, and a restored snapshot would record old hashes; add them (or a folder holding them) to deps`,
    );
  }
  const output = outputOf(ctx);
  const snapshot = await buildSnapshot(ctx);
  for (const [name, t] of Object.entries(snapshot.tools)) if (t.error) ctx.log.warn(`tool ${name}: ${t.error}`);
  await writeFileAtomic(output, JSON.stringify(snapshot, null, 2) + '\n');
  const g = snapshot.git;
  ctx.log.info(
    `${snapshot.stages.length} stage(s), ${Object.keys(snapshot.tools).length} tool(s), ${snapshot.inputs.length} input(s), git ${g.sha ? g.sha.slice(0, 12) + (g.dirty ? ' (dirty)' : '') : 'none'}`,
  );
}

export default { name: 'snapshot-config', version: '3', inputSchema, run: runStage } satisfies StageModule;
