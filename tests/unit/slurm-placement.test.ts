// `executor:` and `resources:` in pipeline.yaml (src/pipeline/resources.ts) and the pure parts of
// the Slurm executor: the srun command line (slurm/srun-args.ts) and how a finished job's state
// reads as a failure (slurm/job-state.ts). The executor against a real Slurm: tests/slurm/.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/pipeline/load.js';
import type { Diagnostic } from '../../src/pipeline/diagnostics.js';
import type { StageCatalog } from '../../src/stage-api/index.js';
import { srunArgs, slurmFilename } from '../../src/run/slurm/srun-args.js';
import { parseJobRecord, verdictOf } from '../../src/run/slurm/job-state.js';
import { Workspace } from '../../src/cache/workspace.js';

const catalog: StageCatalog = {
  kinds: new Map([['note', { version: '1', load: async () => { throw new Error('not run'); }, outputPaths: ['output'] }]]),
  commands: [],
};

async function load(text: string) {
  const dir = join(mkdtempSync(join(tmpdir(), 'evidence-slurm-')), 'project');
  mkdirSync(dir);
  writeFileSync(join(dir, 'pipeline.yaml'), text);
  return loadPipeline(join(dir, 'pipeline.yaml'), { catalog });
}

function located(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

describe('executor and resources in pipeline.yaml', () => {
  it('makes the pipeline executor the default of cmd stages, with resources merged key by key', async () => {
    const r = await load(`version: 1
executor: slurm
resources: { mem: 4G, time: "1:00:00", extra: [--qos=short] }
stages:
  a: { cmd: 'true', outs: [a.txt], resources: { mem: 500M, cpus: 2 } }
  b: { cmd: 'true', outs: [b.txt], executor: local }
  c: { uses: note, with: { output: c.md } }
`);
    expect(r.diagnostics).toEqual([]);
    const stages = r.pipeline!.stages;
    expect(stages.get('a')).toMatchObject({ executor: 'slurm', resources: { mem: '500M', cpus: 2, time: '1:00:00', extra: ['--qos=short'] } });
    expect(stages.get('b')?.executor).toBeUndefined();
    // A built-in stage runs in the runner whatever the pipeline's default.
    expect(stages.get('c')?.executor).toBeUndefined();
  });

  it('reports a memory size or a time limit Slurm would refuse at its node, with the form it expects', async () => {
    const r = await load(`version: 1
resources: { time: 90 minutes }
stages:
  a:
    cmd: 'true'
    executor: slurm
    resources: { mem: 4X, gpus: "a100:" }
`);
    expect(located(r.diagnostics)).toEqual([
      "2:20 resources.time '90 minutes' is not a Slurm time limit",
      "7:23 stage 'a': resources.mem '4X' is not a memory size Slurm reads",
      "7:33 stage 'a': resources.gpus 'a100:' is not a GPU request",
    ]);
    expect(r.diagnostics[1]!.hint).toContain('4G');
  });

  it('refuses executor: slurm on a uses: stage, at the key', async () => {
    const r = await load(`version: 1
stages:
  c:
    uses: note
    with: { output: c.md }
    executor: slurm
`);
    expect(located(r.diagnostics)).toEqual(["6:15 stage 'c': executor: slurm applies to cmd stages; a uses: stage runs inside the runner"]);
  });

  it('rejects an unknown executor and unknown resource keys through the schema', async () => {
    const r = await load(`version: 1
stages:
  a: { cmd: 'true', executor: pbs, resources: { memory: 4G } }
`);
    expect(r.diagnostics.map((d) => d.message).join('\n')).toMatch(/executor must be one of "local", "slurm"[\s\S]*unknown key 'memory'/);
  });

  it('leaves executor and resources out of the fingerprint: the same command makes the same outs', async () => {
    const local = await load(`version: 1\nstages:\n  a: { cmd: 'echo x > a.txt', outs: [a.txt] }\n`);
    const slurm = await load(`version: 1\nstages:\n  a: { cmd: 'echo x > a.txt', outs: [a.txt], executor: slurm, resources: { mem: 1G } }\n`);
    const ws = new Workspace(local.pipeline!.root);
    expect(ws.definitionOf(slurm.pipeline!.stages.get('a')!)).toEqual(ws.definitionOf(local.pipeline!.stages.get('a')!));
  });
});

describe('the srun command line', () => {
  it('names the job after the stage, runs it in its cwd and sends its streams to the capture files', async () => {
    const r = await load(`version: 1
stages:
  t:
    matrix: { c: [x] }
    cmd: 'echo \${item.c}'
    outs: [o.txt]
    executor: slurm
    resources: { cpus: 2, mem: 1G, time: "10", partition: debug, gpus: 1, extra: [--constraint=avx2] }
`);
    const stage = r.pipeline!.stages.get('t@x')!;
    expect(srunArgs(stage, '/p', { stdout: '/p/o%.log', stderr: '/p/e.log' })).toEqual([
      '--verbose',
      '--job-name=t@x',
      '--ntasks=1',
      '--chdir=/p',
      '--output=/p/o%%.log',
      '--error=/p/e.log',
      '--cpus-per-task=2',
      '--mem=1G',
      '--time=10',
      '--partition=debug',
      '--gpus=1',
      '--constraint=avx2',
      '/bin/sh',
      '-c',
      'echo x',
    ]);
    expect(srunArgs(stage, '/p', { stdout: '/p/both.log', stderr: '/p/both.log' }).filter((a) => a.startsWith('--error'))).toEqual([]);
    expect(slurmFilename('a%j%%b')).toBe('a%%j%%%%b');
  });
});

describe("a finished job's state", () => {
  const line = (state: string, extra = '') =>
    `JobId=41 JobName=t@x UserId=root(0) JobState=${state} Reason=${state === 'OUT_OF_MEMORY' ? 'OutOfMemory' : 'None'} Dependency=(null) ExitCode=${extra || '0:0'} NodeList=vm BatchHost=vm`;

  it('reads the state, reason, exit code and node from scontrol -o', () => {
    expect(parseJobRecord(line('OUT_OF_MEMORY', '0:125'))).toEqual({ state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', exitCode: '0:125', node: 'vm' });
    expect(parseJobRecord('slurm_load_jobs error: Invalid job id specified')).toBeUndefined();
    // Slurm's "0:125" for a job it ended itself is no exit code of the command's.
    expect(verdictOf('41', parseJobRecord(line('OUT_OF_MEMORY', '0:125'))!).exitCode).toBeNull();
    expect(verdictOf('41', parseJobRecord(line('FAILED', '3:0'))!).exitCode).toBe(3);
  });

  it.each([
    ['OUT_OF_MEMORY', '0:125', undefined, 'out-of-memory', /Slurm job 41 on vm ended OUT_OF_MEMORY/],
    ['TIMEOUT', '0:15', undefined, 'timeout', /ended TIMEOUT: it reached its time limit/],
    ['NODE_FAIL', '0:0', undefined, 'cluster', /ended NODE_FAIL.*the cluster lost it/],
    ['PREEMPTED', '0:0', undefined, 'cluster', /ended PREEMPTED/],
    ['CANCELLED', '0:15', undefined, 'cluster', /CANCELLED from outside this run/],
    ['CANCELLED', '0:15', 'timeout', 'timeout', /cancelled at the stage's timeout/],
    ['CANCELLED', '0:15', 'interrupt', 'interrupted', /cancelled \(interrupted\)/],
    ['FAILED', '3:0', undefined, 'exit-code', /ended FAILED: exited with code 3/],
    ['FAILED', '0:9', undefined, 'signal', /killed by signal 9/],
  ] as const)('%s (%s, cancelled by %s) is a %s failure', (state, exit, by, reason, message) => {
    const v = verdictOf('41', parseJobRecord(line(state, exit))!, by);
    expect(v.reason).toBe(reason);
    expect(v.message).toMatch(message);
  });
});
