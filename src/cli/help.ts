// The text of `--help` for every verb. Kept apart so the verbs stay short.

import type { StageCommand } from '../stage-api/index.js';

/** The core's verbs; a stage catalog adds its own commands (parse, compare, ...). */
export const VERBS = ['run', 'status', 'dag', 'validate', 'history', 'restore', 'gc', 'watch', 'verify', 'show', 'init', 'push', 'pull'];

const PIPELINE = `  -f, --file PATH        the pipeline file; its folder is the project root (default: pipeline.yaml
                         in the current folder or the nearest folder above it)
  -C, --directory DIR    run as if started in DIR (relative paths then start there too)
`;

const HELP: Record<string, string> = {
  main: `evidence — cached, reproducible pipelines of evidence artifacts for porting numerical code

Usage: evidence <command> [options]

Commands:
  run [STAGE...]          run the targets and everything upstream (default: all stages)
  status                  say, for every stage, whether it is up to date and why not
  show [STAGE...]         print what the comparisons found, from their artifacts; runs nothing
  dag                     print the stage graph (text, --mermaid or --dot)
  validate                check pipeline.yaml without running anything
__COMMANDS__  history PATH            list the stored versions of an artifact
  restore PATH            bring back a stored version of an artifact
  gc                      trim the local cache (.evidence/cache), keeping what evidence.lock names
  watch [STAGE...]        run, then re-run what each saved change makes out of date
  verify [MANIFEST]       check a downloaded evidence bundle against its manifest
  init                    write a starting pipeline.yaml, a reference program and its port
  push                    upload what evidence.lock references to the remote cache
  pull                    download what evidence.lock references from the remote cache

Options:
  -h, --help              help for evidence or for a command (evidence run --help)
  -V, --version           print the version
  -C DIR                  run as if started in DIR (before or after the command)

The pipeline file is pipeline.yaml in the current folder or the nearest folder above it (as git
finds .git), or the one --file names; its folder is the project root, where stages run.

Exit codes: 0 success, 1 a stage failed, 2 invalid pipeline or usage,
            4 a gate (a stage's fail_on) was met, 130 interrupted.
`,
  run: `Usage: evidence run [STAGE...] [options]

Runs the named stages and everything upstream of them (default: every stage). A stage whose
inputs are unchanged is skipped; one whose inputs match an earlier run is restored from the cache.
A STAGE may be a matrix stage (all its instances), a glob ('compare@*') or axis values
(compare@config=ortho-beam); -p AXIS=VALUE narrows a matrix axis.

Options:
${PIPELINE}  -j, --jobs N           stages run at once (default: number of CPUs)
  -k, --keep-going       after a failure, still run everything that does not depend on it
  -n, --dry-run          say what would run, run nothing
      --force [STAGE]    re-run regardless of the cache: every stage, or STAGE (repeatable)
  -p, --param NAME=VALUE override a param for this run (repeatable; VALUE is YAML: 1e-5, [1, 2])
      --json             print run events as JSON lines (with -v, also stage-output events)
      --ci               CI mode (automatic when CI=true): plain lines with timestamps; writes
                         reports/junit.xml and reports/manifest.json (pipeline.yaml reports:
                         { dir, junit, manifest }), appends to $GITHUB_STEP_SUMMARY when set and
                         prints ::error annotations when GITHUB_ACTIONS=true
  -v, --verbose          also print each stage's command line, where its full log is kept, and its
                         output as it comes, line by line, prefixed with its name (| stdout, ! stderr)
  -q, --quiet            print only failures and the closing line (with the verdict)
      --grace SECONDS    on interrupt or timeout, wait this long after SIGTERM before SIGKILL (default 5)
      --wait             if another run holds the project, wait for it instead of stopping
      --shard I/N        run share I of N of the matrix instances (a CI matrix job): items (one
                         configuration's instances through its chain) are dealt round-robin over
                         their sorted names; stages that gather every instance are left to a run
                         without --shard, which then restores the shards' work from the cache
  -h, --help             this help

On a terminal, the stages running now stay at the bottom with their elapsed time (not with
TERM=dumb, --ci or -q). A failed stage's message names the files holding its full output.

When a stage fails and pipeline.yaml declares a blocker, it records the failure (attempt_failed.log,
<stage>_blocker.patch, blocker.json, a notes.md section) in the stage's report folder.

Exit codes: 0 success, 1 a stage failed (or another run holds the project), 2 invalid pipeline or
usage, 4 gate met, 130 interrupted (Ctrl-C or SIGTERM).
`,
  status: `Usage: evidence status [STAGE...] [options]

For every stage: up to date, would run or would restore, and why (which dep, param, env value,
command or upstream out changed; which out is missing or modified). Runs nothing. STAGE names
stages as run does (globs, instances); then only those are shown. Ends with each param declared
with choices, its value and the values it may take.

Options:
${PIPELINE}  -p, --param NAME=VALUE judge as if this param were overridden (repeatable)
      --json             machine-readable output
      --check            exit 1 when any stage is not up to date (a CI gate for committed evidence)
  -h, --help             this help
`,
  show: `Usage: evidence show [STAGE...] [options]

Prints what the stages found, as their artifacts say now, without running anything: for each
stage whose kind reports findings (a comparison) and whose artifact exists, its verdict, headline
and each finding; whether the artifact is stale (its inputs changed since it was made, with the
reasons evidence status gives) or missing. Default: every such stage.

Options:
${PIPELINE}  -p, --param NAME=VALUE judge staleness as if this param were overridden (repeatable)
      --json             machine-readable output (the findings in full)
  -h, --help             this help
`,
  dag: `Usage: evidence dag [STAGE...] [options]

Prints the stage graph: each stage with the stages it depends on and why (file or needs); with
STAGE (names, globs, instances as run takes them), only those and what they depend on.

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
  history: `Usage: evidence history PATH [options]

Lists the versions of an artifact that the object store keeps: run id, time, sha256, size, the
stage that produced (or archived) it, and the params of the run that made it (an archived version
is what the file held before that run: its params are not known).

Options:
${PIPELINE}      --json             machine-readable output
  -h, --help             this help
`,
  restore: `Usage: evidence restore PATH [--run ID]

Writes a stored version of PATH back into the project: the newest one that differs from its
current content, or that among the versions recorded in run ID (see evidence history PATH). Right
after a run overwrote a hand-written file, that is the original. The current content is archived first.

Options:
${PIPELINE}      --run ID           the run whose version to restore
  -h, --help             this help
`,
  gc: `Usage: evidence gc [--keep-last N] [--max-size SIZE] [options]

Removes from the local cache (.evidence/cache: stored objects and run records) what no longer
needs to be there. Never removed: what evidence.lock (and the journal of a run that has not folded
it in yet) names, so that every stage of the lock can still be restored.

  --keep-last N   also keeps what the last N runs made or used: the outs they produced or restored,
                  the versions they archived (see evidence history) and the run records they wrote
                  or restored from. A run is each evidence run, and each watch cycle or
                  evidence restore that stored a version. 0 keeps only what evidence.lock
                  names. Default: 5 unless --max-size is given alone.
  --max-size SIZE then removes the least recently used of the rest until the cache takes at most
                  SIZE (500M, 2G, or bytes; K, M, G, T count by 1024). What evidence.lock names
                  stays even when it alone is larger (gc says so).

A run record goes before the objects it names, and a record naming a removed object goes too: a
run or status never finds a record whose content is gone. History lines of removed versions go.
gc takes the project's run lock: while a run holds it, gc refuses (exit 1), or waits with --wait
(at most 10 minutes). pipeline.yaml can bound the cache after every run: cache: { max_size: 2G,
keep_last: 10 }.

Options:
${PIPELINE}      --keep-last N      keep what the last N runs made or used (default 5)
      --max-size SIZE    evict the least recently used until the cache fits in SIZE
  -n, --dry-run          say what would be freed, delete nothing
      --wait             wait (at most 10 minutes) for a run that holds the project
      --json             machine-readable output (counts and bytes freed and kept)
  -h, --help             this help

Exit codes: 0 done, 1 another run holds the project, 2 usage.
`,
  watch: `Usage: evidence watch [STAGE...] [options]

Runs the targets (default: every stage) once, then watches the deps of every stage they need and
pipeline.yaml itself, and on each saved change re-runs what the change makes out of date (the
normal caching rules decide; an edit that restores earlier content restores outs from the cache).
The outs of any stage and .evidence/ never trigger a run. Changes that arrive while a run is in
progress cause exactly one follow-up run once it ends (they are queued, not cancelling it). A
stage that failed is not retried until one of its inputs changes. An invalid pipeline.yaml is
reported and the last valid one stays in use. After each cycle: what ran, was restored or failed,
and each stage's findings (a comparison's first divergence). Ctrl-C stops (running stages end as in run); exit 130.

Options:
${PIPELINE}  -j, --jobs N           stages run at once (default: number of CPUs)
  -k, --keep-going       after a failure, still run everything that does not depend on it
  -p, --param NAME=VALUE override a param (repeatable)
      --debounce MS      quiet time that ends a burst of saves before a run starts (default 40)
      --grace SECONDS    on Ctrl-C, wait this long after SIGTERM before SIGKILL (default 5)
      --json             print run and watch events as JSON lines
  -v, --verbose          also print each stage's command line and its output as it comes
      --serve            show the report on a local web page that reloads after each cycle
                         that changes it: the primary output of the watched report stages
                         (uses: report), else any watched stage's .html primary output;
                         an index when there are several. Serves only the pipeline's outs
      --serve-stage NAME serve this stage's primary output instead (repeatable; implies --serve)
      --port N           the page's port (default 4178; 0 picks a free one). A port in use
                         is refused (exit 2) before anything runs
      --host ADDRESS     the address to listen on (default 127.0.0.1, this machine only)
  -h, --help             this help
`,
  verify: `Usage: evidence verify [MANIFEST] [options]

Checks a bundle (the reports folder and artifacts of a run, e.g. downloaded from CI) against its
manifest (default: the pipeline's reports.manifest, else reports/manifest.json): every artifact
present with the recorded size and sha256. The bundle root is found from the manifest's recorded path, or given with --root.
Exit 0 when every artifact matches, 1 naming each file that is missing or differs, 2 when the
manifest cannot be read.

Options:
${PIPELINE}      --root DIR         the folder the manifest's paths are relative to
      --json             machine-readable output
  -h, --help             this help
`,
  push: `Usage: evidence push [options]

Uploads to the remote cache (pipeline.yaml remote: { url }, or EVIDENCE_REMOTE_URL) the run record
of every stage evidence.lock lists, with the objects it names: each object the server lacks
first, the record last, so that nobody ever sees a record whose content is not there yet. A
stage whose record is not in the local cache (an out with cache: false) is named and skipped.
The bearer token, if any, is read from the variable remote.token_env names (default
EVIDENCE_REMOTE_TOKEN) and is never printed.
Exit 0 when done, 1 when the server failed (down, slow, refused the token) or a local object is
corrupt, 2 when there is no remote or the pipeline is invalid.

Options:
${PIPELINE}  -h, --help             this help
`,
  pull: `Usage: evidence pull [options]

Downloads from the remote cache the run record of every stage evidence.lock lists, with its
objects, into the local cache (.evidence/cache); the next evidence run restores them into the
project instead of running the stages. Every object is checked against its sha256 and every record
against its checksum before it is kept; a record whose objects the server lacks is not kept.
evidence run does the same by itself for each stage it would otherwise run.
Exit 0 when done (stages the remote does not have are named), 1 when the server failed, 2 when
there is no remote or the pipeline is invalid.

Options:
${PIPELINE}  -h, --help             this help
`,
  init: `Usage: evidence init [--template NAME] [--force]

Writes a starting point into the current folder: a pipeline.yaml (snapshot, build, trace both
programs, parse both traces, compare, summarize, notes, and a blocker for failures), a tiny
reference program and its port that trace the same keys through their trace helpers, and
.evidence/ and build/ in .gitignore (appended, never duplicated). evidence run then works at once:
every key matches. Replace the two programs with yours, keeping the helpers.

Templates:
  c-ts        a C reference and its JavaScript/TypeScript port (the default)
  c-python    a C reference and its Python port (NumPy or PyTorch)
  c-cpp       a C reference and its C++ port

It asks nothing: without --template it writes the default. A file that exists already is never
overwritten without --force: init then names every such file, writes nothing and exits 2.

Options:
  -t, --template NAME    the template (default: c-ts)
      --list             list the templates
      --force            overwrite files the template writes that exist already
  -C, --directory DIR    write into DIR instead of the current folder
  -h, --help             this help
`,
};

/** The `--help` text of a core verb, or of `main` with the catalog's commands listed among the verbs. */
export function helpFor(verb: string, commands: readonly StageCommand[]): string | undefined {
  if (verb === 'main') return HELP.main!.replace('__COMMANDS__', commands.map((c) => `  ${c.synopsis.padEnd(22)}  ${c.summary}\n`).join(''));
  return HELP[verb] ?? commands.find((c) => c.name === verb)?.help;
}
