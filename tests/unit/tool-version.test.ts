// The `tools:` version commands of snapshot-config, run for real through /bin/sh: a hanging one is
// ended (with what it started) by the timeout, a canceled one by the stage's signal, and a failing
// one is reported with the command it ran.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toolVersion } from '../../stages/snapshot-config.js';
import { killAll, pidGone, pidsIn, waitFor } from '../helpers/processes.js';

const started: string[] = [];
afterEach(() => killAll(started.splice(0).flatMap(pidsIn)));

/** A tool command that records the pid of a child it leaves holding stdout, then waits for ever. */
function hangingTool(): { command: string; pidFile: string } {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'evidence-tool-')), 'pid');
  started.push(pidFile);
  return { command: `sleep 600 & echo $! > '${pidFile}'; wait`, pidFile };
}

describe('tool version commands', () => {
  it('ends a hanging tool command and everything it started at the timeout, saying so', async () => {
    const { command, pidFile } = hangingTool();
    const t = await toolVersion(command, tmpdir(), {}, undefined, 300);
    expect(t.version).toBeNull();
    expect(t.error).toMatch(/^timed out after 0\.3 s, killed \(from .*sleep 600 & echo/);
    const [child] = pidsIn(pidFile);
    expect(child).toBeGreaterThan(0);
    await waitFor(() => pidGone(child), 5_000, 'the tool’s child to be gone');
  }, 20_000);

  it('ends a tool command when the stage is canceled', async () => {
    const { command, pidFile } = hangingTool();
    const controller = new AbortController();
    const pending = toolVersion(command, tmpdir(), {}, controller.signal, 600_000);
    await waitFor(() => pidsIn(pidFile).length > 0, 10_000, 'the tool to start');
    controller.abort();
    expect((await pending).error).toMatch(/^canceled \(from /);
    await waitFor(() => pidGone(pidsIn(pidFile)[0]), 5_000, 'the tool’s child to be gone');
  }, 20_000);

  it('names the command of a failing tool, with the first line it printed', async () => {
    const t = await toolVersion('evidence-no-such-tool-xyz --version', tmpdir(), {});
    expect(t.version).toBeNull();
    expect(t.error).toMatch(/^exit 127: .*evidence-no-such-tool-xyz: not found \(from 'evidence-no-such-tool-xyz --version'\)$/);
  });

  it('names the command of a tool that fails without output', async () => {
    expect(await toolVersion('exit 3', tmpdir(), {})).toEqual({ command: 'exit 3', version: null, error: "exit 3: no output (from 'exit 3')" });
  });

  it('passes the declared env to the tool and takes the first non-empty line', async () => {
    const t = await toolVersion('printf "\\n  %s 1.2\\nsecond\\n" "$EVIDENCE_TOOL_NAME"', tmpdir(), { EVIDENCE_TOOL_NAME: 'mytool' });
    expect(t).toMatchObject({ version: 'mytool 1.2', error: null });
  });
});
