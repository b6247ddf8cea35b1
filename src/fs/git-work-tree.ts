// Whether a folder lies in a git work tree, found by walking up to the `.git` that git itself would
// find, without spawning git: a `git rev-parse` probe costs a process start (~10-20 ms measured),
// paid by every run and every CI report even outside git. Callers still run git for what only git
// can tell (HEAD's commit, the index, ignore rules), and only once they know there is a repository.
//
// Follows git's discovery: a `.git` folder counts when it holds HEAD, a `.git` file when it points
// at a gitdir; the walk stops at a file-system boundary, as git does unless told otherwise. When
// the environment redirects discovery (GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES) the answer
// is `undefined`: ask git. Knows nothing about what the callers do with the answer.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export interface GitWorkTree {
  /** The top of the work tree (real path), as `git rev-parse --show-toplevel` prints it. */
  top: string;
  /** The folder's path inside it, '' at the top, else with a trailing '/' (as `--show-prefix`). */
  prefix: string;
}

const REDIRECTING = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_CEILING_DIRECTORIES'];

function isGitEntry(dotGit: string): boolean {
  let st;
  try {
    st = statSync(dotGit);
  } catch {
    return false;
  }
  if (st.isDirectory()) return existsSync(join(dotGit, 'HEAD'));
  try {
    return readFileSync(dotGit, 'utf8').startsWith('gitdir: ');
  } catch {
    return false;
  }
}

/** The work tree holding `dir`; null outside git; undefined when the environment says ask git. */
export function findGitWorkTree(dir: string, env: NodeJS.ProcessEnv = process.env): GitWorkTree | null | undefined {
  if (REDIRECTING.some((k) => env[k])) return undefined;
  let start: string;
  try {
    start = realpathSync.native(dir);
  } catch {
    return null;
  }
  const crossMounts = /^(1|true|yes|on)$/i.test(env.GIT_DISCOVERY_ACROSS_FILESYSTEM ?? '');
  const device = statSync(start).dev;
  for (let at = start; ; ) {
    if (isGitEntry(join(at, '.git'))) {
      const inside = relative(at, start);
      // Inside the repository's own .git folder there is no work tree.
      if (inside.split(sep).includes('.git')) return null;
      return { top: at, prefix: inside ? inside.split(sep).join('/') + '/' : '' };
    }
    const up = dirname(at);
    if (up === at) return null;
    if (!crossMounts && statSync(up).dev !== device) return null;
    at = up;
  }
}
