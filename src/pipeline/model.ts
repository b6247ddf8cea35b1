// The validated, typed pipeline: what the rest of the runner works from. Every user-written piece
// keeps its source location so later phases (graph, run) can report errors against pipeline.yaml.

export interface SourceLoc {
  line: number;
  column: number;
  length?: number;
}

export interface OutSpec {
  /** Project-relative, normalised (forward slashes, no trailing slash). */
  path: string;
  /** Schema file reference, as written (resolved against the project root, then the tool's schemas/). */
  schema?: string;
  /** false: not stored in the object store, never restored (still hashed for up-to-date checks). */
  cache: boolean;
  /** true for stdout/stderr captures. */
  stream?: 'stdout' | 'stderr';
  loc: SourceLoc;
}

export interface DepSpec {
  /** Project-relative file, folder or glob. */
  pattern: string;
  isGlob: boolean;
  loc: SourceLoc;
}

export interface Stage {
  name: string;
  loc: SourceLoc;
  kind: 'cmd' | 'uses';
  /** For kind 'cmd': a shell string (params quoted) or an argv list (params expanded). */
  cmd?: string | string[];
  /** For kind 'uses': a built-in name or a project-relative script path (starts with ./ or ../). */
  uses?: string;
  /** For kind 'uses': the catalog's version of the kind when the pipeline loaded ('script' for a script). */
  kindVersion?: string;
  with: Record<string, unknown>;
  deps: DepSpec[];
  outs: OutSpec[];
  /** Pipeline env overlaid with the stage's own env. */
  env: Record<string, string>;
  /** Project-relative working directory ('.' for the root). */
  cwd: string;
  /** For a script stage: its `with:` fields that are input and output paths (edges, like deps and outs). */
  paths?: { inputs?: string[]; outputs?: string[] };
  /** 'scratch': the command runs in a fresh temporary folder holding links to its deps (run/scratch.ts). */
  workdir?: 'scratch';
  timeoutMs?: number;
  needs: Array<{ stage: string; loc: SourceLoc }>;
  /** Names of params referenced anywhere in the stage's definition. */
  paramsUsed: string[];
  /** How the stage appears in logs and snapshots: the resolved command line. */
  display: string;
  /** For an instance of a matrix stage: the stage as written and this instance's values. */
  instance?: { of: string; item: Record<string, unknown> };
  /** Its kind writes down the whole pipeline (StageKind.describesPipeline): fingerprinted with it. */
  describesPipeline?: boolean;
  /**
   * A named executor other than the runner's own processes ('slurm'); undefined runs it locally.
   * Neither this nor resources is part of the fingerprint: the same command gives the same outs.
   */
  executor?: 'slurm';
  /** What a job asks its scheduler for (the pipeline's resources overlaid with the stage's). */
  resources?: Resources;
}

/** A Slurm job's request, checked at load (resources.ts); mem and time in Slurm's own forms. */
export interface Resources {
  cpus?: number;
  /** Megabytes, or with a unit: 500M, 4G. */
  mem?: string;
  /** Minutes, or MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
  time?: string;
  partition?: string;
  gpus?: string;
  extra?: string[];
}

export interface ParamSpec {
  default: unknown;
  choices?: unknown[];
  description?: string;
  loc: SourceLoc;
}

export interface BlockerSpec {
  uses: string;
  kindVersion: string;
  with: Record<string, unknown>;
  loc: SourceLoc;
}

/** The shared HTTP cache (`remote:`), before environment overrides (src/cache/remote-settings.ts). */
export interface RemoteSpec {
  url: string;
  push: boolean;
  /** The environment variable that holds the bearer token (the token is never in the model). */
  tokenEnv: string;
  timeoutMs: number;
  loc: SourceLoc;
}

export interface Pipeline {
  /** Absolute path of pipeline.yaml. */
  file: string;
  /** Absolute project root: the folder holding pipeline.yaml. */
  root: string;
  /** Each param's value for this run: its default, or the `-p` override. */
  params: Record<string, unknown>;
  /** The params declared as `{ default, choices, description }`, for help and status. */
  paramSpecs: Record<string, ParamSpec>;
  env: Record<string, string>;
  stages: Map<string, Stage>;
  blocker?: BlockerSpec;
  /** Globs of files that a run must not modify. */
  protect: string[];
  /** `cache:`: a bound on the local store applied when a run ends (as `evidence gc` would). */
  cache?: { maxSize?: number; keepLast?: number };
  /** Optional settings for reporters (junit path, ...), passed through untyped. */
  reports: Record<string, unknown>;
  remote?: RemoteSpec;
  /** The source text, for rendering diagnostics. */
  source: string;
}
