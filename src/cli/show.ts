// `evidence show [STAGE...]`: what the pipeline's stages found, as their artifacts say now, without
// running anything. For each stage whose kind reads findings (a comparison), its verdict, headline
// and findings, read from its out on disk; whether that out is current (the status logic's dry
// evaluation: up to date) or stale, and why; or that it is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Invocation } from './invocation.js';
import type { Findings, StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride, UsageError } from './project.js';
import { Workspace } from '../cache/workspace.js';
import { readFindings } from '../run/findings.js';
import { primaryOutOf } from '../pipeline/primary-out.js';
import { styleFor } from '../report/style.js';
import { evaluateStages, type StageState } from './status.js';

export interface ShownStage {
  stage: string;
  /** Project-relative path of the artifact the findings are read from. */
  out?: string;
  /** current: up to date; stale: its inputs changed since it was made; missing: not there. */
  state: 'current' | 'stale' | 'missing';
  /** Why it is stale (as `evidence status` says it). */
  reasons: string[];
  findings?: Findings;
}

/** Findings shown one per line before the rest is counted. */
const MAX_ITEMS = 10;

export async function showVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const v = inv.values;
  const overrides = ((v.param as string[] | undefined) ?? []).map(parseParamOverride);
  const opened = await openProject(v.file as string, overrides, catalog);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    return EXIT.usage;
  }
  const { pipeline } = opened.project;
  for (const t of inv.positionals) {
    if (!pipeline.stages.has(t)) throw new UsageError(`no stage named '${t}' (stages: ${[...pipeline.stages.keys()].join(', ')})`);
  }
  const kindOf = (name: string) => {
    const stage = pipeline.stages.get(name)!;
    return stage.uses ? catalog.kinds.get(stage.uses) : undefined;
  };
  const asked = inv.positionals.length ? inv.positionals : [...pipeline.stages.keys()];
  const readers = asked.filter((s) => kindOf(s)?.findings);
  const shown: ShownStage[] = [];
  if (readers.length) {
    const ws = new Workspace(pipeline.root);
    const states = new Map<string, StageState>((await evaluateStages(opened.project, ws, readers)).map((s) => [s.stage, s]));
    const current = new Map<string, 'up-to-date'>();
    const stale = new Map<string, 'up-to-date'>();
    for (const name of readers) {
      const out = primaryOutOf(pipeline.stages.get(name)!, kindOf(name));
      const state = states.get(name);
      if (!out || !existsSync(join(pipeline.root, out))) {
        shown.push({ stage: name, out, state: 'missing', reasons: state?.reasons ?? [] });
        continue;
      }
      const fresh = state?.state === 'up-to-date';
      (fresh ? current : stale).set(name, 'up-to-date');
      shown.push({ stage: name, out, state: fresh ? 'current' : 'stale', reasons: fresh ? [] : (state?.reasons ?? []) });
    }
    // A stale artifact is read as it is, past the findings cache (whose key is the recorded run).
    const found = new Map(
      [...(await readFindings(pipeline, catalog, current, { ws })), ...(await readFindings(pipeline, catalog, stale))].map((f) => [f.stage, f.findings]),
    );
    for (const s of shown) s.findings = found.get(s.stage);
  }

  if (v.json) {
    process.stdout.write(JSON.stringify({ stages: shown }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (!shown.length) {
    process.stdout.write(inv.positionals.length ? `no findings to show: ${asked.join(', ')} read none (only some kinds of stage report findings)\n` : 'no stage of this pipeline reports findings\n');
    return EXIT.ok;
  }
  process.stdout.write(render(shown, styleFor(process.stdout)));
  return EXIT.ok;
}

function render(shown: ShownStage[], c: ReturnType<typeof styleFor>): string {
  const lines: string[] = [];
  for (const s of shown) {
    if (lines.length) lines.push('');
    if (s.state === 'missing') {
      lines.push(`${c.bold(s.stage)}: ${c.yellow('missing')}${s.out ? ` ${s.out}` : ''}: nothing to show; evidence run ${s.stage} makes it`);
      continue;
    }
    const f = s.findings!;
    const colour = { ok: c.green, notice: c.yellow, problem: c.red }[f.severity];
    lines.push(`${c.bold(s.stage)}: ${f.verdict ? colour(f.verdict) : c.dim('no verdict')} ${c.dim(`(${s.out})`)}`);
    if (s.state === 'stale') lines.push(`  ${c.yellow('stale')}: ${s.reasons.join('; ') || 'its inputs changed'}; this is what the last run found (evidence run ${s.stage} updates it)`);
    lines.push(`  ${f.headline}`);
    if (f.gate) lines.push(`  ${c.red('gate met')}: ${f.gate.rule}`);
    const items = (f.annotations ?? []).filter((a) => a.level !== 'notice');
    for (const a of items.slice(0, MAX_ITEMS)) lines.push(`  ${a.level === 'error' ? c.red('✗') : c.yellow('!')} ${a.message}`);
    if (items.length > MAX_ITEMS) lines.push(c.dim(`  … ${items.length - MAX_ITEMS} more in ${s.out} (evidence show --json lists them all)`));
    for (const a of (f.annotations ?? []).filter((x) => x.level === 'notice')) lines.push(c.dim(`  … ${a.message}`));
    for (const w of f.warnings ?? []) if (w !== f.headline) lines.push(`  ${c.yellow('warning')}: ${w}`);
  }
  return lines.join('\n') + '\n';
}
