// A compare stage's gate: `fail_on` in its `with:` says which statuses end the run as 'gate'. It
// judges the items beyond round-off (the comparison's findingVerdict): a float32 port compared at a
// float64 tolerance does not fail a run, any difference round-off cannot explain does.
import type { FailOn } from '../comparison.js';
import type { Status } from '../status.js';
import { countsAgainst } from '../summarise.js';

export function failOnOf(withValue: Record<string, unknown>): FailOn {
  const v = withValue.fail_on;
  return v === 'divergent' || v === 'critical' ? v : 'never';
}

/** Whether an item (or a verdict) of this status counts against `failOn`. */
export function failsOn(failOn: FailOn, status: Status): boolean {
  return countsAgainst(failOn, status);
}
