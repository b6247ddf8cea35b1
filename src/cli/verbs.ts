// Dispatches a parsed invocation to its verb module (each loaded only when used).
import type { Invocation } from './main.js';

export async function dispatch(inv: Invocation): Promise<number> {
  switch (inv.verb) {
    case 'run':
      return (await import('./run.js')).runVerb(inv);
    case 'status':
      return (await import('./status.js')).statusVerb(inv);
    case 'dag':
      return (await import('./dag.js')).dagVerb(inv);
    case 'validate':
      return (await import('./dag.js')).validateVerb(inv);
    case 'parse':
    case 'compare':
      return (await import('./trace.js')).traceVerb(inv);
    case 'history':
    case 'restore':
      return (await import('./artifacts.js')).artifactsVerb(inv);
    case 'watch':
      return (await import('./watch.js')).watchVerb(inv);
    case 'verify':
      return (await import('./verify.js')).verifyVerb(inv);
    default:
      throw new Error(`verb ${inv.verb} has no implementation`);
  }
}
