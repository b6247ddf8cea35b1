// Types of trace.mjs, for a TypeScript port: import { trace } from './trace.mjs';
type TypedArray = Float64Array | Float32Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
/** Numbers, bigints, booleans (printed 1/0), typed arrays and arrays of these, nested ones row-major. */
export type Traceable = number | bigint | boolean | TypedArray | readonly Traceable[];
export type Trace = (key: string, ...values: Traceable[]) => void;
export declare const PREFIX: string;
export declare function makeTrace(prefix?: string, write?: (line: string) => void): Trace;
/** Prints `TRACE_TS: key v1 v2 ...` on stdout, numbers as C's %.15g. */
export declare const trace: Trace;
