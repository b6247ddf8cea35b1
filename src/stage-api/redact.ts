// Redaction of what provenance writes down (the config snapshot, notes, the summary): secrets are
// values, never names. An env var's value goes when its NAME says secret (API_TOKEN, DB_PASSWORD,
// AWS_SECRET_ACCESS_KEY); in free text only credentials go (a URL's password, `--password=X`,
// `Authorization:` headers, `NAME=value` of a secret name); in structured data (params, a uses-stage's
// `with:`) the scalar value of a secret-named key goes, so `tolerance.keys` or a `keys:` list stays
// as it is. Structured data is redacted as data and serialised afterwards: every JSON written stays
// valid whatever the input. Must not know which stages exist. Shared by stages (through the stage
// API) and the runner (evidence.lock and status keep a digest of a secret, never the value).

export const REDACTED = '***REDACTED***';

/** Upper-case words of a name: `SigningKey`, `signing-key` and `SIGNING_KEY` all give SIGNING, KEY. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toUpperCase());
}

// No ordinary word contains these, so they count anywhere in a name (PGPASSWORD, CLIENTSECRET).
const SECRET_PART = /PASSWORD|PASSWD|SECRET|CREDENTIAL/i;
// TOKENS, TOKENIZER (counts, paths) and AUTHOR (a person) are not secrets.
const secretWord = (w: string) => /TOKEN$/.test(w) || /^SESSION/.test(w) || /^AUTH(?!OR(?!IZ))/.test(w) || w === 'COOKIE' || w === 'APIKEY' || w === 'PASSPHRASE';
// A bare KEY in an option or config key is a sort key, a trace key, a column: only these make it a secret.
const KEY_QUALIFIERS = new Set(['API', 'ACCESS', 'PRIVATE', 'SECRET', 'SIGNING', 'CLIENT', 'ENCRYPTION', 'AUTH', 'MASTER', 'SERVICE', 'LICENSE']);

/** An env var whose name says its value is secret: *_TOKEN, *SECRET*, *PASSWORD*, PASSWD, *_PASS, CREDENTIALS, AUTH*, SESSION*, *_KEY. */
export function isSecretEnvName(name: string): boolean {
  const words = wordsOf(name);
  return SECRET_PART.test(name) || words.some(secretWord) || words.at(-1) === 'KEY' || words.at(-1) === 'PASS';
}

/** An option (`--api-key`) or a config key (`token:`) whose value is a secret; `keys`, `--key` are not. */
export function isSecretOptionName(name: string): boolean {
  const words = wordsOf(name);
  if (SECRET_PART.test(name) || words.some(secretWord)) return true;
  return words.length > 1 && words.at(-1) === 'KEY' && KEY_QUALIFIERS.has(words.at(-2)!);
}

// Free-text rules replace values only, never a name. Repetition is bounded where a pattern could
// start at many places of a long line (a scheme, a header name), so that no input makes them slow.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@'"\\]{0,256}:)([^\s/@'"\\]+)(?=@)/gi;
const HEADER = /\b((?:Proxy-)?Authorization|Cookie|X-[A-Za-z0-9-]{0,48}(?:Token|Key|Secret|Password|Auth[A-Za-z]{0,16}))(\s*:\s*)([^'"\\\r\n]+)/gi;
const JSON_PAIR = /("([^"\\]+)"\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false)/g;
const VALUE = `(?:"[^"\\\\]*"|'[^'\\\\]*'|[^\\s'"\\\\;&|]+)`;
const OPTION_EQ = new RegExp(`(^|[\\s'"(])(--?[A-Za-z][\\w-]*)=(${VALUE})`, 'g');
const OPTION_SPACED = new RegExp(`(^|[\\s'"(])(--?[A-Za-z][\\w-]*)(\\s+)(?!-)(${VALUE})`, 'g');
const ASSIGNMENT = new RegExp(`(^|[\\s'"(;&|])([A-Za-z_][A-Za-z0-9_]*)=(${VALUE})`, 'g');

/** `"x y"` → `"***REDACTED***"`, keeping the quotes so that the text around keeps its shape. */
function redactedLike(value: string): string {
  const q = value[0];
  return q === '"' || q === "'" ? `${q}${REDACTED}${q}` : REDACTED;
}

/** Credentials in free text: command lines, env values, param strings, tool output. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, (_all, head: string) => `${head}${REDACTED}`)
    .replace(HEADER, (_all, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(JSON_PAIR, (all, head: string, name: string) => (isSecretOptionName(name) ? `${head}"${REDACTED}"` : all))
    .replace(OPTION_EQ, (all, lead: string, flag: string, value: string) => (isSecretOptionName(flag) ? `${lead}${flag}=${redactedLike(value)}` : all))
    .replace(OPTION_SPACED, (all, lead: string, flag: string, gap: string, value: string) =>
      isSecretOptionName(flag) ? `${lead}${flag}${gap}${redactedLike(value)}` : all,
    )
    .replace(ASSIGNMENT, (all, lead: string, name: string, value: string) => {
      // Upper-case names are env assignments (`API_KEY=x cmd`); others are arguments (`sort_key=2`).
      const secret = name === name.toUpperCase() ? isSecretEnvName(name) : isSecretOptionName(name);
      return secret ? `${lead}${name}=${redactedLike(value)}` : all;
    });
}

/** Structured data: secret-named keys lose their scalar values, every string its credentials. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    // An object or list under a secret-looking key is structure (tolerance.keys): look inside it.
    // fromEntries, not assignment: a `__proto__` key in a user's YAML stays a key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretOptionName(k) && v !== null && typeof v !== 'object' ? REDACTED : redactValue(v)]));
  }
  return value;
}

/** An env with secret-named values replaced and credentials taken out of the others; names sorted. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) out[name] = isSecretEnvName(name) ? REDACTED : redactText(env[name]!);
  return out;
}

const USES_LINE = /^(uses \S+ with )(\{[\s\S]*\})$/;

/**
 * A stage's command line as the pipeline shows it: a shell command, or `uses KIND with {JSON}`,
 * whose JSON is redacted as data and serialised again (a regex over it once broke the JSON).
 */
export function redactCommand(command: string): string {
  const m = USES_LINE.exec(command);
  if (m) {
    let withValue: unknown;
    try {
      withValue = JSON.parse(m[2]!);
    } catch {
      return redactText(command);
    }
    return m[1] + JSON.stringify(redactValue(withValue));
  }
  return redactText(command);
}
