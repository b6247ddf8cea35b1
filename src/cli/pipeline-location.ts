// Which pipeline file a verb works on, and so which folder is the project root (the file's folder).
// Without --file, pipeline.yaml is looked for in the current folder and then in each folder above
// it up to the file system's root, as git looks for .git: `evidence run` works from any subfolder.
// The file is named relative to the current folder, so diagnostics point at a path the user can
// open from where they are, and relative paths on the command line keep meaning what they say.
// Kept apart from project.ts so that locating costs the start-up nothing but two node modules.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import { UsageError } from './usage-error.js';

export const PIPELINE_FILE = 'pipeline.yaml';

export interface PipelineLocation {
  /** The file as the loader and the diagnostics name it: as given, or relative to the current folder. */
  file: string;
  /** The project root: the folder holding the file (absolute). */
  root: string;
  /** Given with --file, found in the current folder, or found in a folder above it. */
  how: 'flag' | 'here' | 'above';
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The pipeline file for `--file` (when given) or found upward from `cwd`. Throws a UsageError when there is none. */
export function locatePipeline(fileFlag: string | undefined, cwd: string = process.cwd()): PipelineLocation {
  if (fileFlag !== undefined) {
    // A missing explicit file is left to the loader, which reports it as a located diagnostic.
    return { file: fileFlag, root: dirname(resolve(cwd, fileFlag)), how: 'flag' };
  }
  const top = parse(cwd).root;
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, PIPELINE_FILE);
    if (isFile(candidate)) {
      const rel = relative(cwd, candidate);
      return { file: rel === PIPELINE_FILE ? PIPELINE_FILE : isAbsolute(rel) ? candidate : rel, root: dir, how: dir === cwd ? 'here' : 'above' };
    }
    if (dir === top || dirname(dir) === dir) break;
  }
  throw new UsageError(
    `no ${PIPELINE_FILE} in ${cwd} or any folder above it (searched up to ${top}).\n` +
      `  Create one here with 'evidence init', name one with --file FILE, or run in another folder with -C DIR.`,
  );
}

/** The line `-v` prints: which file is used and, when it was found above, where the root is. */
export function describeLocation(at: PipelineLocation): string {
  if (at.how === 'above') return `using ${at.file} (found above the current folder; project root ${at.root})`;
  return `using ${at.file} (project root ${at.root})`;
}
