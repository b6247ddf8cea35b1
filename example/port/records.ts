// The port's trace, as data: what each physics step reports. Rendering these
// as text lines (and choosing the TRACE_TS prefix) is render.ts's job.

/** A set-up line `key=value`; numbers in `parts` print as %.15g, strings verbatim. */
export interface SetupRecord {
  readonly kind: 'setup';
  readonly key: string;
  readonly parts: ReadonlyArray<string | number>;
}

/** One value of the per-pixel chain: `key v1 [v2 v3]`. */
export interface ChainRecord {
  readonly kind: 'chain';
  readonly key: string;
  readonly values: readonly number[];
  /** printed as C's %d rather than %.15g */
  readonly integer?: boolean;
}

/** The lattice factors of one phi step. */
export interface PhiRecord {
  readonly kind: 'phi';
  readonly phiTic: number;
  readonly phiDeg: number;
  readonly kFrac: number;
  readonly FLattB: number;
  readonly FLatt: number;
}

export type TraceRecord = SetupRecord | ChainRecord | PhiRecord;

export function setup(key: string, ...parts: Array<string | number>): SetupRecord {
  return { kind: 'setup', key, parts };
}

export function chain(key: string, ...values: number[]): ChainRecord {
  return { kind: 'chain', key, values };
}

export function chainInteger(key: string, ...values: number[]): ChainRecord {
  return { kind: 'chain', key, values, integer: true };
}
