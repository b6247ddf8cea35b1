// The built-in stage kinds: name → version and module. Importing this file must stay cheap (it is
// read on every run to fingerprint stages); the stage modules themselves load only when they run.
// Bump a version whenever that stage's output for the same inputs changes.

export interface BuiltinStage {
  version: string;
  /** Module path relative to this file (compiled .js). */
  module: string;
  /** Input schema file name in schemas/. */
  inputSchema: string;
}

export const builtinStages: Record<string, BuiltinStage> = {
  'snapshot-config': { version: '2', module: './snapshot-config.js', inputSchema: 'snapshot-config.input.schema.json' },
  'parse-trace': { version: '1', module: './parse-trace.js', inputSchema: 'parse-trace.input.schema.json' },
  'compare-traces': { version: '2', module: './compare-traces.js', inputSchema: 'compare-traces.input.schema.json' },
  summarize: { version: '2', module: './summarize.js', inputSchema: 'summarize.input.schema.json' },
  'write-notes': { version: '1', module: './write-notes.js', inputSchema: 'write-notes.input.schema.json' },
  blocker: { version: '1', module: './blocker.js', inputSchema: 'blocker.input.schema.json' },
};
