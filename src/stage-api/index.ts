// The stage API: everything a `uses:` stage may import, whether it is a built-in in stages/ or a
// user's script. A stage sees its context (inputs, outs, logger, signal, zx `$`), fails by throwing
// (StageFailure names the reason), writes its files atomically and validates JSON against the
// tool's schemas. It must not reach into the runner: nothing here knows about scheduling, the
// cache or reporters, and nothing outside src/stage-api, src/fs and src/schema is re-exported.
export * from './contract.js';
export * from './catalog.js';
export type * from './findings.js';
export { writeFileAtomic, writeFileAtomicSync, tempPathFor, commitTemp } from '../fs/atomic-write.js';
export { toolSchemasDir, readValidatedJson, validateAgainst, formatIssues, type SchemaIssue } from '../schema/validate.js';
export * from './redact.js';
