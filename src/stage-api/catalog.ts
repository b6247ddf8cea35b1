// The stage catalog: what the core may know about each stage kind without loading it. The CLI
// builds one (the built-ins of stages/catalog.ts) and hands it in; the pipeline loader, the cache
// and the scheduler see only this interface, so none of them imports a stage, and a test can hand
// in a small fake catalog.
import type { StageModule, PipelineView } from './contract.js';
import type { Findings } from './findings.js';

export interface StageKind {
  /** Bumped whenever this kind's output for the same inputs changes; part of every fingerprint. */
  version: string;
  /** File name of the JSON Schema of `with:` in the tool's schemas/ (checked when the pipeline loads). */
  inputSchema?: string;
  /** `with:` fields holding paths (relative to the stage's cwd) that the stage reads. */
  inputPaths?: readonly string[];
  /** `with:` fields holding paths the stage writes; the first one set is the stage's primary output. */
  outputPaths?: readonly string[];
  /** Those of outputPaths the stage appends to: never restored from the cache (an old copy would drop later additions). */
  appendedPaths?: readonly string[];
  /** Loads the stage's code: only when a stage of this kind runs. */
  load(): Promise<StageModule>;
  /**
   * Whether a stage of this kind with this `with:` can end a run through a gate. Cheap (no file is
   * read), so that a run without gates never reads any findings.
   */
  gated?(withValue: Record<string, unknown>): boolean;
  /**
   * Whether a stage of this kind with this `with:` writes down the pipeline itself (params, other
   * stages' definitions). Its fingerprint then covers every param and every stage's definition, so
   * that what it wrote, restored or not, describes the pipeline it runs in. Cheap, like `gated`.
   */
  describesPipeline?(withValue: Record<string, unknown>): boolean;
  /** Reads what a settled stage of this kind found (from its outs on disk), for reporters and gates. */
  findings?(input: FindingsInput): Promise<Findings>;
}

/** A stage as a findings reader sees it. */
export interface FindingsInput {
  /** The stage's name. */
  stage: string;
  /** Absolute project root. */
  root: string;
  /** Project-relative working directory of the stage. */
  cwd: string;
  with: Record<string, unknown>;
  /** Declared outs, project-relative. */
  outs: string[];
  /** Project-relative path of the stage's primary output, when it has one. */
  primaryOut?: string;
  pipeline: PipelineView;
}

/** A one-off command that a catalog adds to the CLI (e.g. `evidence parse`). */
export interface StageCommand {
  name: string;
  /** The command's arguments, for the main help's list. */
  synopsis: string;
  /** One line, for the main help's list. */
  summary: string;
  /** The command's full `--help` text. */
  help: string;
  /** node:util parseArgs options (a `-h, --help` flag is added by the CLI). */
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;
  /** Runs the command; loads its code only now. Throws CommandUsageError for bad arguments. */
  run(args: CommandArgs): Promise<number>;
}

export interface CommandArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Thrown by a command for bad arguments: the CLI prints it and exits 2. */
export class CommandUsageError extends Error {
  override name = 'CommandUsageError';
}

/** By name, not class: the bundled CLI and the stage modules each hold their own copy of the class. */
export function isCommandUsageError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'CommandUsageError';
}

export interface StageCatalog {
  /** Kind name → kind (the name is what `uses:` says). */
  readonly kinds: ReadonlyMap<string, StageKind>;
  readonly commands: readonly StageCommand[];
}
