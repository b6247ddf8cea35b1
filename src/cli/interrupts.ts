// Ctrl-C and SIGTERM for the verbs that run stages: the first two abort the run (stages get
// SIGTERM, then SIGKILL after the grace period); a third kills every stage's group and exits at once.
import { EXIT } from './exit-codes.js';
import { UsageError } from './project.js';
import { killRegisteredGroupsNow } from '../run/process-group.js';

export function parseGraceMs(raw: unknown): number {
  const seconds = raw === undefined ? 5 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--grace expects seconds, got '${raw}'`);
  return seconds * 1000;
}

/** Aborts `controller` on SIGINT/SIGTERM until the returned function is called. */
export function abortOnInterrupt(controller: AbortController): () => void {
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    controller.abort(new Error('interrupted'));
    if (interrupts > 2) {
      killRegisteredGroupsNow();
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
