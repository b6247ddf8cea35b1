// What a stage that describes the pipeline (a config snapshot) takes of the rest of the pipeline:
// one hash over every stage's definition and the pipeline's env, computed once per loaded pipeline
// and shared by every describing stage. Each describing stage used to carry (and the lock to
// record) every other stage's definition, which made a sweep of N snapshot instances cost N × N.
// The per-stage part digests that say *what* changed are kept once per pipeline version in
// .evidence/pipelines/<hash>.json, not in each lock entry; where that file is gone, "why it runs"
// says the pipeline changed without naming the part.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline, Stage } from '../pipeline/model.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { canonicalJson, sha256, type PipelineDefinition, type StageDefinition } from './fingerprint.js';
import type { PipelineDigest } from './lock.js';

const PART_NAMES: Record<string, string> = { timeoutMs: 'timeout' };
const short = (v: unknown) => sha256(canonicalJson(v)).slice(0, 8);

/** One short digest per part of each stage (cmd or uses, version, with, timeout, env, cwd, deps, outs). */
export function pipelineDigestOf(p: PipelineDefinition): PipelineDigest {
  const stages: Record<string, string> = {};
  for (const name of Object.keys(p.stages).sort()) {
    const { definition, ...rest } = p.stages[name]!;
    const parts: Record<string, unknown> = { ...definition, ...rest };
    delete parts.kind;
    stages[name] = Object.keys(parts)
      .filter((k) => parts[k] !== undefined)
      .sort()
      .map((k) => `${PART_NAMES[k] ?? k}=${short(parts[k])}`)
      .join(' ');
  }
  return { env: short(p.env), stages };
}

export interface DescribedPipeline {
  /** sha256 of every stage's definition and the env: the describing stages' fingerprint input. */
  hash: string;
  /** Part digests, made on first ask (only "why it runs" and recording need them). */
  digest(): PipelineDigest;
}

/** The pipeline as describing stages see it, made once per loaded pipeline. */
export class PipelineDescriptions {
  private readonly made = new WeakMap<Pipeline, DescribedPipeline>();
  private readonly saved = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly definitionOf: (s: Stage) => Record<string, unknown>,
  ) {}

  of(pipeline: Pipeline): DescribedPipeline {
    let d = this.made.get(pipeline);
    if (d) return d;
    const stages: Record<string, StageDefinition> = {};
    for (const s of pipeline.stages.values()) {
      stages[s.name] = { definition: this.definitionOf(s), env: s.env, cwd: s.cwd, deps: s.deps.map((x) => x.pattern), outs: outSpecsOf(s) };
    }
    const definition: PipelineDefinition = { env: pipeline.env, stages };
    let digest: PipelineDigest | undefined;
    d = { hash: sha256(canonicalJson(definition)), digest: () => (digest ??= pipelineDigestOf(definition)) };
    this.made.set(pipeline, d);
    return d;
  }

  /** Keeps the part digests of a pipeline version that a lock entry is about to name. */
  save(d: DescribedPipeline): void {
    if (this.saved.has(d.hash)) return;
    this.saved.add(d.hash);
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileAtomicSync(join(this.dir, `${d.hash}.json`), JSON.stringify(d.digest()));
    } catch {
      // Only explanations read it: a read-only checkout still runs, and says less about why.
    }
  }

  /** Removes the kept versions no lock entry names (evidence gc); returns how many went. */
  prune(named: ReadonlySet<string>): number {
    let removed = 0;
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      return 0;
    }
    for (const f of files) {
      if (!f.endsWith('.json') || named.has(f.slice(0, -'.json'.length))) continue;
      rmSync(join(this.dir, f), { force: true });
      this.saved.delete(f.slice(0, -'.json'.length));
      removed++;
    }
    return removed;
  }

  /** The part digests of an earlier pipeline version, when they were kept. */
  load(hash: string): PipelineDigest | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${hash}.json`), 'utf8')) as PipelineDigest;
    } catch {
      return undefined;
    }
  }
}

/** A stage's outs as its fingerprint sees them. */
export function outSpecsOf(stage: Stage): Array<{ path: string; schema?: string; cache: boolean; stream?: string }> {
  return stage.outs.map((o) => ({ path: o.path, schema: o.schema, cache: o.cache, stream: o.stream }));
}
