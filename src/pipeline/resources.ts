// `executor:` and `resources:` of a stage (over the pipeline's defaults): which executor runs it and
// what a Slurm job asks for. The schema checks the shapes; here the values Slurm would refuse only
// once the job is submitted (a mem of "4X", a time of "90 minutes") are caught at load, at the node.
import type { Diagnostic } from './diagnostics.js';
import type { Resources, Stage } from './model.js';
import type { Locator, PathSeg } from './yaml-locator.js';
import { interpolateText, type Vars } from './interpolate.js';

type RawResources = Record<string, unknown>;

export interface PlacementDefaults {
  executor?: 'local' | 'slurm';
  resources?: RawResources;
}

const MEM = /^[1-9][0-9]*[KMGT]?$/;
// Slurm's --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
const TIME = /^(?:[0-9]+(?::[0-9]+){0,2}|[0-9]+-[0-9]+(?::[0-9]+){0,2}|UNLIMITED|INFINITE)$/;

/**
 * The stage's executor and resources; a uses: stage goes to slurm only when it says so itself, and
 * is then refused (it runs inside the runner, with no command a job could run).
 */
export function placementOf(
  name: string,
  def: Record<string, any>,
  defaults: PlacementDefaults,
  vars: Vars,
  at: Locator,
  diagnostics: Diagnostic[],
): Pick<Stage, 'executor' | 'resources'> {
  const base: PathSeg[] = ['stages', name];
  const isCmd = def.cmd !== undefined;
  if (!isCmd && def.executor === 'slurm') {
    diagnostics.push(
      at.diag(
        at.locOfNode(at.node([...base, 'executor'])),
        `stage '${name}': executor: slurm applies to cmd stages; a uses: stage runs inside the runner`,
        'run the work as a cmd stage (cmd: node my-step.mjs ...) to send it to Slurm',
      ),
    );
    return {};
  }
  const executor = isCmd ? (def.executor ?? defaults.executor) : def.executor;
  if (executor !== 'slurm') return {};
  const merged: RawResources = { ...(defaults.resources ?? {}), ...(def.resources ?? {}) };
  const resources: Resources = {};
  for (const [key, raw] of Object.entries(merged)) {
    const value = key === 'extra' ? (raw as unknown[]).map((e) => interpolateText(String(e), vars)) : interpolateText(String(raw), vars);
    const problem = checkResource(key, value);
    if (problem) {
      // A bad pipeline-wide default is reported once, by checkDefaultResources.
      if (!(def.resources && key in def.resources)) continue;
      diagnostics.push(at.diag(at.locOfNode(at.nearest([...base, 'resources', key])), `stage '${name}': resources.${key} ${problem.message}`, problem.hint));
      continue;
    }
    if (key === 'cpus') resources.cpus = Number(value);
    else if (key === 'extra') resources.extra = value as string[];
    else resources[key as 'mem' | 'time' | 'partition' | 'gpus'] = value as string;
  }
  return { executor: 'slurm', resources };
}

/** The pipeline's own `resources:`, checked once rather than in every stage that inherits them. */
export function checkDefaultResources(raw: RawResources | undefined, vars: Vars, at: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [key, value] of Object.entries(raw ?? {})) {
    const problem = checkResource(key, key === 'extra' ? (value as unknown[]).map((e) => interpolateText(String(e), vars)) : interpolateText(String(value), vars));
    if (problem) out.push(at.diag(at.locOfNode(at.nearest(['resources', key])), `resources.${key} ${problem.message}`, problem.hint));
  }
  return out;
}

function checkResource(key: string, value: unknown): { message: string; hint: string } | undefined {
  if (key === 'mem' && !MEM.test(String(value))) {
    return { message: `'${value}' is not a memory size Slurm reads`, hint: 'megabytes (4096), or a whole number with K, M, G or T: 500M, 4G' };
  }
  if (key === 'time' && !TIME.test(String(value))) {
    return { message: `'${value}' is not a Slurm time limit`, hint: 'minutes (90), or MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (1:30:00, 2-00)' };
  }
  if (key === 'gpus' && !/^(?:[A-Za-z0-9_-]+:)?[1-9][0-9]*$/.test(String(value))) {
    return { message: `'${value}' is not a GPU request`, hint: 'a count (2) or type:count (a100:2)' };
  }
  if (key === 'extra') {
    const bad = (value as string[]).find((e) => !e.startsWith('-'));
    if (bad !== undefined) return { message: `'${bad}' is not an srun option`, hint: 'each entry is one option as srun takes it: --qos=short, --constraint=avx2' };
  }
  return undefined;
}
