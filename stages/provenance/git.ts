// The git state that provenance records: HEAD's SHA and commit date, the branch, and whether
// anything but the pipeline's own outputs differs from HEAD. Must not know which stages exist.
import picomatch from 'picomatch';

export interface GitState {
  sha: string | null;
  branch: string | null;
  dirty: boolean | null;
  /** Project-relative paths with uncommitted changes (declared outs excluded), sorted, at most 100. */
  changed: string[];
  /**
   * HEAD's committer date (ISO 8601, UTC): the date a summary carries. Unlike the clock it is the
   * same on every run of the same commit, so identical inputs still give identical bytes.
   */
  date: string | null;
}

export const NO_GIT: GitState = { sha: null, branch: null, dirty: null, changed: [], date: null };

// The runner rewrites its lock after every stage: a run must not make its own project dirty.
const RUNNER_FILES = ['evidence.lock'];

// execa loads lazily (~100 ms, measured): summarize and write-notes only need git without a snapshot.
async function git(args: string[], cwd: string, signal?: AbortSignal): Promise<string> {
  const { execa } = await import('execa');
  const r = await execa('git', args, { cwd, cancelSignal: signal, timeout: 15_000, stdin: 'ignore', maxBuffer: 16 << 20, stripFinalNewline: false, env: { LC_ALL: 'C' } });
  return r.stdout;
}

/**
 * The git state of `dir`: HEAD's SHA and date (null before the first commit), the branch (null when
 * detached), and whether anything but `ignore` (project-relative paths or globs: the declared outs)
 * differs from HEAD. All null when `dir` is not in a git work tree or git is missing.
 */
export async function readGitState(dir: string, ignore: string[] = [], signal?: AbortSignal): Promise<GitState> {
  let prefix: string;
  try {
    const inside = (await git(['rev-parse', '--is-inside-work-tree'], dir, signal)).trim();
    if (inside !== 'true') return NO_GIT;
    prefix = (await git(['rev-parse', '--show-prefix'], dir, signal)).trim();
  } catch {
    return NO_GIT;
  }
  const orNull = (s: string) => s.trim() || null;
  const sha = await git(['rev-parse', '--verify', '-q', 'HEAD'], dir, signal).then(orNull, () => null);
  const branch = await git(['symbolic-ref', '--short', '-q', 'HEAD'], dir, signal).then(orNull, () => null);
  const seconds = sha ? await git(['show', '-s', '--format=%ct', sha], dir, signal).then(orNull, () => null) : null;
  const date = seconds && /^\d+$/.test(seconds) ? new Date(Number(seconds) * 1000).toISOString() : null;
  let porcelain: string;
  try {
    porcelain = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.'], dir, signal);
  } catch {
    return { sha, branch, dirty: null, changed: [], date };
  }
  const patterns = [...ignore, ...RUNNER_FILES];
  const skip = picomatch(patterns.flatMap((p) => [p, `${p}/**`]), { dot: true });
  const changed: string[] = [];
  const entries = porcelain.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.length < 4) continue;
    const code = e.slice(0, 2);
    const repoPath = e.slice(3);
    if (code[0] === 'R' || code[0] === 'C') i++; // the next entry is the rename's source
    const path = repoPath.startsWith(prefix) ? repoPath.slice(prefix.length) : repoPath;
    if (skip(path)) continue;
    changed.push(path);
  }
  changed.sort();
  return { sha, branch, dirty: changed.length > 0, changed: changed.slice(0, 100), date };
}
