// The tool's version (from package.json): part of every fingerprint, so a new release re-judges stages.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // Try the layout of the sources (src/) after that of the build (dist/src/).
    }
  }
  return '0.0.0';
}

export const TOOL_VERSION: string = readVersion();
