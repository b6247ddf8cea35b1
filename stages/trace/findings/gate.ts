// A compare stage's gate: `fail_on` in its `with:` says which statuses end the run as 'gate'.
import type { FailOn, Status } from '../compare.js';

export function failOnOf(withValue: Record<string, unknown>): FailOn {
  const v = withValue.fail_on;
  return v === 'divergent' || v === 'critical' ? v : 'never';
}

/** Whether an item (or a verdict) of this status counts against `failOn`. */
export function failsOn(failOn: FailOn, status: Status): boolean {
  if (failOn === 'divergent') return status === 'DIVERGENT' || status === 'CRITICAL';
  if (failOn === 'critical') return status === 'CRITICAL';
  return false;
}
