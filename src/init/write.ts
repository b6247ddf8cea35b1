// Writes a template into a folder: every file or none. What would be overwritten is found before
// anything is written, so a refusal leaves the folder as it was; .gitignore is never overwritten,
// only appended the lines it lacks. Each file is written atomically, and when a write fails midway
// the files this init created are removed again. Knows files, not what a template means.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { templateFileContent, type Template } from './templates.js';

export interface PlannedFile {
  path: string;
  about: string;
  content: Buffer;
}

export interface InitPlan {
  dir: string;
  template: Template;
  files: PlannedFile[];
  /** The .gitignore lines to append (those it does not have yet), and its content today. */
  gitignore: { add: string[]; current: string | undefined };
}

/** `/build/`, `build/`, `/build` and `build` all ignore the top folder build/: any of them counts as the line. */
function ignoreKey(line: string): string {
  return line.trim().replace(/^\//, '').replace(/\/$/, '');
}

export function planInit(dir: string, template: Template): InitPlan {
  const files = template.files.map((f) => ({ path: f.path, about: f.about, content: templateFileContent(f) }));
  const gitignorePath = join(dir, '.gitignore');
  const current = existsSync(gitignorePath) ? readFileSync(gitignorePath, 'utf8') : undefined;
  const have = new Set((current ?? '').split(/\r?\n/).map(ignoreKey));
  const add = template.gitignore.filter((line) => !have.has(ignoreKey(line)));
  return { dir, template, files, gitignore: { add, current } };
}

export interface Occupied {
  path: string;
  /** A file --force may overwrite, a folder in a file's place, or a file in the place of a folder it needs. */
  kind: 'file' | 'folder' | 'file-in-the-way';
}

/** The planned paths that something already occupies, relative to the plan's folder. */
export function occupiedPaths(plan: InitPlan): Occupied[] {
  const taken = new Map<string, Occupied['kind']>();
  for (const f of plan.files) {
    const abs = join(plan.dir, f.path);
    if (existsSync(abs)) taken.set(f.path, statSync(abs).isDirectory() ? 'folder' : 'file');
    for (let parent = dirname(f.path); parent !== '.'; parent = dirname(parent)) {
      const at = join(plan.dir, parent);
      if (existsSync(at) && !statSync(at).isDirectory()) taken.set(parent, 'file-in-the-way');
    }
  }
  return [...taken].map(([path, kind]) => ({ path, kind })).sort((a, b) => a.path.localeCompare(b.path));
}

function gitignoreText(plan: InitPlan): string {
  const current = plan.gitignore.current ?? '';
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  return `${current}${sep}${current === '' ? '' : '\n'}# evidence: its run state and the programs it builds\n${plan.gitignore.add.join('\n')}\n`;
}

/** Writes the plan (overwriting occupied paths: the caller asks first). */
export function writeInit(plan: InitPlan): void {
  const created: string[] = [];
  try {
    for (const f of plan.files) {
      const abs = join(plan.dir, f.path);
      const existed = existsSync(abs);
      writeFileAtomicSync(abs, f.content);
      if (!existed) created.push(abs);
    }
    if (plan.gitignore.add.length) writeFileAtomicSync(join(plan.dir, '.gitignore'), gitignoreText(plan));
  } catch (err) {
    for (const abs of created) rmSync(abs, { force: true });
    throw err;
  }
}
