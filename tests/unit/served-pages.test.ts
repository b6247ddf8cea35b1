// Which files `evidence watch --serve` shows, from real pipeline.yaml files loaded with a small
// catalog that has a `report` kind (the built-in one lives on another branch; what matters here is
// the kind's name and its output field): report stages first, else .html primary outputs, the
// watched subgraph only, --serve-stage, and the outs that may be served at all.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline } from '../../src/pipeline/load.js';
import { buildGraph } from '../../src/graph/dag.js';
import { outMatcher, servedPages } from '../../src/cli/served-pages.js';
import type { LoadedProject } from '../../src/watch/loop.js';
import type { StageCatalog } from '../../src/stage-api/index.js';

const catalog: StageCatalog = {
  kinds: new Map([
    [
      'report',
      {
        version: '1',
        inputPaths: ['input'],
        outputPaths: ['output'],
        load: () => Promise.reject(new Error('not run in this test')),
      },
    ],
  ]),
  commands: [],
};

async function load(yaml: string): Promise<LoadedProject> {
  const root = mkdtempSync(join(tmpdir(), 'evidence-pages-'));
  writeFileSync(join(root, 'pipeline.yaml'), `version: 1\n${yaml}`);
  const loaded = await loadPipeline(join(root, 'pipeline.yaml'), { catalog });
  if (!loaded.pipeline) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const { graph, diagnostics } = buildGraph(loaded.pipeline);
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return { pipeline: loaded.pipeline, graph: graph!, catalog };
}

const withReport = (output = 'reports/report.html', matrix = '') => `stages:
  summary:
    cmd: 'true'
    outs: [out/summary.md, out/draft.html]
  report:
    uses: report
    with:
      input: out/summary.md
      output: '${output}'
${matrix}  other:
    cmd: 'true'
    outs: [out/other.html, site]
`;

describe('servedPages', () => {
  it('serves the report stages (each instance of a matrix), not other html outputs', async () => {
    const p = await load(withReport('reports/$' + '{item.config}/report.html', '    matrix: { config: [a, b] }\n'));
    expect(servedPages(p, [], [])).toEqual({
      ok: true,
      pages: [
        { stage: 'report@a', path: 'reports/a/report.html' },
        { stage: 'report@b', path: 'reports/b/report.html' },
      ],
    });
  });

  it('falls back to the .html primary outputs of the watched stages when no report stage is watched', async () => {
    const p = await load(withReport());
    // `other` alone: its primary output is out/other.html; summary's is a .md file.
    expect(servedPages(p, ['other'], [])).toEqual({ ok: true, pages: [{ stage: 'other', path: 'out/other.html' }] });
    expect(servedPages(p, ['summary'], [])).toEqual({ ok: true, pages: [] });
  });

  it('serves the stages named with --serve-stage, and names a stage that does not exist', async () => {
    const p = await load(withReport());
    expect(servedPages(p, [], ['summary'])).toEqual({ ok: true, pages: [{ stage: 'summary', path: 'out/summary.md' }] });
    const wrong = servedPages(p, [], ['reprot']);
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.message).toContain("--serve-stage: no stage matches 'reprot' (did you mean 'report'?)");
  });
});

describe('outMatcher', () => {
  it('knows declared outs and files inside out folders, and nothing else', async () => {
    const p = await load(withReport());
    const isOut = outMatcher(p.pipeline);
    for (const yes of ['out/summary.md', 'out/draft.html', 'reports/report.html', 'site/index.html', 'site/a/b.svg']) expect(isOut(yes), yes).toBe(true);
    for (const no of ['pipeline.yaml', 'out', 'out/secret.txt', 'sitex/a.html', 'reports', '.evidence/lock', 'sit']) expect(isOut(no), no).toBe(false);
  });
});
