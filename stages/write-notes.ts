// The write-notes stage: appends one dated section (UTC) to a notes file — git state, the verdict,
// the key deltas and where the first divergence lies relative to the checkpoints (stages/trace/
// summary.ts), then what made this comparison: params, the comparison's options, tool versions and
// every command line (stages/provenance/), from the snapshot of this run when given one (a dep,
// checked to describe this pipeline), else from the pipeline and git read now. Earlier content is
// never rewritten: the existing bytes are read, the section appended, and the whole written to a
// temporary file renamed into place, so the old bytes survive byte for byte and a crash leaves the
// old file intact. `with: { notes, comparison, snapshot?, title? }`.
// A section is appended only when the evidence changed: its identity is the comparison's bytes
// (verdict, findings, every compared value, the options and the traces it names), so a re-run
// whose comparison came out the same (a comment edited in the port, a commit, a param that does
// not reach the traces) appends nothing; the rule and where it is kept are in notes/identity.ts.
// A section's date is the clock's (a notes file is a log of runs, never restored from the cache).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appendToNotes } from './notes/append.js';
import { digestOf } from './notes/identity.js';
export { appendSection } from './notes/append.js';
import { type StageContext, type StageModule, toolSchemasDir } from '../src/stage-api/index.js';
import { readComparison } from './summarize.js';
import { renderNotesSection } from './trace/summary.js';
import { gatherProvenance } from './provenance/gather.js';
import { renderNotesProvenance } from './provenance/render.js';

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
  const provenance = await gatherProvenance(ctx, w.snapshot);
  const comparisonBytes = readFileSync(comparisonPath);
  const id = { writer: 'write-notes' as const, subject: ctx.stage, identity: digestOf(comparisonBytes) };
  // Command lines are rendered with the rest of the provenance, after the findings.
  const findings = renderNotesSection(comparison, { date: new Date().toISOString(), ...(w.title ? { title: w.title } : {}), commands: [], git: provenance.git });
  const section = [findings.replace(/\n+$/, ''), '', renderNotesProvenance(provenance, comparison.options).replace(/\n+$/, ''), ''].join('\n');
  const { appended, kept } = await appendToNotes(notesPath, section, id);
  ctx.log.info(
    appended
      ? `appended a section to ${w.notes} (${kept} bytes kept)`
      : `${w.notes} unchanged: its latest section of stage ${ctx.stage} describes this same comparison (${id.identity.slice(0, 19)})`,
  );
}

export default { name: 'write-notes', version: '3', inputSchema, run } satisfies StageModule;
