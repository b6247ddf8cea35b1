// The remote cache a command uses: pipeline.yaml's `remote:` with the environment on top, so that a
// CI job can point every clone at its cache (or push) without editing the pipeline, and an engineer
// can switch it off. The token is read here from the variable the settings name, and kept only in
// memory: it is never part of the settings' text, a message or a file.
import type { RemoteSpec } from '../pipeline/model.js';
import { DEFAULT_REMOTE_TIMEOUT_MS, DEFAULT_TOKEN_ENV, remoteUrlProblem } from '../pipeline/remote-spec.js';

export interface RemoteSettings {
  /** Base URL without a trailing slash. */
  url: string;
  push: boolean;
  /** Where the token came from, for messages ("EVIDENCE_REMOTE_TOKEN is set but the server said 401"). */
  tokenEnv: string;
  token?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
}

export type RemoteSettingsResult = { ok: true; settings?: RemoteSettings } | { ok: false; message: string };

const CONNECT_TIMEOUT_MS = 5_000;

function flag(name: string, raw: string): boolean | string {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  return `${name}='${raw}': expected true or false`;
}

/**
 * EVIDENCE_REMOTE_URL replaces (or supplies) remote.url, EVIDENCE_REMOTE_PUSH replaces remote.push,
 * EVIDENCE_REMOTE=off turns the remote off. Undefined settings: no remote.
 */
export function remoteSettings(spec: RemoteSpec | undefined, env: NodeJS.ProcessEnv = process.env): RemoteSettingsResult {
  if (env.EVIDENCE_REMOTE !== undefined && env.EVIDENCE_REMOTE !== '') {
    const on = flag('EVIDENCE_REMOTE', env.EVIDENCE_REMOTE);
    if (typeof on === 'string') return { ok: false, message: on };
    if (!on) return { ok: true };
  }
  const url = env.EVIDENCE_REMOTE_URL || spec?.url;
  if (!url) return { ok: true };
  if (env.EVIDENCE_REMOTE_URL) {
    const problem = remoteUrlProblem(url);
    if (problem) return { ok: false, message: `EVIDENCE_REMOTE_URL: ${problem}` };
  }
  let push = spec?.push ?? false;
  if (env.EVIDENCE_REMOTE_PUSH) {
    const p = flag('EVIDENCE_REMOTE_PUSH', env.EVIDENCE_REMOTE_PUSH);
    if (typeof p === 'string') return { ok: false, message: p };
    push = p;
  }
  const tokenEnv = spec?.tokenEnv ?? DEFAULT_TOKEN_ENV;
  const timeoutMs = spec?.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
  return {
    ok: true,
    settings: { url: url.replace(/\/+$/, ''), push, tokenEnv, token: env[tokenEnv] || undefined, timeoutMs, connectTimeoutMs: Math.min(timeoutMs, CONNECT_TIMEOUT_MS) },
  };
}
