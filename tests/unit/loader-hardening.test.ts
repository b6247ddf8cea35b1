// The loader against hostile or broken pipeline.yaml files, in process (src/pipeline/load.ts and
// the model cache): bytes that are not UTF-8, YAML that would crash or stall it (alias bombs,
// unresolved aliases, deep nesting), keys that are JavaScript's own names, and paths that leave
// the project. Each ends in located diagnostics, never an exception. A small fake catalog declares
// which `with:` fields are paths.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/pipeline/load.js';
import { loadPipelineCached } from '../../src/pipeline/cached-load.js';
import type { Diagnostic } from '../../src/pipeline/diagnostics.js';
import { invalidUtf8Offset } from '../../src/pipeline/utf8.js';
import { MAX_ALIASES, MAX_DEPTH } from '../../src/pipeline/parse-yaml.js';
import type { StageCatalog, StageKind } from '../../src/stage-api/index.js';

const noCode = async (): Promise<never> => {
  throw new Error('not run in these tests');
};
const kind = (k: Partial<StageKind>): StageKind => ({ version: '1', load: noCode, ...k });
const catalog: StageCatalog = {
  kinds: new Map([
    ['reader', kind({ inputPaths: ['input', 'inputs'], outputPaths: ['output'] })],
    ['blocker', kind({ outputPaths: ['dir', 'notes'] })],
  ]),
  commands: [],
};

function project(files: Record<string, string | Buffer> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'evidence-loader-')), 'project');
  mkdirSync(dir);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

async function load(text: string | Buffer, opts: { files?: Record<string, string>; overrides?: Array<[string, string]>; setup?: (dir: string) => void } = {}) {
  const dir = project({ 'pipeline.yaml': text, ...(opts.files ?? {}) });
  opts.setup?.(dir);
  return loadPipeline(join(dir, 'pipeline.yaml'), { catalog, paramOverrides: opts.overrides });
}

/** `line:column message` of each diagnostic, for compact assertions. */
function located(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

const STAGE = `version: 1\nstages:\n  a:\n    cmd: 'true'\n`;

describe('pipeline.yaml that is not UTF-8', () => {
  it('rejects an invalid byte, naming its byte offset, at its line and column', async () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\nstages:\n  a:\n    cmd: echo caf'), Buffer.from([0xe9]), Buffer.from(' > a.txt\n')]);
    const r = await load(bytes);
    expect(r.pipeline).toBeUndefined();
    expect(located(r.diagnostics)).toEqual(['4:18 invalid UTF-8: byte 0xE9 at byte offset 41']);
    expect(r.diagnostics[0]!.hint).toMatch(/save .*pipeline\.yaml as UTF-8/);
  });

  it('counts the column in characters after valid multi-byte text on the same line', async () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\n# été '), Buffer.from([0xff]), Buffer.from('\n' + STAGE.slice('version: 1\n'.length))]);
    const r = await load(bytes);
    expect(located(r.diagnostics)).toEqual(['2:7 invalid UTF-8: byte 0xFF at byte offset 19']);
  });

  it('finds truncated, overlong and surrogate sequences, and accepts a BOM and any valid character', () => {
    const at = (...b: number[]) => invalidUtf8Offset(Uint8Array.from(b));
    expect(at(0x61, 0xe2, 0x82)).toBe(1); // a truncated € at the end
    expect(at(0xc0, 0xaf)).toBe(0); // an overlong '/'
    expect(at(0xed, 0xa0, 0x80)).toBe(0); // a UTF-16 surrogate
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // above U+10FFFF
    expect(at(0x80)).toBe(0); // a lone continuation byte
    expect(invalidUtf8Offset(Buffer.from('\ufeffversion: 1 # € 𝄞 ünïcödé'))).toBe(-1);
  });

  it('a cached model does not hide invalid UTF-8 that decodes to the same text as a valid file', async () => {
    // U+FFFD written out is valid; a 0xFF byte decodes to the same U+FFFD when read leniently.
    const valid = Buffer.from(`version: 1\nstages:\n  a:\n    cmd: echo \ufffd\n`);
    const dir = project({ 'pipeline.yaml': valid });
    mkdirSync(join(dir, '.evidence'));
    const file = join(dir, 'pipeline.yaml');
    expect((await loadPipelineCached(file, [], catalog)).pipeline).toBeDefined();
    writeFileSync(file, Buffer.concat([Buffer.from('version: 1\nstages:\n  a:\n    cmd: echo '), Buffer.from([0xff]), Buffer.from('\n')]));
    const r = await loadPipelineCached(file, [], catalog);
    expect(r.pipeline).toBeUndefined();
    expect(located(r.diagnostics)).toEqual(['4:15 invalid UTF-8: byte 0xFF at byte offset 38']);
  });
});

describe('YAML that would crash or stall the loader', () => {
  it('reports an alias bomb at an alias instead of expanding it', async () => {
    let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    const r = await load(`version: 1\nparams:\n  p: 1\n${bomb.replace(/^/gm, '  ').trimEnd()}\n${STAGE.slice('version: 1\n'.length)}`);
    expect(r.pipeline).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.message).toMatch(/^aliases expand this file to more than 100000 values \('\*a5' alone stands for more than 100000\)/);
    expect(r.diagnostics[0]!.line).toBe(10);
    expect(r.diagnostics[0]!.hint).toMatch(/alias bomb/);
  });

  it('reports an alias that names no anchor, at the alias', async () => {
    const r = await load(`version: 1\nstages:\n  a:\n    cmd: *nowhere\n`);
    expect(located(r.diagnostics)).toEqual(["4:10 alias '*nowhere' names no anchor"]);
    expect(r.diagnostics[0]!.hint).toBe('an anchor (&nowhere) must come before its alias');
  });

  it('reports an alias used before its anchor, and one inside the node it names', async () => {
    const before = await load(`version: 1\nenv: *e\nstages:\n  a:\n    cmd: 'true'\n    env: &e { A: "1" }\n`);
    expect(located(before.diagnostics)).toEqual(["2:6 alias '*e' names no anchor"]);
    const inside = await load(`version: 1\nparams: &p { self: *p }\n${STAGE.slice('version: 1\n'.length)}`);
    expect(located(inside.diagnostics)).toEqual(["2:20 alias '*p' refers to a node that contains it"]);
  });

  it(`reports more than ${MAX_ALIASES} aliases at the first one too many`, async () => {
    const lines = Array.from({ length: MAX_ALIASES + 5 }, (_, i) => `    V${i}: *v`).join('\n');
    const r = await load(`version: 1\nparams: { v: &v "1" }\nstages:\n  a:\n    cmd: 'true'\n    env:\n${lines}\n`);
    expect(located(r.diagnostics)).toEqual([`${7 + MAX_ALIASES}:${8 + String(MAX_ALIASES).length} more than ${MAX_ALIASES} aliases`]);
  });

  it('still loads aliases used as a pipeline would: one env block shared by several stages', async () => {
    const r = await load(`version: 1\nstages:\n  a:\n    cmd: 'true'\n    env: &common { A: "1", B: "2" }\n  b:\n    cmd: 'true'\n    env: *common\n`);
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.stages.get('b')!.env).toEqual({ A: '1', B: '2' });
  });

  it(`reports block nesting deeper than ${MAX_DEPTH} levels at the first level too deep, however deep it goes`, async () => {
    for (const depth of [MAX_DEPTH + 1, 5000]) {
      let text = 'version: 1\nstages:\n  a:\n    cmd: x\n    env:\n';
      for (let i = 0; i < depth; i++) text += `${' '.repeat(6 + i)}k${i}:\n`;
      const r = await load(`${text}${' '.repeat(6 + depth)}v\n`);
      // Levels: the document's map (1), stages' (2), a's (3), env's (4, holding k0), then k_i's
      // value is level 5 + i: level 65 is the map holding k60, on line 7 + 60.
      expect(located(r.diagnostics)).toEqual([`67:68 nesting deeper than ${MAX_DEPTH} levels`]);
    }
  });

  it('reports deep flow nesting and deep nesting through aliases', async () => {
    const flow = await load(`version: 1\nparams: { p: ${'['.repeat(3000)}${']'.repeat(3000)} }\n${STAGE.slice('version: 1\n'.length)}`);
    expect(located(flow.diagnostics)).toEqual([`2:${14 + MAX_DEPTH - 2} nesting deeper than ${MAX_DEPTH} levels`]);
    let chain = 'l0: &l0 [x]\n';
    for (let i = 1; i < 70; i++) chain += `l${i}: &l${i} [*l${i - 1}]\n`;
    const aliases = await load(`version: 1\nparams:\n${chain.replace(/^/gm, '  ').trimEnd()}\n${STAGE.slice('version: 1\n'.length)}`);
    expect(aliases.diagnostics).toHaveLength(1);
    expect(aliases.diagnostics[0]!.message).toMatch(new RegExp(`^alias '\\*l\\d+' nests the document deeper than ${MAX_DEPTH} levels$`));
  });

  it('reports a duplicate key at the second one, naming the line of the first', async () => {
    const r = await load(`version: 1\nstages:\n  a:\n    cmd: 'true'\n  b:\n    cmd: 'true'\n  a:\n    cmd: 'false'\n`);
    expect(located(r.diagnostics)).toEqual(["7:3 duplicate key 'a'"]);
    expect(r.diagnostics[0]!.hint).toBe('the first is on line 3');
  });

  it('reports a key that is a list or a mapping, and a second document', async () => {
    const key = await load(`version: 1\nparams:\n  ? [a, b]\n  : 1\n${STAGE.slice('version: 1\n'.length)}`);
    expect(located(key.diagnostics)).toEqual(['3:5 a key must be a plain value, not a list or a mapping']);
    const two = await load(`${STAGE}---\n${STAGE}`);
    expect(two.diagnostics[0]!.message).toBe('a second YAML document (after ---)');
  });
});

describe("JavaScript's own names", () => {
  it("reports a '__proto__' key wherever it appears, instead of changing a prototype", async () => {
    const places = [
      [`version: 1\nstages:\n  __proto__:\n    cmd: 'true'\n`, '3:3'],
      [`version: 1\nparams:\n  __proto__: { a: 1 }\n${STAGE.slice(11)}`, '3:3'],
      [`version: 1\nenv:\n  "__proto__": x\n${STAGE.slice(11)}`, '3:3'],
      [`version: 1\nstages:\n  a:\n    uses: reader\n    with:\n      __proto__: { input: a.log }\n`, '6:7'],
      [`version: 1\n__proto__: {}\n${STAGE.slice(11)}`, '2:1'],
    ] as const;
    for (const [text, at] of places) {
      const r = await load(text);
      expect(located(r.diagnostics), text).toEqual([`${at} '__proto__' cannot be a key`]);
    }
  });

  it('does not take an inherited name for a param: ${params.constructor}, -p toString=1', async () => {
    const ref = await load(`version: 1\nparams: { x: 1 }\nstages:\n  a:\n    cmd: echo \${params.constructor}\n`);
    expect(located(ref.diagnostics)).toEqual(['5:15 ${params.constructor} names no param']);
    const override = await load(`version: 1\nparams: { x: 1 }\n${STAGE.slice(11)}`, { overrides: [['toString', '1']] });
    expect(override.diagnostics.map((d) => d.message)).toEqual(["-p toString=...: the pipeline has no param 'toString'"]);
  });
});

describe('a shell command with a reference that cannot be quoted', () => {
  it('reports each such reference at the reference itself, with a hint, and accepts quoted contexts', async () => {
    const r = await load(
      `version: 1\nparams: { x: 1 }\nstages:\n  a:\n    cmd: |\n      echo "\${params.x}" '\${params.x}' \${params.x}\n      echo \`cat \${params.x}\`\n      cat <<EOF\n      \${params.x}\n      EOF\n  b:\n    cmd: [sh, -c, 'echo \\\${params.x}']\n  c:\n    cmd: [printf, '%s', '\\\${params.x}']\n`,
    );
    expect(located(r.diagnostics)).toEqual([
      '7:17 ${params.x} in a shell command sits in backquotes',
      '9:7 ${params.x} in a shell command sits in a here-document, where no quoting applies',
      '12:26 ${params.x} in a shell command follows a backslash',
    ]);
    expect(r.diagnostics[0]!.hint).toBe('use $( ... ) instead of backquotes: there ${params.x} is quoted for you');
    expect(r.diagnostics[2]!.hint).toBe('write ${params.x} unquoted: it is quoted for you');
  });
});

describe('paths outside the project', () => {
  it("rejects a cwd of '..' and every other way out, at the cwd", async () => {
    for (const cwd of ['..', '../x', 'a/../..', '/tmp', 'sub/../../x']) {
      const r = await load(`version: 1\nstages:\n  a:\n    cmd: 'true'\n    cwd: "${cwd}"\n`);
      expect(r.pipeline, cwd).toBeUndefined();
      expect(r.diagnostics).toHaveLength(1);
      expect(r.diagnostics[0]!.line).toBe(5);
      expect(r.diagnostics[0]!.message).toMatch(new RegExp(`^cwd '${cwd.replace(/\./g, '\\.')}' (escapes the project root|is an absolute path)`));
    }
    const inside = await load(`version: 1\nstages:\n  a:\n    cmd: 'true'\n    cwd: sub/..\n`);
    expect(inside.diagnostics).toEqual([]);
  });

  it('rejects a cwd through a symlink that leads outside', async () => {
    const r = await load(`version: 1\nstages:\n  a:\n    cmd: 'true'\n    cwd: link\n`, { setup: (dir) => symlinkSync(mkdtempSync(join(tmpdir(), 'outside-')), join(dir, 'link')) });
    expect(r.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/^cwd 'link' goes through a symlink that points outside the project/)]);
  });

  it("confines the with: paths the catalog declares, relative to the stage's cwd", async () => {
    const r = await load(
      `version: 1\nparams: { out: ok.json }\nstages:\n  a:\n    uses: reader\n    cwd: sub\n    with:\n      input: ../in.log\n      inputs: [a.log, ../../b.log]\n      output: reports/\${params.out}\n      other: ../../anything\n`,
      { overrides: [['out', '../../../x.json']] },
    );
    expect(located(r.diagnostics)).toEqual([
      "9:23 with.inputs of stage 'a' '../../b.log' escapes the project root (from cwd 'sub')",
      "10:15 with.output of stage 'a' 'reports/../../../x.json' escapes the project root (from cwd 'sub')",
    ]);
    const absolute = await load(`version: 1\nstages:\n  a:\n    uses: reader\n    with: { input: /etc/passwd }\n`);
    expect(located(absolute.diagnostics)).toEqual(["5:20 with.input of stage 'a' '/etc/passwd' is an absolute path; it must lie inside the project"]);
  });

  it("confines a script stage's with.output (its primary output), and leaves its other fields alone", async () => {
    const files = { 'step.mjs': 'export default { name: "step", version: "1", run() {} };\n' };
    const r = await load(`version: 1\nstages:\n  a:\n    uses: ./step.mjs\n    with: { output: ../x.txt, elsewhere: ../y.txt }\n`, { files });
    expect(located(r.diagnostics)).toEqual(["5:21 with.output of stage 'a' '../x.txt' escapes the project root"]);
  });

  it("confines the blocker's declared with: paths, relative to the root", async () => {
    const r = await load(`${STAGE}blocker:\n  uses: blocker\n  with: { dir: ../blockers, notes: notes.md }\n`);
    expect(located(r.diagnostics)).toEqual(["7:16 with.dir of the blocker '../blockers' escapes the project root"]);
  });

  it('rejects an output path that a symlink leads outside, also once the model is cached', async () => {
    const text = `version: 1\nstages:\n  a:\n    uses: reader\n    with: { output: out/a.json }\n`;
    const dir = project({ 'pipeline.yaml': text });
    mkdirSync(join(dir, '.evidence'));
    const file = join(dir, 'pipeline.yaml');
    expect((await loadPipelineCached(file, [], catalog)).diagnostics).toEqual([]);
    symlinkSync(mkdtempSync(join(tmpdir(), 'outside-')), join(dir, 'out'));
    const r = await loadPipelineCached(file, [], catalog);
    expect(r.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/^with\.output of stage 'a' 'out\/a\.json' goes through a symlink that points outside/)]);
  });

  it('confines reports.dir, reports.junit and reports.manifest, params resolved', async () => {
    const r = await load(`version: 1\nparams: { c: x }\nreports:\n  dir: ..\n  junit: /tmp/junit.xml\n  manifest: reports/\${params.c}/manifest.json\n${STAGE.slice(11)}`, {
      overrides: [['c', '../..']],
    });
    expect(located(r.diagnostics)).toEqual([
      "4:8 reports.dir '..' escapes the project root",
      "5:10 reports.junit '/tmp/junit.xml' is an absolute path; it must lie inside the project",
      "6:13 reports.manifest 'reports/../../manifest.json' escapes the project root",
    ]);
  });
});
