// sweep.md: the sweep as a person reads it. First the groups ("3 of 5 configurations first diverge
// at pix0_vector_meters: unit factor 1e3"), then one row per instance (verdict, headline finding and
// diagnosis, worst Δ rel beyond round-off, a link to its summary), then which keys diverge where.
import { headlineText, labelOf, linkFrom, relText, type Sweep } from './collect.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function sweepTable(sweep: Sweep, markdownFile: string): string {
  const rows = ['| instance | verdict | headline finding | worst Δ rel | summary |', '| --- | --- | --- | --- | --- |'];
  for (const i of sweep.instances) {
    const head = i.headline ? `${i.headline.key} (${i.headline.status}): ${i.headline.diagnosis ?? 'no known pattern fits'}` : '—';
    const link = i.summary ? `[summary](${linkFrom(markdownFile, i.summary)})` : `[comparison](${linkFrom(markdownFile, i.comparison)})`;
    rows.push(`| ${cell(labelOf(i.stage))} | ${i.verdict} | ${cell(head)} | ${relText(i.worstRel)} | ${link} |`);
  }
  return rows.join('\n');
}

export function groupLines(sweep: Sweep): string[] {
  const n = sweep.instances.length;
  return sweep.groups.map((g) => {
    const first = sweep.instances.find((i) => i.stage === g.instances[0])!;
    const which = g.instances.length === n ? 'all' : g.instances.map(labelOf).join(', ');
    const what = first.headline ? `first diverge at ${headlineText(first)}` : headlineText(first);
    return `- **${g.instances.length} of ${n}** (${which}): ${what}`;
  });
}

export function renderSweep(sweep: Sweep, markdownFile: string, title: string): string {
  const out = [`# ${title}`, '', ...groupLines(sweep), '', sweepTable(sweep, markdownFile), ''];
  if (sweep.keys.length) {
    const names = sweep.instances.map((i) => i.stage);
    out.push('## Keys beyond round-off, by instance', '');
    out.push(`| key | ${names.map((s) => cell(labelOf(s))).join(' | ')} |`, `| --- |${names.map(() => ' --- |').join('')}`);
    for (const k of sweep.keys) out.push(`| ${cell(k.key)} | ${names.map((s) => k.statuses[s] ?? '—').join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
