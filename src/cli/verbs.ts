// Dispatches a parsed invocation to its verb module (each loaded only when used).
import type { Invocation } from './invocation.js';
import type { StageCatalog } from '../stage-api/index.js';

export async function dispatch(inv: Invocation, catalog: StageCatalog): Promise<number> {
  switch (inv.verb) {
    case 'run':
      return (await import('./run.js')).runVerb(inv, catalog);
    case 'status':
      return (await import('./status.js')).statusVerb(inv, catalog);
    case 'show':
      return (await import('./show.js')).showVerb(inv, catalog);
    case 'dag':
      return (await import('./dag.js')).dagVerb(inv, catalog);
    case 'validate':
      return (await import('./dag.js')).validateVerb(inv, catalog);
    case 'history':
    case 'restore':
      return (await import('./artifacts.js')).artifactsVerb(inv);
    case 'gc':
      return (await import('./gc.js')).gcVerb(inv);
    case 'watch':
      return (await import('./watch.js')).watchVerb(inv, catalog);
    case 'verify':
      return (await import('./verify.js')).verifyVerb(inv, catalog);
    case 'push':
      return (await import('./remote.js')).pushVerb(inv, catalog);
    case 'pull':
      return (await import('./remote.js')).pullVerb(inv, catalog);
    case 'init':
      return (await import('./init.js')).initVerb(inv);
    default:
      throw new Error(`verb ${inv.verb} has no implementation`);
  }
}
