// The blocker's forensics never carry a secret: env values of secret-looking names and credentials
// anywhere in the command, the message, the streams and the traceback are redacted, with the same
// rules as the snapshot.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const SECRETS = ['sk-LIVE-4242', 'hunter2', 'PASSw0rd', 'tok-ghp-777', 'aws-secret-9'];

describe('blocker redaction', () => {
  it('keeps secrets out of attempt_failed.log, blocker.json and notes.md, and keeps the rest', () => {
    const p = new TestProject({
      'pipeline.yaml': `version: 1
env: { API_KEY: sk-LIVE-4242, LC_NUMERIC: C }
blocker: { uses: blocker, with: { dir: reports/blocker } }
stages:
  harness:
    cmd: >-
      echo "connecting to postgres://user:PASSw0rd@db.local/runs";
      echo "Traceback (most recent call last):" >&2;
      echo '  File "harness.py", line 3, in <module>' >&2;
      echo "RuntimeError: login failed with --password=hunter2 and Authorization: Bearer tok-ghp-777" >&2;
      ./tool --api-key aws-secret-9; exit 3
    env: { GITHUB_TOKEN: tok-ghp-777, PHI_STEPS: "10" }
    outs: [reports/harness/out.txt]
`,
    });
    const r = p.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/blocker recorded the failure of harness/);
    const dir = p.path('reports/blocker');
    const texts = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const);
    expect(texts.map(([f]) => f).sort()).toEqual(expect.arrayContaining(['attempt_failed.log', 'blocker.json', 'notes.md']));
    for (const [file, text] of texts) for (const secret of SECRETS) expect(text, `${secret} in ${file}`).not.toContain(secret);
    const rec = JSON.parse(readFileSync(join(dir, 'blocker.json'), 'utf8'));
    // What is not secret stays: the evidence must still say what happened.
    expect(rec.env).toMatchObject({ LC_NUMERIC: 'C', PHI_STEPS: '10' });
    expect(rec.traceback.text).toMatch(/RuntimeError: login failed/);
    expect(readFileSync(join(dir, 'attempt_failed.log'), 'utf8')).toMatch(/postgres:\/\/user:.*@db\.local\/runs/);
  });
});
