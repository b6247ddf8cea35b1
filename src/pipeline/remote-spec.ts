// The `remote:` block of pipeline.yaml: where the shared HTTP cache lives and whether runs push
// to it. Checks what the schema cannot (a URL that parses, no credentials in it) and points at the
// offending key. Knows nothing about HTTP or the cache itself.
import type { Diagnostic } from './diagnostics.js';
import type { RemoteSpec } from './model.js';
import type { Locator } from './yaml-locator.js';

export const DEFAULT_TOKEN_ENV = 'EVIDENCE_REMOTE_TOKEN';
export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;

export interface RawRemote {
  url: string;
  push?: boolean;
  token_env?: string;
  timeout?: number | string;
}

/** A duration as the schema allows it (a number of seconds, or 500ms / 30s / 2m / 1h). */
export function parseDurationMs(v: number | string): number | undefined {
  if (typeof v === 'number') return v * 1000;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
}

/** Why a base URL cannot serve as a remote cache, or undefined when it can. */
export function remoteUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (expected http://HOST[:PORT]/PATH)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `the remote cache speaks http:// or https://, not ${parsed.protocol}//`;
  // A password in the URL would be printed wherever the URL is; it belongs in an env var.
  if (parsed.username || parsed.password) return 'the URL holds credentials; give the token through an environment variable (remote.token_env) instead';
  if (parsed.search || parsed.hash) return 'the URL has a query or fragment; give the base folder only (cas/ and ac/ are appended to it)';
  return undefined;
}

export function readRemoteSpec(raw: RawRemote | undefined, at: Locator): { spec?: RemoteSpec; diagnostics: Diagnostic[] } {
  if (raw === undefined) return { diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const problem = remoteUrlProblem(raw.url);
  if (problem) diagnostics.push(at.diag(at.locOfNode(at.node(['remote', 'url'])), `remote.url: ${problem}`, 'e.g. url: http://cache.example:8080/evidence'));
  const timeoutMs = raw.timeout === undefined ? DEFAULT_REMOTE_TIMEOUT_MS : parseDurationMs(raw.timeout);
  if (timeoutMs === undefined) diagnostics.push(at.diag(at.locOfNode(at.node(['remote', 'timeout'])), `remote.timeout: '${raw.timeout}' is not a duration`, 'seconds, or 500ms / 30s / 2m'));
  if (diagnostics.length) return { diagnostics };
  return {
    spec: { url: raw.url, push: raw.push ?? false, tokenEnv: raw.token_env ?? DEFAULT_TOKEN_ENV, timeoutMs: timeoutMs!, loc: at.locOfNode(at.keyNode([], 'remote')) },
    diagnostics,
  };
}
