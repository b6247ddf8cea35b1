// ES modules loaded at run time: the built-in stages, a user's script stage, chokidar. The `evidence`
// bin runs the bundled CLI from V8's code cache (src/build/launcher.cjs), and in Node 20 a script
// compiled that way has no loader for import(): the launcher hands in its own. Loaded as plain
// modules (tests, the stage API), import() works as usual.
type Importer = (specifier: string) => Promise<unknown>;

const handedIn = (globalThis as Record<symbol, unknown>)[Symbol.for('evidence.import')] as Importer | undefined;

export function importModule<T>(specifier: string): Promise<T> {
  return (handedIn ? handedIn(specifier) : import(specifier)) as Promise<T>;
}
