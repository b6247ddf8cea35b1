// Redaction of provenance (stages/provenance/redact.ts): secrets are values, never names. Tables of
// names and command lines, then property tests with adversarial keys and strings: the snapshot and
// the `uses KIND with {JSON}` lines stay valid JSON with every key kept, and no planted secret
// survives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSecretEnvName, isSecretOptionName, redactCommand, redactEnv, redactText, redactValue, REDACTED } from '../../stages/provenance/redact.js';
import { recordPipeline } from '../../stages/provenance/snapshot.js';

describe('secret names', () => {
  it.each([
    'API_TOKEN', 'GITHUB_TOKEN', 'ghToken', 'AWS_SECRET_ACCESS_KEY', 'CLIENT_SECRETS', 'DB_PASSWORD', 'PGPASSWORD', 'MYSQL_PASSWD', 'DB_PASS',
    'GOOGLE_APPLICATION_CREDENTIALS', 'AUTH', 'NPM_AUTH', 'AUTHORIZATION', 'SESSION', 'SESSION_ID', 'API_KEY', 'OPENAI_API_KEY', 'SigningKey', 'KEY',
  ])('env var %s is secret', (name) => {
    expect(isSecretEnvName(name)).toBe(true);
  });

  it.each(['OMP_NUM_THREADS', 'LC_ALL', 'PATH', 'PWD', 'HOME', 'TOKENIZERS_PARALLELISM', 'GIT_AUTHOR_NAME', 'KEYBOARD', 'MAX_TOKENS', 'CONFIG', 'PIXEL', 'MONKEY'])(
    'env var %s is not',
    (name) => {
      expect(isSecretEnvName(name)).toBe(false);
    },
  );

  it.each(['password', '--password', 'api-key', 'api_key', 'apiKey', 'APIKey', 'token', 'access_token', 'client_secret', 'auth', 'Authorization', 'private_key', 'service_key'])(
    'option or config key %s names a secret',
    (name) => {
      expect(isSecretOptionName(name)).toBe(true);
    },
  );

  it.each(['keys', 'key', '--key', 'tolerance', 'keyfile', 'keys-from', 'max_tokens', 'author', 'sort_key', 'primary_key', 'monkey', 'match_by'])(
    'option or config key %s does not',
    (name) => {
      expect(isSecretOptionName(name)).toBe(false);
    },
  );
});

describe('redaction of text', () => {
  it.each([
    ['git clone https://ada:hunter2@example.com/repo.git', `git clone https://ada:${REDACTED}@example.com/repo.git`],
    ['pip install -i https://__token__:pypi-AgE@upload.pypi.org/simple x', `pip install -i https://__token__:${REDACTED}@upload.pypi.org/simple x`],
    ['ssh://git@github.com/a/b.git', 'ssh://git@github.com/a/b.git'],
    ['curl -H "Authorization: Bearer abc.def" https://x', `curl -H "Authorization: ${REDACTED}" https://x`],
    ["curl -H 'X-Api-Key: k1' https://x", `curl -H 'X-Api-Key: ${REDACTED}' https://x`],
    ['tool --password=xyz --n 3', `tool --password=${REDACTED} --n 3`],
    ['tool --password xyz --n 3', `tool --password ${REDACTED} --n 3`],
    ["tool --token 'a b' -v", `tool --token '${REDACTED}' -v`],
    ['API_TOKEN=abc ./run && DEBUG=1 ./run', `API_TOKEN=${REDACTED} ./run && DEBUG=1 ./run`],
    [`echo '{"password": "p", "pin": 1234, "keys": {"a": 1}}'`, `echo '{"password": "${REDACTED}", "pin": 1234, "keys": {"a": 1}}'`],
    ['evidence compare a b --key F_latt --tolerance 1e-6', 'evidence compare a b --key F_latt --tolerance 1e-6'],
    ['./nanoBragg -keyfile A.mat -lambda 6.2 -pixel 1039 685', './nanoBragg -keyfile A.mat -lambda 6.2 -pixel 1039 685'],
  ])('%s', (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it('redacts env values by name and credentials in the other values', () => {
    expect(redactEnv({ Z_TOKEN: 't', DATABASE_URL: 'postgres://u:pw@db/x', A: 'plain' })).toEqual({ A: 'plain', DATABASE_URL: `postgres://u:${REDACTED}@db/x`, Z_TOKEN: REDACTED });
  });

  it('keeps tolerance.keys: a secret-looking key holding structure is looked into, not replaced', () => {
    const withValue = { tolerance: { rel: 1e-6, keys: { 'F_*': { rel: 1e-3 } } }, auth: { token: 'x', user: 'u' }, key: 'F_latt' };
    expect(redactValue(withValue)).toEqual({ tolerance: { rel: 1e-6, keys: { 'F_*': { rel: 1e-3 } } }, auth: { token: REDACTED, user: 'u' }, key: 'F_latt' });
    const line = `uses compare-traces with ${JSON.stringify(withValue)}`;
    expect(JSON.parse(redactCommand(line).slice('uses compare-traces with '.length))).toEqual(redactValue(withValue));
  });

  it('stays fast on long adversarial lines', () => {
    for (const text of ['a.'.repeat(50_000), 'X-'.repeat(50_000), 'http://a:' + 'b'.repeat(100_000), '"'.repeat(100_000), '-a '.repeat(30_000), 'A=' + '"'.repeat(50_000)]) {
      expect(typeof redactText(text)).toBe('string');
    }
  });
});

// Keys a real `with:` or params block may hold, secret-looking or not, and adversarial ones.
const keyArb = fc.oneof(
  fc.constantFrom('keys', 'key', 'token', 'api_key', 'password', 'Authorization', 'tolerance', 'aliases', 'ignore', 'rel', 'SESSION', '--password', 'a"b', 'c\\d', '', '__proto__x'),
  fc.string({ maxLength: 12 }),
);
const stringArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('--password=x', '--token "a b"', "--api-key 'q'", 'https://u:p@h/x', 'Authorization: Bearer z', '"\\', '\\"', '{"token": "v"}', '`', '```', '\u2028'),
);
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, stringArb, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('list'), tie('object')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(keyArb, tie('value'), { maxKeys: 5 }),
})).value;

/** The shape of a value: every key at every depth, values left out. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x && typeof x === 'object' ? shape(x) : 0]));
  return 0;
}

describe('redaction properties', () => {
  it('a uses-stage line stays valid JSON with every key kept, whatever its with: holds', () => {
    fc.assert(
      fc.property(fc.dictionary(keyArb, valueArb, { maxKeys: 6 }), (withValue) => {
        const prefix = 'uses compare-traces with ';
        const out = redactCommand(prefix + JSON.stringify(withValue));
        expect(out.startsWith(prefix)).toBe(true);
        const parsed = JSON.parse(out.slice(prefix.length));
        expect(shape(parsed)).toEqual(shape(JSON.parse(JSON.stringify(withValue))));
      }),
      { numRuns: 300 },
    );
  });

  it('the pipeline record is valid JSON and no planted secret survives', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9]{6,12}$/).map((s) => `S3CR3T${s}`);
    fc.assert(
      fc.property(
        fc.dictionary(keyArb, valueArb, { maxKeys: 4 }),
        secret,
        fc.constantFrom('API_TOKEN', 'DB_PASSWORD', 'OPENAI_API_KEY', 'SESSION'),
        fc.constantFrom('token', 'api_key', 'password', 'client_secret'),
        stringArb,
        (params, s, envName, optName, noise) => {
          const view = {
            file: '/p/pipeline.yaml',
            params: {},
            env: { [envName]: s, NOISE: noise },
            stages: [
              { name: 'cmd', command: `${envName}=${s} tool --${optName}=${s} https://u:${s}@h/x ${JSON.stringify(noise)}`, deps: [], outs: [], env: { [envName]: s } },
              { name: 'uses', uses: 'k', command: `uses k with ${JSON.stringify({ [optName]: s, nested: { [optName]: s, keys: params }, noise })}`, deps: [], outs: [], env: {} },
            ],
          };
          const text = JSON.stringify(recordPipeline(view, { ...params, [optName]: s }));
          const back = JSON.parse(text);
          expect(text).not.toContain(s);
          expect(JSON.parse(back.stages[1].command.slice('uses k with '.length)).nested.keys).toBeTypeOf('object');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => {
        expect(typeof redactText(text)).toBe('string');
        expect(typeof redactCommand(`uses x with ${text}`)).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
