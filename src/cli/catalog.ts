// The CLI's stage catalog: the built-in kinds and commands of stages/catalog.ts, with their code
// located in the installed tool (dist/stages). The one place in src/ that names the built-ins; the
// loader, the cache, the scheduler and the reporters are handed the catalog and know none of them.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinCommands, builtinKinds } from '../../stages/catalog.js';
import type { Findings, FindingsInput, StageCatalog, StageCommand, StageKind, StageModule } from '../stage-api/index.js';
import { toolRoot } from '../tool-root.js';
import { importModule } from '../import-module.js';

function stageModuleUrl(module: string): string {
  return pathToFileURL(join(toolRoot(), 'dist', 'stages', module)).href;
}

async function importStageFile<T>(module: string): Promise<T> {
  return importModule<T>(stageModuleUrl(module));
}

let builtin: StageCatalog | undefined;

export function builtinCatalog(): StageCatalog {
  if (builtin) return builtin;
  const kinds = new Map<string, StageKind>();
  for (const [name, k] of Object.entries(builtinKinds)) {
    const findingsModule = k.findingsModule;
    kinds.set(name, {
      version: k.version,
      inputSchema: k.inputSchema,
      inputPaths: k.inputPaths,
      outputPaths: k.outputPaths,
      appendedPaths: k.appendedPaths,
      gated: k.gated,
      describesPipeline: k.describesPipeline,
      load: async () => (await importStageFile<{ default: StageModule }>(k.module)).default,
      findings: findingsModule
        ? async (input: FindingsInput) => (await importStageFile<{ findings(i: FindingsInput): Promise<Findings> }>(findingsModule)).findings(input)
        : undefined,
    });
  }
  const commands: StageCommand[] = builtinCommands.map(({ module, export: name, ...c }) => ({
    ...c,
    run: async (args) => (await importStageFile<Record<string, StageCommand['run']>>(module))[name]!(args),
  }));
  return (builtin = { kinds, commands });
}

/**
 * The built-in kinds whose primary output is a page for a reader: `evidence watch --serve` shows
 * these stages' outputs first (and any stage's .html primary output only when none is watched).
 */
export const PAGE_KINDS: ReadonlySet<string> = new Set(['report']);
