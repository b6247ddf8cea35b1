// The text of `--help` for every verb. Kept apart so the verbs stay short.

export const VERBS = ['run', 'status', 'dag', 'validate', 'parse', 'compare', 'history', 'restore'];

const PIPELINE = `  -f, --file PATH        pipeline file (default: pipeline.yaml)\n`;

export const HELP: Record<string, string> = {
  main: `evidence — cached, reproducible pipelines of evidence artifacts for porting numerical code

Usage: evidence <command> [options]

Commands:
  run [STAGE...]          run the targets and everything upstream (default: all stages)
  status                  say, for every stage, whether it is up to date and why not
  dag                     print the stage graph (text, --mermaid or --dot)
  validate                check pipeline.yaml without running anything
  parse LOG               parse a trace log and print its records
  compare REF PORT        compare two traces (logs or trace JSON) and print the table
  history PATH            list the stored versions of an artifact
  restore PATH            bring back a stored version of an artifact

Options:
  -h, --help              help for evidence or for a command (evidence run --help)
  -V, --version           print the version

Exit codes: 0 success, 1 a stage failed, 2 invalid pipeline or usage,
            4 a compare gate (fail_on) was met, 130 interrupted.
`,
  run: `Usage: evidence run [STAGE...] [options]

Runs the named stages and everything upstream of them (default: every stage). A stage whose
inputs are unchanged is skipped; one whose inputs match an earlier run is restored from the cache.

Options:
${PIPELINE}  -j, --jobs N           stages run at once (default: number of CPUs)
  -k, --keep-going       after a failure, still run everything that does not depend on it
  -n, --dry-run          say what would run, run nothing
      --force [STAGE]    re-run regardless of the cache: every stage, or STAGE (repeatable)
  -p, --param NAME=VALUE override a param for this run (repeatable; VALUE is YAML: 1e-5, [1, 2])
      --json             print run events as JSON lines
      --ci               CI output: plain lines with timestamps (automatic when CI=true)
  -v, --verbose          also print each stage's command line
      --grace SECONDS    on interrupt or timeout, wait this long after SIGTERM before SIGKILL (default 5)
      --wait             if another run holds the project, wait for it instead of stopping
  -h, --help             this help

Exit codes: 0 success, 1 a stage failed, 2 invalid pipeline or usage, 4 gate met, 130 interrupted.
`,
  status: `Usage: evidence status [options]

For every stage: up to date, would run or would restore, and why (which dep, param, env value,
command or upstream out changed; which out is missing or modified). Runs nothing.

Options:
${PIPELINE}  -p, --param NAME=VALUE judge as if this param were overridden (repeatable)
      --json             machine-readable output
      --check            exit 1 when any stage is not up to date (a CI gate for committed evidence)
  -h, --help             this help
`,
  dag: `Usage: evidence dag [options]

Prints the stage graph: each stage with the stages it depends on and why (file or needs).

Options:
${PIPELINE}      --mermaid          Mermaid flowchart
      --dot              Graphviz dot
  -h, --help             this help
`,
  validate: `Usage: evidence validate [options]

Checks pipeline.yaml (syntax, schema, stage kinds and inputs, params, outs, cycles) without running
anything. Exit 0 when valid, 2 with file:line:column diagnostics otherwise.

Options:
${PIPELINE}  -p, --param NAME=VALUE validate with this param override (repeatable)
  -h, --help             this help
`,
  parse: `Usage: evidence parse LOG [options]

Parses a trace log (the same code as the parse-trace stage) and prints its records.

Options:
      --prefix P         trace prefix to read (repeatable, e.g. TRACE_C, TRACE_C_PHI); default: every TRACE_* prefix
      --require KEY      fail when KEY is missing or holds a placeholder (repeatable)
      --json             print the trace JSON document
  -h, --help             this help
`,
  compare: `Usage: evidence compare REF PORT [options]

Compares a reference trace with a port trace (raw logs or trace JSON; the same code as the
compare-traces stage) and prints the table with the first divergence and its diagnosis.

Options:
      --tol REL          relative tolerance (default 1e-6)
      --alias PORT=REF   the port's key PORT is the reference's key REF (repeatable)
      --ignore GLOB      keys to leave out (repeatable)
      --match-by FIELD   align key=value records by this field (e.g. phi_tic)
      --prefix-ref P     prefix(es) to read from REF (repeatable)
      --prefix-port P    prefix(es) to read from PORT (repeatable)
      --json             print the comparison JSON
  -h, --help             this help
`,
  history: `Usage: evidence history PATH [options]

Lists the versions of an artifact that the object store keeps: run id, time, sha256, size and
the stage that produced (or archived) it.

Options:
${PIPELINE}      --json             machine-readable output
  -h, --help             this help
`,
  restore: `Usage: evidence restore PATH [--run ID]

Writes a stored version of PATH back into the project: the newest one, or the one recorded in
run ID (see evidence history PATH). The current content is archived first.

Options:
${PIPELINE}      --run ID           the run whose version to restore
  -h, --help             this help
`,
};
