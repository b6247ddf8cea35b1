// A stage that names another stage's out in its command (or in a `with:` value that is not a
// declared path field) without listing it in deps: it may run before that out is written, and it
// does not re-run when the out changes. `evidence validate` reports each as a warning at the line
// that names the path. Words are matched against outs exactly, or as a file inside an out folder;
// a word is never expanded as a glob or resolved through the shell, so this finds the plain case
// (`cmd: tool reports/a.json`) and says nothing about `$(cat list)`.
import { posix } from 'node:path';
import { createRequire } from 'node:module';
import type { Diagnostic } from './diagnostics.js';
import type { Pipeline, Stage } from './model.js';
import { normalizeRel } from './paths.js';
import { pathFieldsOf } from './named-paths.js';
import { covers } from './with-edges.js';
import type { StageCatalog } from '../stage-api/index.js';

const require = createRequire(import.meta.url);

function wordsOf(stage: Stage, catalog: StageCatalog): string[] {
  const texts: string[] = [];
  if (stage.kind === 'cmd') texts.push(...(Array.isArray(stage.cmd) ? stage.cmd : [stage.cmd ?? '']));
  else {
    const fields = pathFieldsOf(stage.uses ?? '', catalog, stage.paths);
    const declared = new Set([...(fields?.inputPaths ?? []), ...(fields?.outputPaths ?? [])]);
    const walk = (v: unknown): void => {
      if (typeof v === 'string') texts.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    for (const [k, v] of Object.entries(stage.with)) if (!declared.has(k)) walk(v);
  }
  return texts.flatMap((t) => t.split(/[\s;&|()<>'"`=,]+/)).filter((w) => w && !w.startsWith('-') && !w.includes('$') && w !== '.');
}

/** The stage whose out is `path` or holds it, by walking up its folders. */
function producerOf(path: string, outsByPath: Map<string, string>): { stage: string; out: string } | undefined {
  for (let p = path; p !== '.' && p !== ''; p = posix.dirname(p)) {
    const stage = outsByPath.get(p);
    if (stage) return { stage, out: p };
  }
  return undefined;
}

function locate(pipeline: Pipeline, stage: Stage, word: string): { line: number; column: number } {
  const lines = pipeline.source.split(/\r?\n/);
  for (let i = stage.loc.line; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > stage.loc.line && /^\S/.test(line)) break;
    const at = line.indexOf(word);
    if (at >= 0) return { line: i + 1, column: at + 1 };
  }
  return stage.loc;
}

export function undeclaredReads(pipeline: Pipeline, catalog: StageCatalog, file: string): Diagnostic[] {
  const outsByPath = new Map<string, string>();
  for (const s of pipeline.stages.values()) for (const o of s.outs) outsByPath.set(o.path, s.name);
  const out: Diagnostic[] = [];
  // One matcher per glob dep, however many words are checked against it.
  const matchers = new Map<string, (s: string) => boolean>();
  const matcherOf = (pattern: string) => {
    let m = matchers.get(pattern);
    if (!m) {
      const picomatch = require('picomatch') as (p: string, o?: object) => (s: string) => boolean;
      matchers.set(pattern, (m = picomatch(pattern, { dot: true })));
    }
    return m;
  };
  for (const stage of pipeline.stages.values()) {
    const seen = new Set<string>();
    for (const word of wordsOf(stage, catalog)) {
      const path = normalizeRel(stage.cwd === '.' ? word : `${stage.cwd}/${word}`);
      if (path.startsWith('../') || posix.isAbsolute(path) || seen.has(path)) continue;
      const producer = producerOf(path, outsByPath);
      if (!producer || producer.stage === stage.name) continue;
      seen.add(path);
      const listed = stage.deps.some((d) => {
        if (!d.isGlob) return covers(d.pattern, path) || covers(d.pattern, producer.out);
        return matcherOf(d.pattern)(path);
      });
      if (listed) continue;
      const ordered = stage.needs.some((n) => n.stage === producer.stage);
      const pos = locate(pipeline, stage, word);
      out.push({
        file,
        line: pos.line,
        column: pos.column,
        length: word.length,
        severity: 'warning',
        message: `stage '${stage.name}' names '${path}', an out of stage '${producer.stage}', but does not list it in deps`,
        hint: ordered
          ? `needs: orders the two, but '${stage.name}' does not re-run when '${path}' changes: add it to deps`
          : `add "${path}" to deps of '${stage.name}': without it '${stage.name}' may run before '${producer.stage}' and does not re-run when it changes`,
      });
    }
  }
  return out;
}
