// Test projects: a temp folder with a pipeline.yaml and real files, and a runner for the compiled
// CLI as a subprocess. Stage commands append to a run log outside the project so a test can see
// exactly which stage processes started.
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'evidence.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class TestProject {
  readonly dir: string;
  readonly runLog: string;

  constructor(files: Record<string, string> = {}) {
    const base = mkdtempSync(join(tmpdir(), 'evidence-test-'));
    this.dir = join(base, 'project');
    mkdirSync(this.dir);
    this.runLog = join(base, 'runs.log');
    for (const [p, content] of Object.entries(files)) this.write(p, content);
  }

  path(p: string): string {
    return join(this.dir, p);
  }

  write(p: string, content: string): void {
    mkdirSync(dirname(this.path(p)), { recursive: true });
    writeFileSync(this.path(p), content);
  }

  read(p: string): string {
    return readFileSync(this.path(p), 'utf8');
  }

  exists(p: string): boolean {
    return existsSync(this.path(p));
  }

  remove(p: string): void {
    rmSync(this.path(p), { recursive: true, force: true });
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    // The test runner's own CI settings must not leak in; a test that wants them passes them.
    const env: NodeJS.ProcessEnv = { ...process.env, RUNLOG: this.runLog, NO_COLOR: '1' };
    delete env.CI;
    delete env.GITHUB_ACTIONS;
    delete env.GITHUB_STEP_SUMMARY;
    delete env.GITHUB_WORKSPACE;
    delete env.FORCE_COLOR;
    return { ...env, ...extra };
  }

  /** Runs `evidence ARGS` in the project folder and waits for it. */
  cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): CliResult {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(extraEnv), encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  spawnCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Stage names that started a process since the last call (each stage cmd appends its name). */
  takeRuns(): string[] {
    if (!existsSync(this.runLog)) return [];
    const runs = readFileSync(this.runLog, 'utf8').split('\n').filter(Boolean);
    rmSync(this.runLog);
    return runs.sort();
  }

  git(...args: string[]): string {
    const r = spawnSync('git', args, { cwd: this.dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  initGit(): void {
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'test@example.com');
    this.git('config', 'user.name', 'Test');
    this.git('add', '-A');
    this.git('commit', '-qm', 'initial');
  }
}

/** A cmd stage that records that it ran, then runs `body`. */
export function logged(name: string, body: string): string {
  return `echo ${name} >> "$RUNLOG"; ${body}`;
}
