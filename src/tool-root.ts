// Where the tool itself is installed (the folder of its package.json), found by walking up from
// this module: the same answer from the compiled modules, the bundled CLI and the TypeScript
// sources under test. Stage modules, schemas and precompiled validators are located from here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function toolRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'schemas'))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot locate the installation folder of evidence (package.json next to schemas/)');
}

export function toolVersion(): string {
  return (JSON.parse(readFileSync(join(toolRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
