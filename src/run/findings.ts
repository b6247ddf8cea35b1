// Reads the findings of settled stages through their kinds in the catalog: the one way reporters
// and the run's gate learn what a stage found. Knows no stage kind; a kind without a findings
// reader (every cmd stage, most uses-stages) simply has none. Findings are kept in
// .evidence/findings/ under a key of what they were read from (the kind's version, the stage's
// fingerprint and out hashes, the pipeline's stages), so a no-op run, which still ends with every
// verdict, reads one small file instead of loading the reader and the artifact.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import type { StageStatus } from './events.js';
import type { Findings, StageCatalog, StageKind } from '../stage-api/index.js';
import type { Workspace } from '../cache/workspace.js';
import { canonicalJson, sha256 } from '../cache/fingerprint.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { primaryOutOf } from '../pipeline/primary-out.js';
import { pipelineView } from '../pipeline/view.js';

export interface StageFindings {
  stage: string;
  findings: Findings;
}

const SETTLED: ReadonlySet<StageStatus> = new Set(['done', 'up-to-date', 'restored']);

/** What a stage's findings were read from, or undefined when the lock has no record of the stage. */
function keyOf(ws: Workspace, name: string, kind: StageKind, viewHash: string): string | undefined {
  const entry = ws.lock.stages[name];
  if (!entry) return undefined;
  return sha256(canonicalJson({ version: kind.version, fingerprint: entry.fingerprint, outs: ws.outHashesOf(name), view: viewHash }));
}

function cached(file: string, key: string): Findings | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; findings?: Findings };
    return data.key === key ? data.findings : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The findings of the stages among `statuses` whose outs are in place (ran, up to date or
 * restored), in that order; `only` narrows the stages asked (e.g. to those with a gate). With a
 * workspace, findings are cached by what they were read from.
 */
export async function readFindings(
  pipeline: Pipeline,
  catalog: StageCatalog,
  statuses: ReadonlyMap<string, StageStatus>,
  opts: { only?: (kind: StageKind, withValue: Record<string, unknown>) => boolean; ws?: Workspace } = {},
): Promise<StageFindings[]> {
  const out: StageFindings[] = [];
  let view: ReturnType<typeof pipelineView> | undefined;
  // Hashed once per call: every stage's key names the same pipeline, and hashing the view for each
  // one cost N × N in a sweep of N compare instances.
  let viewHash: string | undefined;
  for (const [name, status] of statuses) {
    const stage = pipeline.stages.get(name);
    const kind = stage?.uses ? catalog.kinds.get(stage.uses) : undefined;
    if (!stage || !kind?.findings || !SETTLED.has(status)) continue;
    if (opts.only && !opts.only(kind, stage.with)) continue;
    view ??= pipelineView(pipeline);
    const key = opts.ws ? keyOf(opts.ws, name, kind, (viewHash ??= sha256(canonicalJson(view)))) : undefined;
    const file = opts.ws && key ? join(opts.ws.stateDir, 'findings', `${encodeURIComponent(name)}.json`) : undefined;
    const hit = file && key ? cached(file, key) : undefined;
    if (hit) {
      out.push({ stage: name, findings: hit });
      continue;
    }
    try {
      const findings = await kind.findings({ stage: name, root: pipeline.root, cwd: stage.cwd, with: stage.with, outs: stage.outs.map((o) => o.path), primaryOut: primaryOutOf(stage, kind), pipeline: view });
      out.push({ stage: name, findings });
      if (file && key && !findings.warnings?.length) {
        try {
          mkdirSync(join(opts.ws!.stateDir, 'findings'), { recursive: true });
          writeFileAtomicSync(file, JSON.stringify({ key, findings }));
        } catch {
          // The cache is an accelerator only.
        }
      }
    } catch (err) {
      const message = `cannot read the findings of ${name}: ${(err as Error)?.message ?? String(err)}`;
      out.push({ stage: name, findings: { severity: 'notice', headline: message, warnings: [message] } });
    }
  }
  return out;
}

const RANK = { ok: 0, notice: 1, problem: 2 } as const;

/** The findings a run's closing line names: the most severe, the first among equals. */
export function leadingFindings(all: StageFindings[]): StageFindings | undefined {
  let lead: StageFindings | undefined;
  const above = (a: Findings, b: Findings) => RANK[a.severity] > RANK[b.severity] || (RANK[a.severity] === RANK[b.severity] && (a.rank ?? 0) > (b.rank ?? 0));
  for (const f of all) if (f.findings.verdict && (!lead || above(f.findings, lead.findings))) lead = f;
  return lead;
}
