// The Markdown appended to GITHUB_STEP_SUMMARY: the run's verdict, a table of stages (result,
// cache status, duration), each compare stage's table of key groups that are not MATCH with its
// first divergence, and where the artifacts are (paths, and the run page when GitHub says which).
import type { Pipeline } from '../pipeline/model.js';
import type { StageRecord } from './ci-record.js';
import { firstDivergenceLine, formatRel, keyGroups, traceLogOf, type StageComparison } from './comparisons.js';

export interface SummaryInput {
  pipeline: Pipeline;
  status: 'success' | 'failed' | 'interrupted' | 'gate';
  durationMs: number;
  records: StageRecord[];
  comparisons: StageComparison[];
  /** Label → project-relative path. */
  reports: Record<string, string>;
  artifactCount: number;
  env: NodeJS.ProcessEnv;
}

const MAX_GROUP_ROWS = 50;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function tolText(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

function secs(ms: number | undefined): string {
  return ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`;
}

const RESULT: Record<StageRecord['outcome'], string> = {
  ran: '✅ ran',
  'up-to-date': '✅ up to date',
  restored: '♻️ restored',
  failed: '❌ failed',
  'not-run': '⏭️ not run',
};

const HEADLINE: Record<SummaryInput['status'], string> = {
  success: '✅ evidence: ok',
  failed: '❌ evidence: a stage failed',
  interrupted: '⚠️ evidence: interrupted',
  gate: '⛔ evidence: a compare gate (fail_on) was met',
};

export function stepSummaryMarkdown(s: SummaryInput): string {
  const lines: string[] = [];
  const n = (o: StageRecord['outcome']) => s.records.filter((r) => r.outcome === o).length;
  lines.push(`## ${HEADLINE[s.status]}`, '');
  lines.push(`${n('ran')} ran, ${n('restored')} restored, ${n('up-to-date')} up to date, ${n('failed')} failed, ${n('not-run')} not run in ${secs(s.durationMs)}.`, '');
  lines.push('| Stage | Result | Cache | Duration |', '| --- | --- | --- | --- |');
  for (const r of s.records) {
    const detail = r.outcome === 'failed' ? `: ${r.reason} (${(r.message ?? '').split('\n')[0]})` : r.outcome === 'not-run' ? `: ${r.reason ?? ''}` : '';
    const cache = { hit: 'hit', restored: 'restored', miss: 'miss', none: '—' }[r.cache];
    lines.push(`| \`${cell(r.stage)}\` | ${cell(RESULT[r.outcome] + detail)} | ${cache} | ${r.outcome === 'ran' || r.outcome === 'failed' ? secs(r.durationMs) : '—'} |`);
  }
  for (const sc of s.comparisons) {
    lines.push('');
    const c = sc.comparison;
    if (!c) {
      lines.push(`### Comparison \`${sc.stage}\``, '', `Could not read \`${sc.file}\`: ${sc.error ?? 'unknown error'}`);
      continue;
    }
    const stage = s.pipeline.stages.get(sc.stage)!;
    lines.push(`### Comparison \`${sc.stage}\`: ${c.verdict}${sc.gate ? ` ⛔ (fail_on: ${sc.failOn})` : ` (fail_on: ${sc.failOn})`}`, '');
    lines.push(
      `Reference \`${traceLogOf(s.pipeline, stage, c, 'reference')}\` (${c.reference.family}, ${c.reference.records} records) · port \`${traceLogOf(s.pipeline, stage, c, 'port')}\` (${c.port.family}, ${c.port.records} records) · rel tolerance ${tolText(c.options.tolerance.rel)}`,
      '',
    );
    const t = c.totals;
    lines.push(`**${cell(firstDivergenceLine(c))}**`, '', `${t.compared} compared: ${t.MATCH} match, ${t.MINOR} minor, ${t.DIVERGENT} divergent, ${t.CRITICAL} critical, ${t.MISSING} missing${t.ignored ? `, ${t.ignored} ignored` : ''}.`, '');
    const groups = keyGroups(c).filter((g) => g.worst !== 'MATCH');
    if (groups.length) {
      lines.push('| Key | Status | Items not matching | Worst Δ rel | First | Port line | Diagnosis |', '| --- | --- | --- | --- | --- | --- | --- |');
      for (const g of groups.slice(0, MAX_GROUP_ROWS)) {
        const bad = g.items.filter((i) => i.status !== 'MATCH');
        const worstRel = Math.max(...bad.map((i) => (i.rel !== null && Number.isFinite(i.rel) ? i.rel : -Infinity)));
        const first = bad.find((i) => i.status === g.worst) ?? bad[0]!;
        lines.push(
          `| \`${cell(g.key)}\` | ${g.worst} | ${bad.length} of ${g.items.length} | ${formatRel(Number.isFinite(worstRel) ? worstRel : null)} | \`${cell(first.name)}\` | ${first.portLine ?? '—'} | ${cell(first.diagnoses?.[0]?.message ?? '')} |`,
        );
      }
      if (groups.length > MAX_GROUP_ROWS) lines.push('', `… and ${groups.length - MAX_GROUP_ROWS} more key groups in \`${sc.file}\`.`);
    }
  }
  lines.push('', '### Artifacts', '');
  for (const [label, path] of Object.entries(s.reports)) lines.push(`- ${label}: \`${path}\``);
  const manifest = s.reports.Manifest;
  lines.push(`- ${s.artifactCount} stage artifact(s), listed with sha256 in the manifest; check a downloaded bundle with \`npx evidence verify${manifest && manifest !== 'reports/manifest.json' ? ` ${manifest}` : ''}\``);
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = s.env;
  if (server && repo && runId) lines.push(`- Download: [artifacts of this workflow run](${server}/${repo}/actions/runs/${runId}#artifacts)`);
  return lines.join('\n') + '\n';
}
