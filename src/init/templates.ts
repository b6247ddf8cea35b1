// The starting points `evidence init` can write. Each is a folder of src/init/templates/ holding a
// template.json: the files it writes (each copied from the templates folder, or from the installed
// package with `package:`, so a helper the example already has is copied, never kept twice), the
// lines it adds to .gitignore and what to do next. The templates are data: what their pipelines
// and helpers say is theirs; this module only reads and checks the manifests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolRoot } from '../tool-root.js';

export const DEFAULT_TEMPLATE = 'c-ts';

export interface TemplateFile {
  /** Where it goes, relative to the folder being initialised. */
  path: string;
  /** Relative to the templates folder, or `package:` and a path relative to the installed package. */
  from: string;
  /** One line for the listing init prints. */
  about: string;
  /** Text put before the copied content (where a copy came from). */
  prepend?: string;
}

export interface Template {
  name: string;
  summary: string;
  files: TemplateFile[];
  gitignore: string[];
  next: string[];
}

export function templatesDir(): string {
  return join(toolRoot(), 'src', 'init', 'templates');
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** A manifest that does not hold together is a bug of the package, said as one. */
function checkManifest(name: string, raw: unknown): Template {
  const m = raw as Partial<Template> | null;
  const ok =
    m !== null &&
    typeof m === 'object' &&
    isString(m.summary) &&
    Array.isArray(m.files) &&
    m.files.every((f) => isString(f?.path) && isString(f?.from) && isString(f?.about) && (f.prepend === undefined || typeof f.prepend === 'string')) &&
    Array.isArray(m.gitignore) &&
    m.gitignore.every(isString) &&
    Array.isArray(m.next) &&
    m.next.every(isString);
  if (!ok) throw new Error(`template '${name}': ${join(templatesDir(), name, 'template.json')} is not a valid manifest`);
  return { name, summary: m!.summary!, files: m!.files!, gitignore: m!.gitignore!, next: m!.next! };
}

/** Every template, by name. */
export function templateNames(): string[] {
  const dir = templatesDir();
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'template.json')))
    .map((e) => e.name)
    .sort();
  // The default first: it is what `evidence init` writes.
  return [...names.filter((n) => n === DEFAULT_TEMPLATE), ...names.filter((n) => n !== DEFAULT_TEMPLATE)];
}

export function loadTemplate(name: string): Template | undefined {
  if (!templateNames().includes(name)) return undefined;
  return checkManifest(name, JSON.parse(readFileSync(join(templatesDir(), name, 'template.json'), 'utf8')));
}

/** The bytes a template file is written with. */
export function templateFileContent(file: TemplateFile): Buffer {
  const source = file.from.startsWith('package:') ? join(toolRoot(), file.from.slice('package:'.length)) : join(templatesDir(), file.from);
  const body = readFileSync(source);
  return file.prepend ? Buffer.concat([Buffer.from(file.prepend), body]) : body;
}
