// Findings: what a settled stage found, in words every reporter understands. A stage kind's
// findings reader builds them from the stage's outs on disk (so an up-to-date or restored stage
// reports exactly as one that just ran); the terminal, watch and CI reporters (JUnit, step summary,
// annotations) and the run's gate render them without knowing what the stage does.

export interface Findings {
  /** The stage's verdict in its own words (MATCH, DIVERGENT, ...): shown, never interpreted. */
  verdict?: string;
  /** How reporters colour it: 'ok' nothing to look at, 'notice' worth a look, 'problem' a problem found. */
  severity: 'ok' | 'notice' | 'problem';
  /** Among findings of the same severity, the higher rank leads the run's verdict line (the verdict's place in the kind's own order). */
  rank?: number;
  /** One line for the terminal and watch mode. */
  headline: string;
  /** Set when the stage's own rule is met: the run then ends as 'gate' (exit 4). */
  gate?: FindingsGate;
  /** A JUnit test suite of its own. */
  suite?: FindingsSuite;
  /** CI annotations, each pointing at a file line where it can. */
  annotations?: FindingAnnotation[];
  /** A Markdown section (heading included) for the CI step summary. */
  summary?: string;
  /** Problems reading what the stage wrote: reported as warnings, never as findings. */
  warnings?: string[];
}

export interface FindingsGate {
  /** The rule as the user wrote it, e.g. `fail_on: divergent`. */
  rule: string;
  /** One line: what met it. */
  detail: string;
}

export interface FindingsSuite {
  name: string;
  cases: FindingCase[];
}

export interface FindingCase {
  /** JUnit classname. */
  group: string;
  name: string;
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  /** The failure's or error's one-line message. */
  message?: string;
  /** The failure's type attribute (e.g. the status that failed). */
  type?: string;
  /** Failure details, or output kept with a passed case. */
  text?: string;
}

export interface FindingAnnotation {
  level: 'error' | 'warning' | 'notice';
  /** Absolute, or relative to the project root. */
  file?: string;
  line?: number;
  col?: number;
  title?: string;
  message: string;
}
