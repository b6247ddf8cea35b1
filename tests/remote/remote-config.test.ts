// The remote cache's configuration and its trust rules without a server: `remote:` errors point at
// their key, the environment overrides the pipeline, and a downloaded run record is checked the way
// the local store checks its own.
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';
import { remoteSettings } from '../../src/cache/remote-settings.js';
import { checkRemoteRecord } from '../../src/cache/remote-cache.js';
import { checksumOf, type RunRecord } from '../../src/cache/store.js';
import type { RemoteSpec } from '../../src/pipeline/model.js';

const stages = 'stages:\n  a: { cmd: "true" }\n';

describe('remote: in pipeline.yaml', () => {
  it.each([
    ['a URL holding credentials', 'remote:\n  url: "http://ci:hunter2@cache.example/x"\n', /pipeline\.yaml:3:8: error: remote\.url: the URL holds credentials; give the token through an environment variable \(remote\.token_env\) instead/],
    ['another scheme', 'remote:\n  url: "ftp://cache.example/x"\n', /pipeline\.yaml:3:8: error: remote\.url: the remote cache speaks http:\/\/ or https:\/\/, not ftp:\/\//],
    ['a query string', 'remote:\n  url: "http://cache.example/x?key=1"\n', /pipeline\.yaml:3:8: error: remote\.url: the URL has a query or fragment/],
    ['an unknown key', 'remote:\n  url: "http://cache.example/x"\n  pushh: true\n', /pipeline\.yaml:4:3: error: unknown key 'pushh'/],
    ['no url', 'remote: { push: true }\n', /pipeline\.yaml:2:9: error: .*url/],
    ['a token env that is no variable name', 'remote:\n  url: "http://cache.example/x"\n  token_env: "$TOKEN"\n', /pipeline\.yaml:4:14: error: remote\.token_env/],
  ])('refuses %s at its line and column', (_, remote, message) => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\n${remote}${stages}` });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('never echoes the password of a URL it refuses, in the line it shows', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nremote:\n  url: "http://ci:hunter2@cache.example/x"\n${stages}` });
    const r = p.cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/3 \|   url: "http:\/\/ci:\*\*\*REDACTED\*\*\*@cache\.example\/x"/);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('accepts a full block and runs with it turned off by EVIDENCE_REMOTE=off without asking anything', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nremote: { url: "http://127.0.0.1:9/cache", push: true, token_env: CI_CACHE_TOKEN, timeout: 500ms }\n${stages}` });
    expect(p.cli(['validate']).code).toBe(0);
    const r = p.cli(['run'], { EVIDENCE_REMOTE: 'off' });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/remote/);
  });

  it('says plainly when a command needs a remote and there is none, or the environment names a bad one', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\n${stages}` });
    const push = p.cli(['push']);
    expect(push.code).toBe(2);
    expect(push.stderr).toBe('evidence push: no remote cache: add remote: { url: ... } to pipeline.yaml or set EVIDENCE_REMOTE_URL\n');
    const pull = p.cli(['pull']);
    expect(pull.code).toBe(2);
    const run = p.cli(['run'], { EVIDENCE_REMOTE_URL: 'cache.example' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/EVIDENCE_REMOTE_URL: is not a URL/);
    const flag = p.cli(['run'], { EVIDENCE_REMOTE_URL: 'http://127.0.0.1:9/c', EVIDENCE_REMOTE_PUSH: 'sometimes' });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/EVIDENCE_REMOTE_PUSH='sometimes': expected true or false/);
  });
});

describe('remote settings', () => {
  const spec: RemoteSpec = { url: 'http://a.example/cache/', push: false, tokenEnv: 'T', timeoutMs: 2000, loc: { line: 1, column: 1 } };

  it.each([
    ['the pipeline alone', {}, { url: 'http://a.example/cache', push: false, token: undefined, connectTimeoutMs: 2000 }],
    ['a URL and push from the environment', { EVIDENCE_REMOTE_URL: 'https://b.example/c', EVIDENCE_REMOTE_PUSH: 'yes' }, { url: 'https://b.example/c', push: true }],
    ['the token from the variable the pipeline names', { T: 'secret', EVIDENCE_REMOTE_TOKEN: 'other' }, { token: 'secret', tokenEnv: 'T' }],
  ])('%s', (_, env, expected) => {
    const r = remoteSettings(spec, env);
    expect(r.ok && r.settings).toMatchObject(expected);
  });

  it('is off without a URL anywhere, or with EVIDENCE_REMOTE=off', () => {
    expect(remoteSettings(undefined, {})).toEqual({ ok: true });
    expect(remoteSettings(spec, { EVIDENCE_REMOTE: 'off' })).toEqual({ ok: true });
    expect(remoteSettings(undefined, { EVIDENCE_REMOTE_URL: 'http://x.example' })).toMatchObject({ ok: true, settings: { tokenEnv: 'EVIDENCE_REMOTE_TOKEN', timeoutMs: 30_000, connectTimeoutMs: 5000 } });
  });
});

describe('a run record from the server', () => {
  const hash = 'a'.repeat(64);
  const record: RunRecord = { stage: 's', fingerprint: 'f'.repeat(64), outs: [{ type: 'file', path: 'o.txt', hash, size: 3, mode: 0o644 }], createdAt: '2026-01-01T00:00:00.000Z' };
  const text = (r: RunRecord, checksum = checksumOf(r)) => JSON.stringify({ ...r, checksum });

  it('is trusted when it passes its checksum and names its own fingerprint', () => {
    expect(checkRemoteRecord(text(record), record.fingerprint)).toEqual({ ok: true, record });
    expect(checkRemoteRecord(text(record), record.fingerprint, ['o.txt'])).toEqual({ ok: true, record });
  });

  it("is refused when it would restore other paths than the stage's outs (a checksum anyone can compute)", () => {
    expect(checkRemoteRecord(text(record), record.fingerprint, ['src/main.c'])).toEqual({ ok: false, problem: "does not restore this stage's outs" });
    expect(checkRemoteRecord(text(record), record.fingerprint, ['o.txt', 'p.txt'])).toEqual({ ok: false, problem: "does not restore this stage's outs" });
  });

  it.each([
    ['not JSON', '{"stage":', 'is not JSON'],
    ['not a record', '[1,2]', 'is not a run record'],
    ['another fingerprint', text({ ...record, fingerprint: 'e'.repeat(64) }), 'names another fingerprint'],
    ['outs pointed elsewhere', text(record).replace(hash, 'b'.repeat(64)), 'fails its checksum'],
    ['no checksum', JSON.stringify(record), 'fails its checksum'],
    ['a missing out', text({ ...record, outs: [{ type: 'missing', path: 'o.txt' }] }), 'records a missing out'],
    ['it names a path outside the project', text({ ...record, outs: [{ type: 'file', path: '../o.txt', hash, size: 3, mode: 0o644 }] }), 'names a path outside the project'],
    ['it names an absolute path', text({ ...record, outs: [{ type: 'file', path: '/etc/o.txt', hash, size: 3, mode: 0o644 }] }), 'names a path outside the project'],
    ['a folder out holds a file outside it', text({ ...record, outs: [{ type: 'dir', path: 'd', hash, size: 3, files: [{ path: 'e/x', hash, size: 3, mode: 0o644 }] }] }), 'names a file outside its folder out'],
    ['a file is made setuid', text({ ...record, outs: [{ type: 'file', path: 'o.txt', hash, size: 3, mode: 0o4755 }] }), 'gives a file a mode other than 644 or 755'],
    ['an object name that is a path', text({ ...record, outs: [{ type: 'file', path: 'o.txt', hash: '../../etc/passwd', size: 1, mode: 0o644 }] }), 'names an object that is not a sha256'],
  ])('is refused when %s', (_, body, problem) => {
    expect(checkRemoteRecord(body, record.fingerprint)).toEqual({ ok: false, problem });
  });
});
