// The built-in stage kinds as a catalog description: name → version, input schema, path fields and
// where the code lives; plus the one-off commands (`evidence parse`, `evidence compare`) and the
// findings reader of compare-traces. Importing this file must stay cheap (it is read on every run to
// fingerprint stages): nothing here loads a stage. The CLI turns it into a StageCatalog.
// Bump a version whenever that stage's output for the same inputs changes.
import type { StageCommand } from '../src/stage-api/index.js';

export interface BuiltinKind {
  version: string;
  /** Module path relative to stages/ (compiled .js). */
  module: string;
  /** Input schema file name in schemas/. */
  inputSchema: string;
  inputPaths?: readonly string[];
  outputPaths?: readonly string[];
  appendedPaths?: readonly string[];
  /** Module (relative to stages/) whose `findings` export reads what a settled stage found. */
  findingsModule?: string;
  gated?(withValue: Record<string, unknown>): boolean;
  /** Whether it writes down the pipeline itself: then every param and stage definition is its input. */
  describesPipeline?(withValue: Record<string, unknown>): boolean;
}

export type BuiltinCommand = Omit<StageCommand, 'run'> & {
  /** Module relative to stages/ and the export that runs the command. */
  module: string;
  export: string;
};

// summarize and write-notes take params and command lines from a snapshot when given one (a dep, so
// its bytes are their input); without one they read the pipeline itself, which must then be theirs.
const withoutSnapshot = (w: Record<string, unknown>) => w.snapshot === undefined;

export const builtinKinds: Record<string, BuiltinKind> = {
  'snapshot-config': {
    version: '3',
    module: 'snapshot-config.js',
    inputSchema: 'snapshot-config.input.schema.json',
    inputPaths: ['inputs'],
    outputPaths: ['output'],
    describesPipeline: () => true,
  },
  'parse-trace': { version: '1', module: 'parse-trace.js', inputSchema: 'parse-trace.input.schema.json', inputPaths: ['input'], outputPaths: ['output'] },
  'compare-traces': {
    version: '4', // 4: compact above 100,000 items
    module: 'compare-traces.js',
    inputSchema: 'compare-traces.input.schema.json',
    inputPaths: ['reference', 'port'],
    outputPaths: ['output'],
    findingsModule: 'trace/findings/read.js',
    gated: (w) => w.fail_on === 'divergent' || w.fail_on === 'critical',
  },
  summarize: {
    version: '4',
    module: 'summarize.js',
    inputSchema: 'summarize.input.schema.json',
    // report and chart are only linked from the summary, but as deps the summary is written after
    // them and never points at a file that is not there yet.
    inputPaths: ['comparison', 'snapshot', 'report', 'chart'],
    outputPaths: ['output'],
    describesPipeline: withoutSnapshot,
  },
  'write-notes': {
    version: '3',
    module: 'write-notes.js',
    inputSchema: 'write-notes.input.schema.json',
    inputPaths: ['comparison', 'snapshot'],
    outputPaths: ['notes'],
    appendedPaths: ['notes'],
    describesPipeline: withoutSnapshot,
  },
  'summarize-sweep': {
    // 2: a compact comparison's headline, worst Δ rel and per-key statuses read by position.
    version: '2',
    module: 'summarize-sweep.js',
    inputSchema: 'summarize-sweep.input.schema.json',
    inputPaths: ['comparisons'],
    outputPaths: ['output', 'markdown'],
    findingsModule: 'trace/sweep/findings.js',
  },
  // One kind for a comparison's report and a sweep's (stages/report.ts says why); output first, so
  // report.html is the stage's primary output (the served page finds it there).
  report: {
    // 3: the headline's components as points on a log axis of magnitudes when the sides are orders
    // apart (2 drew bars there, which a log axis cannot show).
    version: '3',
    module: 'report.js',
    inputSchema: 'report.input.schema.json',
    inputPaths: ['comparison', 'sweep', 'comparisons'],
    outputPaths: ['output', 'chart'],
  },
  // dir and notes are confined like any output path (the loader checks them as written; the stage
  // checks them again once {stage} is replaced).
  blocker: { version: '2', module: 'blocker.js', inputSchema: 'blocker.input.schema.json', outputPaths: ['dir', 'notes'] },
};

export const builtinCommands: BuiltinCommand[] = [
  {
    name: 'parse',
    synopsis: 'parse LOG',
    summary: 'parse a trace log and print its records',
    module: 'trace/commands.js',
    export: 'parseMain',
    options: { prefix: { type: 'string', multiple: true }, require: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    help: `Usage: evidence parse LOG [options]

Parses a trace log (the same code as the parse-trace stage) and prints its records.

Options:
      --prefix P         trace prefix to read (repeatable, e.g. TRACE_C, TRACE_C_PHI); default: every TRACE_* prefix
      --require KEY      fail when KEY is missing or holds a placeholder (repeatable)
      --json             print the trace JSON document
  -h, --help             this help
`,
  },
  {
    name: 'compare',
    synopsis: 'compare REF PORT',
    summary: 'compare two traces (logs or trace JSON) and print the findings and tables',
    module: 'trace/commands.js',
    export: 'compareMain',
    options: {
      tol: { type: 'string' },
      abs: { type: 'string' },
      'fail-on': { type: 'string' },
      alias: { type: 'string', multiple: true },
      ignore: { type: 'string', multiple: true },
      'match-by': { type: 'string' },
      'prefix-ref': { type: 'string', multiple: true },
      'prefix-port': { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    help: `Usage: evidence compare REF PORT [options]

Compares a reference trace with a port trace (raw logs or trace JSON; the same code as the
compare-traces stage) and prints the same summary as the summarize stage: the headline finding
and every finding beyond round-off with its diagnosis, a table of the divergent keys, the strict
first divergence, then the full table.

Options:
      --tol REL          relative tolerance (default 1e-6)
      --abs ABS          absolute tolerance (default 0)
      --fail-on WHEN     divergent, critical or never (default): exit 4 when an item beyond
                         round-off is DIVERGENT or CRITICAL (critical: CRITICAL only)
      --alias PORT=REF   the port's key PORT is the reference's key REF (repeatable)
      --ignore GLOB      keys to leave out (repeatable)
      --match-by FIELD   align key=value records by this field (e.g. phi_tic)
      --prefix-ref P     prefix(es) to read from REF (repeatable)
      --prefix-port P    prefix(es) to read from PORT (repeatable)
      --json             print the comparison JSON
  -h, --help             this help

Exit codes: 0 compared (whatever was found), 4 --fail-on met, 2 an input cannot be read.
`,
  },
];
