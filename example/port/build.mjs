#!/usr/bin/env node
// Builds the example port: transpiles every example/port/*.ts to
// <outdir>/*.js (default build/port) with typescript's transpileModule, without
// type-checking, so that it is fast enough to run in a watch loop.
//
// Each output is written to a temporary name and renamed into place. A
// manifest in the outdir records the hash of each source it was built from:
// unchanged sources are skipped without even loading typescript, outputs of
// deleted sources are removed, and an output whose text would not change is
// left untouched (so watchers downstream see no change).
//
// Usage: node example/port/build.mjs [--outdir DIR]
// Exit codes: 0 built, 1 a source failed to transpile or a file could not be written, 2 bad arguments.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_VERSION = 1; // bump when the compiler options below change
const MANIFEST = '.build-manifest.json';
const sourceDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(sourceDir, '..', '..');

class UsageError extends Error {}

function parseOutdir(argv) {
  let outdir = join(repoRoot, 'build', 'port');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--outdir' || arg === '-outdir') {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} expects a directory`);
      outdir = resolve(argv[++i]);
    } else if (arg.startsWith('--outdir=')) {
      outdir = resolve(arg.slice('--outdir='.length));
    } else {
      throw new UsageError(`unknown argument '${arg}' (usage: build.mjs [--outdir DIR])`);
    }
  }
  return outdir;
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function writeAtomically(path, content) {
  if (readText(path) === content) return false;
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return true;
}

function typescriptVersion() {
  const require = createRequire(import.meta.url);
  return JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
}

async function build(outdir) {
  mkdirSync(outdir, { recursive: true });
  // the outputs are ES modules wherever the outdir is
  writeAtomically(join(outdir, 'package.json'), '{ "type": "module" }\n');

  const key = `${BUILD_VERSION}/${typescriptVersion()}`;
  let previous = {};
  try {
    const manifest = JSON.parse(readText(join(outdir, MANIFEST)) ?? '{}');
    if (manifest.key === key) previous = manifest.sources ?? {};
  } catch {
    previous = {};
  }

  const names = readdirSync(sourceDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .sort();
  const sources = {};
  const pending = [];
  for (const name of names) {
    const text = readFileSync(join(sourceDir, name), 'utf8');
    const hash = createHash('sha256').update(text).digest('hex');
    sources[name] = hash;
    const output = join(outdir, name.replace(/\.ts$/, '.js'));
    if (previous[name] !== hash || !existsSync(output)) pending.push({ name, text, output });
  }

  let written = 0;
  if (pending.length > 0) {
    const { default: ts } = await import('typescript');
    const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false };
    for (const { name, text, output } of pending) {
      const { outputText, diagnostics } = ts.transpileModule(text, {
        compilerOptions,
        fileName: name,
        reportDiagnostics: true,
      });
      const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length > 0) {
        const message = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
        throw new Error(`example/port/${name}: ${message}`);
      }
      if (writeAtomically(output, outputText)) written++;
    }
  }

  for (const name of Object.keys(previous)) {
    if (!(name in sources)) rmSync(join(outdir, name.replace(/\.ts$/, '.js')), { force: true });
  }
  writeAtomically(join(outdir, MANIFEST), JSON.stringify({ key, sources }, null, 2) + '\n');
  return { outdir, modules: names.length, written };
}

try {
  const { outdir, modules, written } = await build(parseOutdir(process.argv.slice(2)));
  process.stdout.write(`built ${modules} modules into ${outdir} (${written} written)\n`);
} catch (error) {
  process.stderr.write(`build.mjs: ${error.message}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
