// JUnit XML for CI test reporters: one testsuite of stages (one testcase each: a failure carries
// the reason and the stderr tail, a stage that did not run is skipped), and one testsuite per
// compare stage with a testcase per key group, whose DIVERGENT/CRITICAL items are failures when the
// stage's `fail_on` counts them. The format follows the de-facto schema that Jenkins, GitLab,
// GitHub test-reporter actions and Azure read (testsuites > testsuite > testcase > failure|skipped).
import type { StageRecord } from './ci-record.js';
import { failsOn, formatRel, formatValue, keyGroups, type StageComparison } from './comparisons.js';

export interface JunitInput {
  /** Shown as the testsuites name, e.g. the pipeline file. */
  name: string;
  timestamp: number;
  durationMs: number;
  records: StageRecord[];
  /** Stage → full stderr tail of its failure, when longer than the event's tail. */
  stderr: Map<string, string>;
  comparisons: StageComparison[];
}

const MAX_ITEMS_PER_CASE = 20;
const STDERR_LINES = 50;

// XML 1.0 allows tab, LF, CR and everything from U+0020 (minus surrogates and FFFE/FFFF): a
// stage's stderr often holds ANSI escapes, which would make the whole file unreadable.
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(ANSI, '')
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function lastLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

interface Case {
  xml: string;
  failed: boolean;
  skipped: boolean;
  ms: number;
}

function stageCase(r: StageRecord, stderr: string | undefined): Case {
  const head = `    <testcase${attrs({ classname: 'evidence.stages', name: r.stage, time: seconds(r.durationMs) })}`;
  switch (r.outcome) {
    case 'failed': {
      const message = `${r.reason}: ${(r.message ?? '').split('\n')[0]}`;
      const tail = lastLines(stderr ?? r.stderrTail ?? '', STDERR_LINES);
      const body = `${r.message ?? ''}${tail ? `\n--- stderr (last ${STDERR_LINES} lines) ---\n${tail}` : ''}`;
      return { xml: `${head}>\n      <failure${attrs({ message, type: r.reason })}>${xmlEscape(body)}</failure>\n    </testcase>`, failed: true, skipped: false, ms: r.durationMs ?? 0 };
    }
    case 'not-run':
      return { xml: `${head}>\n      <skipped${attrs({ message: `not run: ${r.reason ?? ''}` })}/>\n    </testcase>`, failed: false, skipped: true, ms: 0 };
    case 'up-to-date':
      return { xml: `${head}>\n      <system-out>up to date (inputs unchanged)</system-out>\n    </testcase>`, failed: false, skipped: false, ms: 0 };
    case 'restored':
      return { xml: `${head}>\n      <system-out>restored from cache</system-out>\n    </testcase>`, failed: false, skipped: false, ms: 0 };
    default:
      return { xml: `${head}/>`, failed: false, skipped: false, ms: r.durationMs ?? 0 };
  }
}

function suite(name: string, timestamp: number, cases: Case[], error?: string): string {
  const failures = cases.filter((c) => c.failed).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const time = cases.reduce((a, c) => a + c.ms, 0);
  const head = `  <testsuite${attrs({ name, tests: cases.length, failures, errors: error ? 1 : 0, skipped, time: seconds(time), timestamp: new Date(timestamp).toISOString().replace(/\.\d+Z$/, '') })}>`;
  const errorXml = error ? [`    <testcase${attrs({ classname: name, name: 'comparison', time: '0.000' })}>\n      <error${attrs({ message: error })}/>\n    </testcase>`] : [];
  return [head, ...errorXml, ...cases.map((c) => c.xml), '  </testsuite>'].join('\n');
}

function compareCases(sc: StageComparison): Case[] {
  const c = sc.comparison!;
  return keyGroups(c).map((g) => {
    const head = `    <testcase${attrs({ classname: `evidence.compare.${sc.stage}`, name: g.key, time: '0.000' })}`;
    const offending = g.items.filter((i) => i.status === 'DIVERGENT' || i.status === 'CRITICAL');
    const failing = offending.filter((i) => failsOn(sc.failOn, i.status));
    const describe = (items: typeof offending) =>
      items
        .slice(0, MAX_ITEMS_PER_CASE)
        .map((i) => {
          const where = [i.refLine !== undefined && `reference line ${i.refLine}`, i.portLine !== undefined && `port line ${i.portLine}`].filter(Boolean).join(', ');
          const diag = (i.diagnoses ?? []).map((d) => `\n    ${d.message}`).join('');
          return `${i.status} ${i.name}: reference ${formatValue(i.reference)}, port ${formatValue(i.port)}, Δ rel ${formatRel(i.rel)}${where ? ` (${where})` : ''}${diag}`;
        })
        .join('\n') + (items.length > MAX_ITEMS_PER_CASE ? `\n… and ${items.length - MAX_ITEMS_PER_CASE} more` : '');
    if (failing.length) {
      const first = failing[0]!;
      const message = `${failing.length} of ${g.items.length} item(s) ${sc.failOn === 'critical' ? 'CRITICAL' : 'beyond tolerance'}; first ${first.name} (${first.status}, Δ rel ${formatRel(first.rel)})`;
      return { xml: `${head}>\n      <failure${attrs({ message, type: first.status })}>${xmlEscape(describe(failing))}</failure>\n    </testcase>`, failed: true, skipped: false, ms: 0 };
    }
    if (offending.length || g.worst !== 'MATCH') {
      // Reported, not judged: fail_on does not count these.
      const note = offending.length ? describe(offending) : `${g.worst}: ${g.items.filter((i) => i.status !== 'MATCH').length} item(s)`;
      return { xml: `${head}>\n      <system-out>${xmlEscape(`fail_on: ${sc.failOn}\n${note}`)}</system-out>\n    </testcase>`, failed: false, skipped: false, ms: 0 };
    }
    return { xml: `${head}/>`, failed: false, skipped: false, ms: 0 };
  });
}

export function junitXml(input: JunitInput): string {
  const stageCases = input.records.map((r) => stageCase(r, input.stderr.get(r.stage)));
  const suites = [suite('evidence stages', input.timestamp, stageCases)];
  let tests = stageCases.length;
  let failures = stageCases.filter((c) => c.failed).length;
  let skipped = stageCases.filter((c) => c.skipped).length;
  let errors = 0;
  for (const sc of input.comparisons) {
    const cases = sc.comparison ? compareCases(sc) : [];
    suites.push(suite(`compare ${sc.stage}`, input.timestamp, cases, sc.error ? `cannot read ${sc.file || 'the comparison'}: ${sc.error}` : undefined));
    tests += cases.length + (sc.error ? 1 : 0);
    failures += cases.filter((c) => c.failed).length;
    skipped += cases.filter((c) => c.skipped).length;
    errors += sc.error ? 1 : 0;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name: input.name, tests, failures, errors, skipped, time: seconds(input.durationMs) })}>\n${suites.join('\n')}\n</testsuites>\n`;
}
