// A comparison's section of the CI step summary: the verdict of what lies beyond round-off and the
// gate, the two sides, the headline finding and the list of findings, the totals and a table of the
// key groups that do not match.
import type { Comparison, FailOn } from '../comparison.js';
import { findingVerdictOf, formatRel, headlineLine, keyGroups } from './format.js';

const MAX_GROUP_ROWS = 50;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function tolText(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

export interface SectionInput {
  stage: string;
  /** Project-relative path of the comparison. */
  file: string;
  comparison: Comparison;
  failOn: FailOn;
  gate: boolean;
  /** Project-relative logs of the two sides. */
  referenceLog: string;
  portLog: string;
}

export function summarySection(s: SectionInput): string {
  const c = s.comparison;
  const lines: string[] = [];
  lines.push(`### Comparison \`${s.stage}\`: ${findingVerdictOf(c)}${s.gate ? ` ⛔ (fail_on: ${s.failOn})` : ` (fail_on: ${s.failOn})`}`, '');
  lines.push(
    `Reference \`${s.referenceLog}\` (${c.reference.family}, ${c.reference.records} records) · port \`${s.portLog}\` (${c.port.family}, ${c.port.records} records) · rel tolerance ${tolText(c.options.tolerance.rel)}`,
    '',
  );
  const t = c.totals;
  lines.push(`**${cell(headlineLine(c))}**`, '');
  const findings = c.findings ?? [];
  if (findings.length > 1) {
    lines.push(...findings.map((f, k) => `${k + 1}. \`${cell(f.name)}\` (${f.status})${f.diagnoses[0] ? `: ${cell(f.diagnoses[0].message)}` : ''}`), '');
  }
  lines.push(`${t.compared} compared: ${t.MATCH} match, ${t.MINOR} minor, ${t.DIVERGENT} divergent, ${t.CRITICAL} critical, ${t.MISSING} missing${t.ignored ? `, ${t.ignored} ignored` : ''}${t.roundOff ? `; ${t.roundOff} within round-off` : ''}.`, '');
  const groups = keyGroups(c).filter((g) => g.worst !== 'MATCH');
  if (groups.length) {
    lines.push('| Key | Status | Items not matching | Worst Δ rel | First | Port line | Diagnosis |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const g of groups.slice(0, MAX_GROUP_ROWS)) {
      const first = g.first;
      lines.push(
        `| \`${cell(g.key)}\` | ${g.worst} | ${g.notMatch} of ${g.count} | ${formatRel(g.worstRel)} | ${first ? `\`${cell(first.name)}\`` : '—'} | ${first?.portLine ?? '—'} | ${cell(first?.diagnoses?.[0]?.message ?? '')} |`,
      );
    }
    if (groups.length > MAX_GROUP_ROWS) lines.push('', `… and ${groups.length - MAX_GROUP_ROWS} more key groups in \`${s.file}\`.`);
  }
  return lines.join('\n');
}
