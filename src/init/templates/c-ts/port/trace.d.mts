// Types of trace.mjs, for a TypeScript port: import { trace } from './trace.mjs';
export type Traceable = number | bigint | boolean | ArrayLike<Traceable>;
export type Trace = (key: string, ...values: Traceable[]) => void;
export declare const PREFIX: string;
export declare function makeTrace(prefix?: string, write?: (line: string) => void): Trace;
/** Prints `TRACE_TS: key v1 v2 ...` on stdout, numbers as C's %.15g. */
export declare const trace: Trace;
