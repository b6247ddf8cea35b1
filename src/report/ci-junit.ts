// JUnit XML for CI test reporters: one testsuite of stages (one testcase each: a failure carries
// the reason and the stderr tail, a stage that did not run is skipped), and one testsuite per stage
// whose findings bring one (a comparison's key groups, say). The format follows the de-facto schema that Jenkins, GitLab,
// GitHub test-reporter actions and Azure read (testsuites > testsuite > testcase > failure|skipped).
import type { StageRecord } from './ci-record.js';
import type { FindingCase } from '../stage-api/index.js';
import type { StageFindings } from '../run/findings.js';

export interface JunitInput {
  /** Shown as the testsuites name, e.g. the pipeline file. */
  name: string;
  timestamp: number;
  durationMs: number;
  records: StageRecord[];
  /** Stage → full stderr tail of its failure, when longer than the event's tail. */
  stderr: Map<string, string>;
  findings: StageFindings[];
}
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
  error?: boolean;
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

function suite(name: string, timestamp: number, cases: Case[]): string {
  const failures = cases.filter((c) => c.failed).length;
  const errors = cases.filter((c) => c.error).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const time = cases.reduce((a, c) => a + c.ms, 0);
  const head = `  <testsuite${attrs({ name, tests: cases.length, failures, errors, skipped, time: seconds(time), timestamp: new Date(timestamp).toISOString().replace(/\.\d+Z$/, '') })}>`;
  return [head, ...cases.map((c) => c.xml), '  </testsuite>'].join('\n');
}

function findingCase(f: FindingCase): Case {
  const head = `    <testcase${attrs({ classname: f.group, name: f.name, time: '0.000' })}`;
  const text = f.text ?? '';
  switch (f.outcome) {
    case 'failed':
      return { xml: `${head}>\n      <failure${attrs({ message: f.message, type: f.type })}>${xmlEscape(text)}</failure>\n    </testcase>`, failed: true, skipped: false, ms: 0 };
    case 'error':
      return { xml: `${head}>\n      <error${attrs({ message: f.message })}/>\n    </testcase>`, failed: false, error: true, skipped: false, ms: 0 };
    case 'skipped':
      return { xml: `${head}>\n      <skipped${attrs({ message: f.message })}/>\n    </testcase>`, failed: false, skipped: true, ms: 0 };
    default:
      return { xml: text ? `${head}>\n      <system-out>${xmlEscape(text)}</system-out>\n    </testcase>` : `${head}/>`, failed: false, skipped: false, ms: 0 };
  }
}

export function junitXml(input: JunitInput): string {
  const stageCases = input.records.map((r) => stageCase(r, input.stderr.get(r.stage)));
  const suites = [suite('evidence stages', input.timestamp, stageCases)];
  const all = [...stageCases];
  for (const { findings } of input.findings) {
    if (!findings.suite) continue;
    // Errors first: a suite that could not be read says so before anything else.
    const cases = [...findings.suite.cases.filter((c) => c.outcome === 'error'), ...findings.suite.cases.filter((c) => c.outcome !== 'error')].map(findingCase);
    suites.push(suite(findings.suite.name, input.timestamp, cases));
    all.push(...cases);
  }
  const count = (f: (c: Case) => boolean | undefined) => all.filter(f).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name: input.name, tests: all.length, failures: count((c) => c.failed), errors: count((c) => c.error), skipped: count((c) => c.skipped), time: seconds(input.durationMs) })}>\n${suites.join('\n')}\n</testsuites>\n`;
}
