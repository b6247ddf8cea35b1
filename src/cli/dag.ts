// `evidence dag` and `evidence validate`.
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';
import { EXIT } from './exit-codes.js';
import { openProject, parseParamOverride } from './project.js';

function mermaidId(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export async function dagVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const opened = await openProject(inv.values.file as string, [], catalog);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    return EXIT.usage;
  }
  const { graph: full, pipeline } = opened.project;
  // `dag STAGE...`: those stages (globs, instances) and what they depend on.
  const { selectStages } = await import('../pipeline/select.js');
  const { selectUpstream } = await import('../graph/dag.js');
  const selected = selectStages(pipeline, inv.positionals);
  if (!selected.ok) {
    process.stderr.write(`evidence dag: ${selected.message}\n`);
    return EXIT.usage;
  }
  const graph = inv.positionals.length ? { ...full, order: selectUpstream(full, selected.stages) } : full;
  const lines: string[] = [];
  if (inv.values.mermaid) {
    lines.push('flowchart TD');
    for (const s of graph.order) lines.push(`  ${mermaidId(s)}["${s}"]`);
    for (const s of graph.order) {
      for (const e of graph.upstream.get(s)!) lines.push(`  ${mermaidId(e.from)} -->${e.via === 'needs' ? '|needs|' : `|${e.via.replace(/[|"]/g, '')}|`} ${mermaidId(s)}`);
    }
  } else if (inv.values.dot) {
    lines.push('digraph evidence {', '  rankdir=LR;');
    for (const s of graph.order) lines.push(`  ${JSON.stringify(s)};`);
    for (const s of graph.order) {
      for (const e of graph.upstream.get(s)!) lines.push(`  ${JSON.stringify(e.from)} -> ${JSON.stringify(s)} [label=${JSON.stringify(e.via)}${e.via === 'needs' ? ', style=dashed' : ''}];`);
    }
    lines.push('}');
  } else {
    for (const s of graph.order) {
      const ups = graph.upstream.get(s)!;
      lines.push(ups.length ? `${s} ← ${ups.map((e) => `${e.from} (${e.via})`).join(', ')}` : s);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

export async function validateVerb(inv: Invocation, catalog: StageCatalog): Promise<number> {
  const overrides = ((inv.values.param as string[] | undefined) ?? []).map(parseParamOverride);
  const opened = await openProject(inv.values.file as string, overrides, catalog);
  if (!opened.ok) {
    process.stderr.write(opened.text + '\n');
    return EXIT.usage;
  }
  const { pipeline } = opened.project;
  const { undeclaredReads } = await import('../pipeline/undeclared-reads.js');
  const { renderDiagnostics } = await import('../pipeline/diagnostics.js');
  const warnings = undeclaredReads(pipeline, catalog, inv.values.file as string);
  if (warnings.length) process.stderr.write(renderDiagnostics(warnings, new Map([[inv.values.file as string, pipeline.source]])) + '\n');
  const warned = warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : '';
  process.stdout.write(`${inv.values.file}: valid (${pipeline.stages.size} stages${warned})\n`);
  return EXIT.ok;
}
