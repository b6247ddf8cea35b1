// The write-notes stage: appends one dated section (UTC) to a notes file — command lines and git
// state (from a config snapshot when given), the verdict, the key deltas, and where the first
// divergence lies relative to the checkpoints. Earlier content is never rewritten: the existing
// bytes are read, the section appended, and the whole written to a temporary file renamed into
// place, so the old bytes survive byte for byte and a crash leaves the old file intact.
// `with: { notes, comparison, snapshot?, title? }`. Each run appends exactly one section.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appendToNotes } from './notes/append.js';
export { appendSection } from './notes/append.js';
import { StageFailure, type StageContext, type StageModule, readValidatedJson, toolSchemasDir } from '../src/stage-api/index.js';
import { readGitState, redactCommand, type ConfigSnapshot } from './snapshot-config.js';
import { readComparison } from './summarize.js';
import { renderNotesSection } from './trace/summary.js';

export interface WriteNotesWith {
  notes: string;
  comparison: string;
  snapshot?: string;
  title?: string;
}

const inputSchema = JSON.parse(readFileSync(join(toolSchemasDir(), 'write-notes.input.schema.json'), 'utf8')) as object;

async function run(ctx: StageContext): Promise<void> {
  const w = ctx.with as unknown as WriteNotesWith;
  const notesPath = resolve(ctx.cwd, w.notes);
  const comparisonPath = resolve(ctx.cwd, w.comparison);
  const comparison = readComparison(comparisonPath);
  let snapshot: ConfigSnapshot | undefined;
  if (w.snapshot) {
    try {
      snapshot = readValidatedJson<ConfigSnapshot>(resolve(ctx.cwd, w.snapshot), join(toolSchemasDir(), 'config-snapshot.schema.json'));
    } catch (err) {
      throw new StageFailure('schema', (err as Error).message);
    }
  }
  const git = snapshot ? snapshot.git : await readGitState(ctx.root, [...ctx.outs, ...ctx.pipeline.stages.flatMap((s) => s.outs)], ctx.signal);
  // The snapshot's command lines are already redacted; the pipeline's own are not.
  const commands = snapshot
    ? snapshot.stages.map((s) => ({ name: s.name, command: s.command }))
    : ctx.pipeline.stages.map((s) => ({ name: s.name, command: redactCommand(s.command) }));
  const digest =
    'sha256:' +
    createHash('sha256')
      .update(readFileSync(comparisonPath))
      .update(w.snapshot ? readFileSync(resolve(ctx.cwd, w.snapshot)) : '')
      .digest('hex');
  const section = renderNotesSection(comparison, {
    date: new Date().toISOString(),
    ...(w.title ? { title: w.title } : {}),
    commands,
    git,
    digest,
  });
  const kept = await appendToNotes(notesPath, section);
  ctx.log.info(`appended a section to ${w.notes} (${kept} bytes kept)`);
}

export default { name: 'write-notes', version: '1', inputSchema, run } satisfies StageModule;
