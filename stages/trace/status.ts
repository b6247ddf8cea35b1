// The statuses of a compared item and the one order in which they rank, for the verdict, a
// checkpoint's worst status and a key group's worst status alike. MISSING ranks just above MATCH:
// a key that one side does not print is an instrumentation difference worth reporting, but any
// disagreement in value (MINOR and up) says more about the port.
export type Status = 'MATCH' | 'MINOR' | 'DIVERGENT' | 'CRITICAL' | 'MISSING';

export const STATUSES: Status[] = ['MATCH', 'MINOR', 'DIVERGENT', 'CRITICAL', 'MISSING'];

export const SEVERITY: Readonly<Record<Status, number>> = { MATCH: 0, MISSING: 1, MINOR: 2, DIVERGENT: 3, CRITICAL: 4 };

/** The worse of two statuses (the first on a tie). */
export function worseStatus(a: Status, b: Status): Status {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
