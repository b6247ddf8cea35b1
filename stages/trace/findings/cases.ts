// A comparison as JUnit cases: one per key group, whose DIVERGENT/CRITICAL items beyond round-off
// are failures when the stage's `fail_on` counts them; items it does not count are kept as output.
import type { FindingCase } from '../../../src/stage-api/index.js';
import type { ComparedItem, Comparison, FailOn } from '../comparison.js';
import { failsOn } from './gate.js';
import { formatRel, formatValue, keyGroups } from './format.js';

const MAX_ITEMS_PER_CASE = 20;

function describe(items: ComparedItem[]): string {
  return (
    items
      .slice(0, MAX_ITEMS_PER_CASE)
      .map((i) => {
        const where = [i.refLine !== undefined && `reference line ${i.refLine}`, i.portLine !== undefined && `port line ${i.portLine}`].filter(Boolean).join(', ');
        const diag = (i.diagnoses ?? []).map((d) => `\n    ${d.message}`).join('');
        return `${i.status} ${i.name}: reference ${formatValue(i.reference)}, port ${formatValue(i.port)}, Δ rel ${formatRel(i.rel)}${where ? ` (${where})` : ''}${diag}`;
      })
      .join('\n') + (items.length > MAX_ITEMS_PER_CASE ? `\n… and ${items.length - MAX_ITEMS_PER_CASE} more` : '')
  );
}

export function comparisonCases(stage: string, c: Comparison, failOn: FailOn): FindingCase[] {
  const group = `evidence.compare.${stage}`;
  return keyGroups(c).map((g): FindingCase => {
    const offending = g.items.filter((i) => (i.status === 'DIVERGENT' || i.status === 'CRITICAL') && !i.roundOff);
    const failing = offending.filter((i) => failsOn(failOn, i.status));
    if (failing.length) {
      const first = failing[0]!;
      const message = `${failing.length} of ${g.count} item(s) ${failOn === 'critical' ? 'CRITICAL' : 'beyond tolerance'}; first ${first.name} (${first.status}, Δ rel ${formatRel(first.rel)})`;
      return { group, name: g.key, outcome: 'failed', message, type: first.status, text: describe(failing) };
    }
    if (offending.length || g.worst !== 'MATCH') {
      const note = offending.length ? describe(offending) : `${g.worst}: ${g.notMatch} item(s)`;
      return { group, name: g.key, outcome: 'passed', text: `fail_on: ${failOn}\n${note}` };
    }
    return { group, name: g.key, outcome: 'passed' };
  });
}
