// A parsed command line, as the verbs receive it. Kept apart from main.ts so that the verbs do not
// import the entry point (which loads them): no import loop.
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Invocation {
  verb: string;
  values: Values;
  positionals: string[];
}
