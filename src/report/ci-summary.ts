// The Markdown appended to GITHUB_STEP_SUMMARY: the run's verdict, a table of stages (result,
// cache status, duration), each stage's findings section (a comparison's first divergence and the
// key groups that do not match), and where the artifacts are (paths, and the run page when GitHub says which).
import type { StageRecord } from './ci-record.js';
import type { StageFindings } from '../run/findings.js';

export interface SummaryInput {
  status: 'success' | 'failed' | 'interrupted' | 'gate';
  durationMs: number;
  records: StageRecord[];
  findings: StageFindings[];
  /** Label → project-relative path. */
  reports: Record<string, string>;
  artifactCount: number;
  env: NodeJS.ProcessEnv;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
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
    const cache = { hit: 'hit', restored: 'restored', remote: 'remote', miss: 'miss', none: '—' }[r.cache];
    lines.push(`| \`${cell(r.stage)}\` | ${cell(RESULT[r.outcome] + detail)} | ${cache} | ${r.outcome === 'ran' || r.outcome === 'failed' ? secs(r.durationMs) : '—'} |`);
  }
  for (const { findings } of s.findings) if (findings.summary) lines.push('', findings.summary);
  lines.push('', '### Artifacts', '');
  for (const [label, path] of Object.entries(s.reports)) lines.push(`- ${label}: \`${path}\``);
  const manifest = s.reports.Manifest;
  lines.push(`- ${s.artifactCount} stage artifact(s), listed with sha256 in the manifest; check a downloaded bundle with \`npx evidence verify${manifest && manifest !== 'reports/manifest.json' ? ` ${manifest}` : ''}\``);
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = s.env;
  if (server && repo && runId) lines.push(`- Download: [artifacts of this workflow run](${server}/${repo}/actions/runs/${runId}#artifacts)`);
  return lines.join('\n') + '\n';
}
