// A `uses:` script is stopped like a command: one that ignores its abort signal (awaiting, or busy
// in a synchronous loop) is ended once --grace has passed after a timeout or Ctrl-C, and the run
// ends only after it stopped writing. A script that honours the signal still cleans up first.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { TestProject } from '../helpers/project.js';
import { exitOf, waitFor } from '../helpers/processes.js';

const STUBBORN = `import { appendFileSync, existsSync } from 'node:fs';
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
export default {
  name: 'stubborn', version: '1',
  async run(ctx) {
    appendFileSync(process.env.TICKS, 'start\\n');
    // Ignores ctx.signal; stops only when the test says so (or after a minute).
    for (let i = 0; i < 3000 && !existsSync(process.env.STOP); i++) {
      appendFileSync(process.env.TICKS, 'tick\\n');
      if (ctx.with.busy) sleepSync(20);
      else await new Promise((r) => setTimeout(r, 20));
    }
  },
};
`;

const POLITE = `import { appendFileSync } from 'node:fs';
export default {
  name: 'polite', version: '1',
  async run(ctx) {
    appendFileSync(process.env.TICKS, 'start\\n');
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    appendFileSync(process.env.TICKS, 'cleaned up\\n');
    throw new Error('stopped');
  },
};
`;

const children: ChildProcess[] = [];
const stops: string[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) writeFileSync(s, '');
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function project(withBlock: string, extra = '') {
  const p = new TestProject({
    'stages/stubborn.mjs': STUBBORN,
    'stages/polite.mjs': POLITE,
    'pipeline.yaml': `version: 1\nstages:\n  s:\n    ${withBlock}\n    outs: [s.txt]\n${extra}`,
  });
  const ticks = join(p.dir, '..', 'ticks.log');
  const stop = join(p.dir, '..', 'stop');
  stops.push(stop);
  const lines = () => (existsSync(ticks) ? readFileSync(ticks, 'utf8').split('\n').filter(Boolean) : []);
  return { p, env: { TICKS: ticks, STOP: stop }, lines };
}

/** After the run exited, the script writes nothing more (it was ended, not left running). */
async function expectSilent(lines: () => string[]): Promise<void> {
  const atExit = lines().length;
  await new Promise((r) => setTimeout(r, 400));
  expect(lines().length).toBe(atExit);
}

describe('a uses: script that ignores its abort signal', () => {
  it("is ended after its timeout and --grace: the stage fails with reason 'timeout' and the run exits only once it stopped", async () => {
    const { p, env, lines } = project(`uses: ./stages/stubborn.mjs\n    timeout: 1s`);
    const child = p.spawnCli(['run', '--grace', '1', '--json'], env);
    children.push(child);
    // The bound is for a broken build only: without a stop the script would loop for a minute.
    const exited = exitOf(child);
    const r = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), 30_000))]);
    expect(r, 'the run exited while the script still looped').not.toBeNull();
    await expectSilent(lines);
    expect(lines()[0]).toBe('start');
    expect(r!.code, r!.stdout + r!.stderr).toBe(1);
    const failed = r!.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'stage-failed');
    expect(failed).toMatchObject({ stage: 's', reason: 'timeout' });
    expect(p.exists('.evidence/run.lock')).toBe(false);
  });

  it('is ended after Ctrl-C and --grace even when busy in a synchronous loop; exit 130', async () => {
    const { p, env, lines } = project(`uses: ./stages/stubborn.mjs\n    with: { busy: true }`);
    const child = p.spawnCli(['run', '--grace', '1'], env);
    children.push(child);
    const exited = exitOf(child);
    await waitFor(() => lines().length > 2, 20_000, 'the script to start looping');
    child.kill('SIGINT');
    const r = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), 30_000))]);
    expect(r, 'the run exited while the script still looped').not.toBeNull();
    await expectSilent(lines);
    expect(r!.code, r!.stdout + r!.stderr).toBe(130);
    expect(r!.stdout).toMatch(/s failed: interrupted/);
    expect(r!.stdout).toMatch(/^interrupted: /m);
  });
});

describe('a uses: script that honours its abort signal', () => {
  it('cleans up before the run ends on Ctrl-C', async () => {
    const { p, env, lines } = project(`uses: ./stages/polite.mjs`);
    const child = p.spawnCli(['run', '--grace', '30'], env);
    children.push(child);
    const exited = exitOf(child);
    await waitFor(() => lines().includes('start'), 20_000, 'the script to start');
    child.kill('SIGINT');
    const r = await exited;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(lines()).toEqual(['start', 'cleaned up']);
    expect(r.stdout).toMatch(/s failed: interrupted/);
  });
});
