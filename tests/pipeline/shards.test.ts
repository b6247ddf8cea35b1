// `evidence run --shard I/N`: the shards of a sweep run every instance exactly once between them,
// each item's chain (trace → total for one config) inside one shard; stages that gather every
// instance are left out of shard runs and named; a full run afterwards runs only those.
//
// The shard runs and the assembly go through `clones`: here one project plays every role (the
// shards share its store). A cross-machine variant passes separate clones that push to and pull
// from a shared remote cache between the steps (see `assembleAfterShards`).
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TestProject, type CliResult } from '../helpers/project.js';

const PIPELINE = `version: 1
stages:
  build:
    cmd: echo "build" >> "$RUNLOG"; mkdir -p out && echo built > out/tool
    outs: [out/tool]
  trace:
    matrix: { config: { glob: "cfg/*.args" }, pixel: [7, 8] }
    cmd: echo "trace@\${item.config},\${item.pixel}" >> "$RUNLOG"; echo "\${item.pixel} $(cat cfg/\${item.config}.args)" > out/\${item.config}-\${item.pixel}.txt
    deps: ["cfg/\${item.config}.args", out/tool]
    outs: ["out/\${item.config}-\${item.pixel}.txt"]
  total:
    matrix: { config: { glob: "cfg/*.args" } }
    cmd: echo "total@\${item.config}" >> "$RUNLOG"; cat out/\${item.config}-7.txt out/\${item.config}-8.txt > out/\${item.config}.total
    deps: ["out/\${item.config}-*.txt"]
    outs: ["out/\${item.config}.total"]
  all:
    cmd: echo all >> "$RUNLOG"; cat out/*.total > all.txt
    deps: ["out/\${item.config}.total"]
    outs: [all.txt]
`;

function sweep(configs: string[]): TestProject {
  const files: Record<string, string> = { 'pipeline.yaml': PIPELINE };
  for (const c of configs) files[`cfg/${c}.args`] = `${c}\n`;
  return new TestProject(files);
}

/** Every instance of the sweep, as `evidence dag` lists them. */
function instancesOf(p: TestProject): string[] {
  const dag = p.cli(['dag']);
  expect(dag.code, dag.stderr).toBe(0);
  return dag.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.includes('@')).sort();
}

interface Clones {
  /** The project a shard job runs in, and what happens after it ran (a push, in CI). */
  shard(i: number): TestProject;
  afterShard?(p: TestProject): void;
  /** The project the assembly job runs in, and what happens before (a pull). */
  assembly(): TestProject;
  beforeAssembly?(p: TestProject): void;
  /** Extra environment of every run (EVIDENCE_REMOTE_URL, EVIDENCE_REMOTE_PUSH=true for a remote). */
  env?: NodeJS.ProcessEnv;
}

/** Runs shards 1..n, then a full run; returns what each started (from the run logs) and printed. */
function assembleAfterShards(clones: Clones, n: number): { shards: Array<{ ran: string[]; out: CliResult }>; assembly: { ran: string[]; out: CliResult } } {
  const shards = [];
  for (let i = 1; i <= n; i++) {
    const p = clones.shard(i);
    const out = p.cli(['run', '--shard', `${i}/${n}`], clones.env);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    shards.push({ ran: p.takeRuns(), out });
    clones.afterShard?.(p);
  }
  const a = clones.assembly();
  clones.beforeAssembly?.(a);
  const out = a.cli(['run'], clones.env);
  expect(out.code, out.stdout + out.stderr).toBe(0);
  return { shards, assembly: { ran: a.takeRuns(), out } };
}

describe('evidence run --shard I/N', () => {
  it('two shards run every instance exactly once, each item whole, and the full run after them runs only the gathering stage', () => {
    const p = sweep(['a', 'b', 'c']);
    const all = instancesOf(p);
    const { shards, assembly } = assembleAfterShards({ shard: () => p, assembly: () => p }, 2);

    const instancesRun = shards.flatMap((s) => s.ran.filter((r) => r.includes('@')));
    expect(instancesRun.sort()).toEqual(all);
    expect(new Set(instancesRun).size).toBe(instancesRun.length);
    for (const s of shards) {
      expect(s.ran).not.toContain('all');
      expect(s.out.stdout).toMatch(/- all not run in a shard: it needs every instance; a run without --shard assembles it/);
      // Each item is whole: a config's traces and its total are in the same shard.
      const configs = new Set(s.ran.filter((r) => r.includes('@')).map((r) => r.replace(/^\w+@/, '').split(',')[0]));
      for (const c of configs) expect(s.ran.filter((r) => r.includes(`@${c}`)).sort()).toEqual([`total@${c}`, `trace@${c},7`, `trace@${c},8`]);
    }
    // Both shards have work: 3 items dealt round-robin give 2 and 1.
    expect(shards.map((s) => s.out.stdout.match(/shard (\d)\/2: (\d) of 3 item\(s\)/)!.slice(1))).toEqual([['1', '2'], ['2', '1']]);

    expect(assembly.ran).toEqual(['all']);
    expect(assembly.out.stdout).not.toMatch(/trace@\S+ started|total@\S+ started/);
    expect(p.read('all.txt')).toBe('7 a\n8 a\n7 b\n8 b\n7 c\n8 c\n');
  });

  it('deals the same items to the same shard on every machine, and a shard dealt nothing runs nothing', () => {
    const p = sweep(['a', 'b', 'c']);
    const dealt = (q: TestProject, i: number) => {
      const r = q.cli(['run', '--shard', `${i}/4`, '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'shard-selected');
    };
    const first = [1, 2, 3, 4].map((i) => dealt(p, i).items);
    const elsewhere = sweep(['a', 'b', 'c']);
    expect([1, 2, 3, 4].map((i) => dealt(elsewhere, i).items)).toEqual(first);
    expect(first.flat().sort()).toEqual(['config=a', 'config=b', 'config=c']);
    expect(first[3]).toEqual([]);

    const empty = p.cli(['run', '--shard', '4/4']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/shard 4\/4: 0 of 3 item\(s\), 0 stage instance\(s\)/);
    expect(empty.stdout).toMatch(/- build not run in a shard: no item of this shard needs it/);
    expect(p.takeRuns()).toEqual([]);
  });

  it("keeps one configuration's whole chain of the default pipeline in one shard and leaves the sweep out", () => {
    const p = new TestProject();
    for (const part of ['pipeline.yaml', 'example', 'schemas']) cpSync(join(REPO_ROOT, part), p.path(part), { recursive: true });
    const events = [1, 2].map((i) => {
      const r = p.cli(['run', '--shard', `${i}/2`, '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; stage?: string; items?: string[]; left?: Array<{ stage: string }> });
    });
    const configs = events.map((e) => e.find((x) => x.type === 'shard-selected')!.items!.map((i) => i.replace('config=', '')));
    expect(configs.flat().sort()).toEqual(['cubic-default', 'mono-phi', 'multi-phi', 'ortho-beam', 'triclinic-hkl']);
    for (const [k, e] of events.entries()) {
      const would = e.filter((x) => x.type === 'stage-would-run').map((x) => x.stage!);
      const chains = new Set(would.filter((n) => n.includes('@')).map((n) => n.split('@')[1]));
      expect([...chains].sort()).toEqual([...configs[k]!].sort());
      for (const c of configs[k]!) for (const s of ['c_trace', 'ts_trace', 'parse_c', 'parse_ts', 'compare', 'summarize']) expect(would).toContain(`${s}@${c}`);
      expect(would).not.toContain('sweep');
      expect(e.find((x) => x.type === 'shard-selected')!.left!.map((l) => l.stage)).toContain('sweep');
    }
  });

  it('narrows to the named stages within the shard', () => {
    const p = sweep(['a', 'b']);
    const r = p.cli(['run', '--shard', '1/2', 'trace']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['build', 'trace@a,7', 'trace@a,8']);
  });

  it('rejects a bad I/N, and a pipeline without a matrix', () => {
    const p = sweep(['a']);
    for (const [arg, message] of [
      ['0/2', /--shard 0\/2: I must be between 1 and 2/],
      ['3/2', /--shard 3\/2: I must be between 1 and 2/],
      ['1/0', /--shard 1\/0: N must be at least 1/],
      ['half', /--shard expects I\/N \(this job's share of N, e.g. 2\/4\), got 'half'/],
    ] as const) {
      const r = p.cli(['run', '--shard', arg]);
      expect(r.code, arg).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(p.takeRuns()).toEqual([]);
    const plain = new TestProject({ 'pipeline.yaml': 'version: 1\nstages:\n  one:\n    cmd: echo one > one.txt\n    outs: [one.txt]\n' });
    const r = plain.cli(['run', '--shard', '1/2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no matrix instances to share out; run it without --shard/);
  });
});

// Across machines: each shard and the assembly run in a clone of their own, sharing only an nginx
// remote cache (the harness of the remote-cache tests). Skipped, with the reason, where that
// harness or nginx is missing.
const NGINX_HARNESS = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'nginx-cache.ts');
type Harness = { nginxSkipReason(): string | undefined; startNginxCache(): Promise<{ url: string; stop(): Promise<void> }> };
const harness: Harness | undefined = existsSync(NGINX_HARNESS) ? ((await import(pathToFileURL(NGINX_HARNESS).href)) as Harness) : undefined;
const remoteSkip = harness ? harness.nginxSkipReason() : 'no nginx harness (tests/support/nginx-cache.ts) in this tree';

describe.skipIf(remoteSkip !== undefined)(`shards across machines through a remote cache${remoteSkip ? ` (skipped: ${remoteSkip})` : ''}`, () => {
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => stop?.());

  it('two shard clones push what they ran, and a clean clone restores every instance and runs only the gathering stage', async () => {
    const server = await harness!.startNginxCache();
    stop = () => server.stop();
    const { shards, assembly } = assembleAfterShards(
      { shard: () => sweep(['a', 'b', 'c']), assembly: () => sweep(['a', 'b', 'c']), env: { EVIDENCE_REMOTE_URL: server.url, EVIDENCE_REMOTE_PUSH: 'true' } },
      2,
    );
    const instancesRun = shards.flatMap((s) => s.ran.filter((r) => r.includes('@')));
    expect(instancesRun.sort()).toEqual(instancesOf(sweep(['a', 'b', 'c'])));
    expect(assembly.ran).toEqual(['all']);
    expect(assembly.out.stdout.match(/restored from remote/g)).toHaveLength(10);
  });
});
