// Nothing lost, nothing trusted blindly: a corrupted cache object is never restored, an overwritten
// hand-written artifact comes back byte for byte, a protected file changed by a stage fails the run,
// undeclared writes are named, and a runner's leftover temp files never pass for content.
import { describe, expect, it } from 'vitest';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TestProject, logged } from '../helpers/project.js';
import { acquireRunLock } from '../../src/run/run-lock.js';

function objectOf(p: TestProject, stage: string, out: string): string {
  const lock = parse(p.read('evidence.lock'));
  const hash = lock.stages[stage].outs[out].hash as string;
  return p.path(`.evidence/cache/objects/${hash.slice(0, 2)}/${hash.slice(2)}`);
}

describe('corrupted cache objects', () => {
  it('are detected, reported and never restored; the stage re-runs and the store heals', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: '${logged('a', 'echo "intensity 181.3" > a.txt')}'\n    outs: [a.txt]\n`,
    });
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    const object = objectOf(p, 'a', 'a.txt');
    chmodSync(object, 0o644);
    writeFileSync(object, 'intensity 999.9\n');
    p.remove('a.txt');

    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a: cached object for 'a\.txt' is corrupt \(sha256 [0-9a-f]{12}…\); not restored, the stage re-runs/);
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.read('a.txt')).toBe('intensity 181.3\n');

    // The bad copy was moved aside and a good one stored: the next restore is clean.
    expect(readFileSync(object, 'utf8')).toBe('intensity 181.3\n');
    p.remove('a.txt');
    const again = p.cli(['run']);
    expect(again.stdout).toMatch(/a restored from cache/);
    expect(p.takeRuns()).toEqual([]);
    expect(p.read('a.txt')).toBe('intensity 181.3\n');
  });
});

describe('archival copies', () => {
  it('keep a hand-written artifact that a stage overwrites; evidence restore gives it back byte for byte', async () => {
    const handWritten = Buffer.concat([Buffer.from('# Pixel (685, 1039) by hand\r\nI = 181.3\n'), Buffer.from([0xff, 0x00, 0xfe])]);
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  report:\n    cmd: "echo generated > report.md"\n    outs: [report.md]\n`,
    });
    writeFileSync(p.path('report.md'), handWritten);
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('report.md')).toBe('generated\n');

    const history = JSON.parse(p.cli(['history', 'report.md', '--json']).stdout) as Array<Record<string, any>>;
    expect(history.map((h) => [h.event, h.size])).toEqual([
      ['archived', handWritten.length],
      ['produced', 10],
    ]);
    const text = p.cli(['history', 'report.md']).stdout;
    expect(text).toMatch(/report \(archived\)/);
    expect(text).toMatch(/report \(produced\)/);

    const runId = history[0]!.runId as string;
    const r = p.cli(['restore', 'report.md', '--run', runId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`restored report.md \\(sha256 ${history[0]!.hash.slice(0, 12)}, ${handWritten.length} bytes\\) from run ${runId}`));
    expect(readFileSync(p.path('report.md')).equals(handWritten)).toBe(true);

    // Back to the generated version, then once more to the hand-written one without --run: the
    // newest version that differs from the file's content.
    expect(p.cli(['run']).stdout).toMatch(/report restored from cache|report started/);
    expect(p.read('report.md')).toBe('generated\n');
    // Not while another process holds the project (a run, a watch, gc): it would race their writes.
    const held = await acquireRunLock(p.path('.evidence'), { argv: ['evidence', 'run'], wait: false });
    if (!held.ok) throw new Error('the test could not take the run lock');
    const busy = p.cli(['restore', 'report.md']);
    held.lock.release();
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/evidence restore: the project is busy: .* holds .*run\.lock; nothing was restored/);
    expect(p.read('report.md')).toBe('generated\n');
    expect(p.cli(['restore', 'report.md']).code).toBe(0);
    expect(readFileSync(p.path('report.md')).equals(handWritten)).toBe(true);
  });
});

describe('protected paths and undeclared writes', () => {
  it('fails a stage that modifies a protected tracked file, naming it; the blocker archives the diff', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
protect: [src/**, docs/index.md]
blocker: { uses: blocker }
stages:
  harness:
    cmd: "sed -i 's/0.1/0.2/' src/phi.c && echo traced > out/trace.log"
    outs: [out/trace.log]
  later:
    cmd: "cp out/trace.log out/copy.log"
    deps: [out/trace.log]
    outs: [out/copy.log]
`,
      'src/phi.c': 'double phi = 0.1;\n',
      'src/other.c': 'int x;\n',
      'docs/index.md': '# Docs\n',
    });
    p.initGit();
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ harness failed: modified protected files: src\/phi\.c/);
    expect(r.stdout).toMatch(/later not run: upstream 'harness' failed/);
    const rec = JSON.parse(p.read('out/blocker.json'));
    expect(rec.reason).toBe('protected-path');
    expect(rec.message).toBe('modified protected files: src/phi.c');
    const patch = p.read('out/harness_blocker.patch');
    expect(patch).toContain('diff --git a/src/phi.c b/src/phi.c');
    expect(patch).toContain('-double phi = 0.1;\n+double phi = 0.2;');
    // Nothing was recorded for the stage: it is not up to date.
    expect(p.cli(['status']).stdout).not.toMatch(/harness\s+up to date/);
  });

  it('warns, naming the stage, about files a stage creates that no stage declares; a no-op run reports nothing', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  sim:
    cmd: "echo 1 > out.txt && echo cache > .sim-cache.bin && mkdir -p __pycache__ && echo x > __pycache__/m.pyc"
    outs: [out.txt]
`,
      '.gitignore': '__pycache__/\n',
    });
    p.initGit();
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('! '));
    expect(warnings).toEqual(['! sim: created or changed files that no stage declares as outs: .sim-cache.bin; declare them as outs, or ignore them in .gitignore']);
    const noop = p.cli(['run']);
    expect(noop.stdout).not.toMatch(/!/);
  });

  it('outside git, watches every file: a stage deleting one that is protected fails', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nprotect: ["ref/*.c"]\nstages:\n  s:\n    cmd: "rm ref/nanobragg.c; echo ok > s.txt"\n    outs: [s.txt]\n`,
      'ref/nanobragg.c': 'int main(void) { return 0; }\n',
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/s failed: modified protected files: ref\/nanobragg\.c/);
  });
});

describe("a runner's leftover temp files", () => {
  it('are never hashed into a folder out, recorded, or reported as writes', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  s:\n    cmd: "mkdir -p out && echo 1 > out/a.json"\n    outs: [out]\n`,
    });
    // What a kill -9 can leave: a stream capture in progress, a temp file of an atomic write.
    p.write('out/log.txt.evidence-partial', 'half');
    p.write('out/.a.json.4242.0badc0de.tmp', 'half');
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const history = readFileSync(p.path('.evidence/history.jsonl'), 'utf8');
    expect(history).toContain('out/a.json');
    expect(history).not.toMatch(/evidence-partial|\.tmp"/);
    // Removing them changes nothing: they were never part of the out.
    p.remove('out/log.txt.evidence-partial');
    p.remove('out/.a.json.4242.0badc0de.tmp');
    expect(p.cli(['run']).stdout).toMatch(/s up to date/);
  });
});

describe('protected files', () => {
  it('keeps uncommitted edits of a protected file that a stage overwrites; evidence restore gives them back', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
protect: [src/**]
stages:
  regen:
    cmd: "echo 'double phi = 0.1; /* regenerated */' > src/phi.c && echo ok > out.txt"
    outs: [out.txt]
`,
      'src/phi.c': 'double phi = 0.1;\n',
    });
    p.initGit();
    const mine = 'double phi = 0.15; /* tuned by hand, not committed yet */\n';
    p.write('src/phi.c', mine);
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/regen failed: modified protected files: src\/phi\.c/);
    expect(p.read('src/phi.c')).toBe('double phi = 0.1; /* regenerated */\n');

    const history = JSON.parse(p.cli(['history', 'src/phi.c', '--json']).stdout) as Array<Record<string, any>>;
    expect(history.map((h) => [h.event, h.stage, h.size])).toEqual([['archived', 'regen', Buffer.byteLength(mine)]]);
    const r2 = p.cli(['restore', 'src/phi.c']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(p.read('src/phi.c')).toBe(mine);
  });

  it('archives a protected file once per content: unchanged files add nothing on later runs', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nprotect: [src/**]\nstages:\n  a:\n    cmd: "echo ok > a.txt"\n    outs: [a.txt]\n`,
      'src/x.c': 'int x = 1;\n',
      'src/y.c': 'int y = 1;\n',
    });
    p.initGit();
    const archived = () => (JSON.parse(p.cli(['history', 'src/x.c', '--json']).stdout) as Array<Record<string, any>>).map((h) => h.hash);
    expect(p.cli(['run']).code).toBe(0);
    expect(p.cli(['run', '--force']).code).toBe(0);
    expect(archived()).toHaveLength(1);
    expect(p.cli(['history', 'src/y.c', '--json']).stdout).toMatch(/archived/);

    p.write('src/x.c', 'int x = 2;\n');
    expect(p.cli(['run', '--force']).code).toBe(0);
    p.write('src/x.c', 'int x = 1;\n');
    expect(p.cli(['run', '--force']).code).toBe(0);
    expect(p.cli(['run', '--force']).code).toBe(0);
    // Back to the first content: recorded again (restore picks the newest), stored once.
    const hashes = archived();
    expect(hashes).toHaveLength(3);
    expect(hashes[0]).toBe(hashes[2]);
  });
});

describe('restore and the run cache', () => {
  it('evidence restore keeps the executable bit the version was produced with', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  tool:\n    cmd: "printf '#!/bin/sh\\\\necho v1\\\\n' > tool.sh && chmod +x tool.sh"\n    outs: [tool.sh]\n`,
    });
    expect(p.cli(['run']).code).toBe(0);
    expect(statSync(p.path('tool.sh')).mode & 0o111).not.toBe(0);

    p.remove('tool.sh');
    expect(p.cli(['restore', 'tool.sh']).code).toBe(0);
    expect(statSync(p.path('tool.sh')).mode & 0o111, 'restored over nothing').not.toBe(0);

    // A hand-written, non-executable replacement does not lend the version its mode either.
    p.remove('tool.sh');
    p.write('tool.sh', 'by hand\n');
    expect(p.cli(['restore', 'tool.sh']).code).toBe(0);
    expect(p.read('tool.sh')).toBe('#!/bin/sh\necho v1\n');
    expect(statSync(p.path('tool.sh')).mode & 0o111, 'restored over a plain file').not.toBe(0);
  });

  it('never restores from a tampered run-cache record: it is reported and the stage re-runs', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1\nstages:\n  a:\n    cmd: '${logged('a', 'cp input.txt a.txt')}'\n    deps: [input.txt]\n    outs: [a.txt]\n`,
      'input.txt': 'v1\n',
    });
    expect(p.cli(['run']).code).toBe(0);
    p.write('input.txt', 'v2\n');
    expect(p.cli(['run']).code).toBe(0);
    p.takeRuns();
    // Point the record of v1's run at v2's object: a valid object, the wrong content.
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const runsDir = p.path('.evidence/cache/runs');
    const records = readdirSync(runsDir, { recursive: true }).map(String).filter((f) => f.endsWith('.json')).map((f) => join(runsDir, f));
    const v1 = records.find((f) => readFileSync(f, 'utf8').includes(sha('v1\n')))!;
    writeFileSync(v1, readFileSync(v1, 'utf8').replaceAll(sha('v1\n'), sha('v2\n')));

    p.write('input.txt', 'v1\n');
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a: run-cache record .* fails its checksum/);
    expect(r.stdout).not.toMatch(/a restored from cache/);
    expect(p.takeRuns()).toEqual(['a']);
    expect(p.read('a.txt')).toBe('v1\n');
  });
});
