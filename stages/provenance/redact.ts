// The redaction rules live in the stage API (src/stage-api/redact.ts): the runner applies the same
// ones to evidence.lock and status, so provenance and the lock can never disagree on what a secret is.
export { REDACTED, isSecretEnvName, isSecretOptionName, redactCommand, redactEnv, redactText, redactValue } from '../../src/stage-api/index.js';
