// What a person sees while a run is under way, through the real CLI: -v streams each stage's
// output as it comes (pipes included), a failure says where the full log is, -q keeps only errors
// and the verdict line, and on a real TTY (a pseudo-terminal from util-linux `script`) the running
// stages stay at the bottom with their elapsed time, then give way to the plain lines.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, TestProject } from '../helpers/project.js';
import { exitOf, waitFor } from '../helpers/processes.js';
import { screenOf } from '../helpers/screen.js';

/** A stage that says it is ready, then waits until the test creates $GO (outside the project). */
const WAITS = `echo ready; while [ ! -e "$GO" ]; do sleep 0.05; done`;

function goFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'evidence-go-')), 'go');
}

/** util-linux `script` that can open a pseudo-terminal here (a container may have no /dev/ptmx). */
const hasScript = spawnSync('script', ['-qfc', 'test -t 1', '/dev/null'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

describe('live output', () => {
  it('with -v, streams each stage’s output while it runs, line by line and named, also into a pipe', async () => {
    const go = goFile();
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  slow:
    cmd: '${WAITS}; printf "par"; printf "tial"; echo " line"; echo "to stderr" >&2; printf "no newline"; echo done > out.txt'
    outs: [out.txt]
`,
    });
    const child = p.spawnCli(['run', '-v'], { GO: go });
    const exited = exitOf(child);
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    // The first line shows while the stage still waits: output flows before the stage ends.
    await waitFor(() => /^slow \| ready$/m.test(seen), 60_000, 'the stage’s first line');
    expect(seen).not.toMatch(/done in/);
    writeFileSync(go, '');
    const r = await exited;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  log: .evidence/logs/slow.stdout.log, .evidence/logs/slow.stderr.log');
    expect(lines).toContain('slow | partial line');
    expect(lines).toContain('slow ! to stderr');
    // The unfinished last line comes out when the stage ends, before the line saying so.
    const last = lines.indexOf('slow | no newline');
    expect(last).toBeGreaterThan(lines.indexOf('slow | partial line'));
    expect(lines.findIndex((l) => /^✓ slow done in/.test(l))).toBeGreaterThan(last);
    // A pipe gets plain lines: no colour, no cursor movement, each line once.
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(lines.filter((l) => l === 'slow | ready')).toHaveLength(1);
  });

  it('says where the full log is when a stage fails, and names the exit code once', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  bad:
    cmd: 'echo some output; echo it broke >&2; exit 3'
    outs: [x.txt]
  declared:
    cmd: 'echo out; echo err >&2; exit 1'
    stdout: logs/declared.out
    stderr: logs/declared.err
`,
    });
    const r = p.cli(['run', '-k']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('✗ bad failed: exited with code 3');
    expect(r.stdout).not.toMatch(/exit code 3\)/);
    expect(lines).toContain('  │ it broke');
    expect(lines).toContain('  full log: .evidence/logs/bad.stdout.log, .evidence/logs/bad.stderr.log');
    expect(p.read('.evidence/logs/bad.stdout.log')).toBe('some output\n');
    // Streams declared as outs are the log.
    expect(lines).toContain('  full log: logs/declared.out, logs/declared.err');
    expect(p.read('logs/declared.err')).toBe('err\n');
  });

  it('does not repeat the message of a failed script stage on the line below it', () => {
    const p = new TestProject({
      'fail.mjs': `export default { name: 'f', version: '1', async run() { throw Object.assign(new Error('the input is empty'), { reason: 'require' }); } };\n`,
      'pipeline.yaml': `version: 1
stages:
  check:
    uses: ./fail.mjs
    outs: [x.json]
`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/the input is empty/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/^✗ check failed: the input is empty$/m);
  });

  it('with -q, prints only errors and the closing line', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
stages:
  a:
    cmd: 'echo a > a.txt'
    outs: [a.txt]
  b:
    cmd: 'echo failing >&2; exit 1'
    deps: [a.txt]
    outs: [b.txt]
`,
    });
    const r = p.cli(['run', '-q', 'a']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 1 ran in [0-9.]+ s\n$/);
    const failed = p.cli(['run', '--quiet']);
    expect(failed.code).toBe(1);
    expect(failed.stdout.split('\n').filter(Boolean).map((l) => l.replace(/[0-9.]+ s$/, 'T'))).toEqual([
      '✗ b failed: exited with code 1',
      '  │ failing',
      '  full log: .evidence/logs/b.stdout.log, .evidence/logs/b.stderr.log',
      'FAILED: 1 up to date, 1 failed in T',
    ]);
    const both = p.cli(['run', '-q', '-v']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/-q .* and -v .*/);
  });

  describe.skipIf(!hasScript)('on a terminal (a pseudo-terminal from `script`)', () => {
    function onTty(p: TestProject, args: string[], env: NodeJS.ProcessEnv) {
      const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qfc', command, '/dev/null'], { cwd: p.dir, env: p.env(env), stdio: ['pipe', 'pipe', 'pipe'] });
      let raw = '';
      child.stdout!.on('data', (d: Buffer) => (raw += d.toString()));
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      return { raw: () => raw, exited, end: () => child.stdin!.end() };
    }

    function project() {
      return new TestProject({
        'pipeline.yaml': `version: 1
stages:
  long_trace:
    cmd: '${WAITS}; echo done > out.txt'
    outs: [out.txt]
`,
      });
    }

    it('shows the running stage with its elapsed time, updated in place, and ends with the plain lines', async () => {
      const go = goFile();
      const p = project();
      const tty = onTty(p, ['run'], { GO: go, TERM: 'xterm', NO_COLOR: undefined });
      const times = () => new Set([...tty.raw().matchAll(/long_trace {2}(?:\x1b\[\d+m)?(\d+\.\d) s/g)].map((m) => m[1]));
      // The clock moves while the stage runs: two different elapsed times for the same stage.
      await waitFor(() => times().size >= 2, 60_000, 'the status line to be redrawn');
      writeFileSync(go, '');
      expect(await tty.exited).toBe(0);
      tty.end();
      const raw = tty.raw();
      expect(raw).toMatch(/\x1b\[\d+A\x1b\[J/);
      expect(raw).toMatch(/\x1b\[3\dm/);
      const screen = screenOf(raw.replace(/\r\n/g, '\n'));
      expect(screen.map((l) => l.replace(/[0-9.]+ s\b/g, 'T'))).toEqual(['▶ long_trace started (never ran)', '✓ long_trace done in T', 'ok: 1 ran in T']);
    });

    it('keeps the live area without colour under NO_COLOR, and draws no area at all with TERM=dumb', async () => {
      for (const env of [{ NO_COLOR: '1', TERM: 'xterm' }, { NO_COLOR: undefined, TERM: 'dumb' }]) {
        const go = goFile();
        const p = project();
        const tty = onTty(p, ['run'], { GO: go, ...env });
        await waitFor(() => tty.raw().includes('long_trace started'), 60_000, 'the stage to start');
        if (env.TERM === 'xterm') await waitFor(() => /\x1b\[\d+A/.test(tty.raw()), 60_000, 'a redraw');
        writeFileSync(go, '');
        expect(await tty.exited).toBe(0);
        tty.end();
        const raw = tty.raw();
        if (env.NO_COLOR) {
          expect(raw).not.toMatch(/\x1b\[\d+m/);
          expect(raw).toMatch(/long_trace {2}\d+\.\d s/);
        } else {
          expect(raw).not.toMatch(/\x1b\[\d*[AJ]/);
          expect(raw).not.toMatch(/long_trace {2}\d/);
        }
      }
    });
  });
});
