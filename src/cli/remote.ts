// The remote cache from the command line: which remote a command uses (pipeline.yaml's `remote:`
// with the environment on top), the run's upload of what it produced (`push: true`), and the verbs
// `evidence push` (upload what evidence.lock references) and `evidence pull` (download it).
import type { Invocation } from './invocation.js';
import { EXIT } from './exit-codes.js';
import { openProject, UsageError } from './project.js';
import type { StageCatalog } from '../stage-api/index.js';
import type { Pipeline } from '../pipeline/model.js';
import { Workspace } from '../cache/workspace.js';
import { ObjectStore } from '../cache/store.js';
import { RemoteCache } from '../cache/remote-cache.js';
import { remoteSettings, type RemoteSettings } from '../cache/remote-settings.js';
import type { EventSink } from '../run/events.js';
import type { RunOutcome } from '../run/scheduler.js';

/** The pipeline's remote cache settings with the environment applied; undefined when there is none. */
export function remoteOf(pipeline: Pipeline): RemoteSettings | undefined {
  const s = remoteSettings(pipeline.remote);
  if (!s.ok) throw new UsageError(s.message);
  return s.settings;
}

/** After a run with `push: true`: uploads the records of the stages it ran. Never fails the run. */
export async function pushProduced(remote: RemoteCache, outcome: RunOutcome, emit: EventSink): Promise<void> {
  let stages = 0;
  for (const [name, r] of outcome.results) {
    if (r.status !== 'done' || !r.evaluation || !remote.usable) continue;
    const pushed = await remote.pushRun(r.evaluation.fingerprint);
    if (pushed.pushed) stages++;
    else if (pushed.why === 'local object corrupt') emit({ type: 'warning', time: Date.now(), stage: name, message: 'not pushed to the remote cache: a local object fails its hash' });
  }
  if (stages) emit({ type: 'remote-pushed', time: Date.now(), url: remote.settings.url, stages, objects: remote.counts.objectsUploaded });
}

async function openForTransfer(inv: Invocation, catalog: StageCatalog, verb: string) {
  if (inv.positionals.length) throw new UsageError(`takes no arguments, got '${inv.positionals[0]}'`);
  const opened = await openProject(inv.values.file as string, [], catalog);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    return undefined;
  }
  const { pipeline } = opened.project;
  const ws = new Workspace(pipeline.root);
  const settings = remoteOf(pipeline);
  const remote = settings && new RemoteCache(settings, ws.store, (message, stage) => process.stderr.write(`evidence ${verb}: ${stage ? `${stage}: ` : ''}${message}\n`));
  if (!remote) throw new UsageError(`no remote cache: add remote: { url: ... } to ${inv.values.file as string} or set EVIDENCE_REMOTE_URL`);
  return { ws, remote, pipeline, stages: Object.entries(ws.lock.stages) };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function pushVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const t = await openForTransfer(inv, catalog, 'push');
  if (!t) return EXIT.usage;
  const { remote, stages } = t;
  let pushed = 0;
  const notCached: string[] = [];
  const corrupt: string[] = [];
  try {
    for (const [name, entry] of stages) {
      const r = await remote.pushRun(entry.fingerprint);
      if (r.pushed) pushed++;
      else if (r.why === 'no local record') notCached.push(name);
      else if (r.why === 'local object corrupt') corrupt.push(name);
      else break;
    }
  } finally {
    remote.close();
  }
  if (!remote.usable) return EXIT.failed;
  const out = [`pushed ${plural(pushed, 'stage')} of evidence.lock to ${remote.settings.url} (${plural(remote.counts.objectsUploaded, 'object')} uploaded, the rest already there)`];
  if (notCached.length) out.push(`not in the local cache (cache: false outs, or made on another machine): ${notCached.join(', ')}`);
  if (corrupt.length) out.push(`not pushed, a local object fails its hash: ${corrupt.join(', ')}`);
  process.stdout.write(out.join('\n') + '\n');
  return corrupt.length ? EXIT.failed : EXIT.ok;
}

export async function pullVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const t = await openForTransfer(inv, catalog, 'pull');
  if (!t) return EXIT.usage;
  const { ws, remote, pipeline, stages } = t;
  let local = 0;
  const absent: string[] = [];
  const gone: string[] = [];
  try {
    for (const [name, entry] of stages) {
      const have = ws.store.readRun(entry.fingerprint);
      ws.store.takeRefusedRun(entry.fingerprint);
      // A local record whose objects are all here needs nothing from the server.
      if (have && have.outs.every((o) => o.type !== 'missing') && ObjectStore.filesOf(have.outs).every((f) => ws.store.has(f.hash))) {
        local++;
        continue;
      }
      // A record must restore exactly the stage's outs: a stage the pipeline no longer has has none to check against.
      const stage = pipeline.stages.get(name);
      if (!stage) {
        gone.push(name);
        continue;
      }
      if (!(await remote.fetchRun(entry.fingerprint, name, stage.outs.map((o) => o.path)))) {
        if (!remote.usable) break;
        absent.push(name);
      }
    }
  } finally {
    remote.close();
  }
  if (!remote.usable) return EXIT.failed;
  const got = remote.counts.recordsFetched;
  const out = [`pulled ${plural(got, 'stage')} of evidence.lock from ${remote.settings.url} (${plural(remote.counts.objectsDownloaded, 'object')} downloaded)${local ? `; ${local} already in the local cache` : ''}`];
  if (absent.length) out.push(`not on the remote: ${absent.join(', ')}`);
  if (gone.length) out.push(`in evidence.lock but not in the pipeline, not pulled: ${gone.join(', ')}`);
  out.push('evidence run restores them into the project');
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
}
