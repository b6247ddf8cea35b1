// ${params.x} in a shell command, in process: where the scanner places each reference
// (src/pipeline/shell-context.ts), and what /bin/sh makes of the substituted command
// (src/pipeline/interpolate.ts): whatever the value, and wherever the reference sits (unquoted,
// in '...', in "...", in $( ) inside "...", in the script of an argv `sh -c`), the command sees the
// value exactly and runs nothing of it. Real /bin/sh processes, in a temp folder that must stay empty.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolateArgv, interpolateShell } from '../../src/pipeline/interpolate.js';
import { shellRefs } from '../../src/pipeline/shell-context.js';

const PAYLOADS = [
  '$(touch pwned)',
  '`touch pwned`',
  "'; touch pwned; '",
  '"; touch pwned; "',
  '; touch pwned',
  'a\ntouch pwned',
  '$HOME',
  '\\"$(touch pwned)\\"',
  "\\'$(touch pwned)",
  '${IFS}touch${IFS}pwned',
  '|| touch pwned &',
  "it's \"quoted\" \\ $x `y`",
  '',
];

/** The templates, each with the output /bin/sh must print for a value v. */
const TEMPLATES: Array<[string, (v: string) => string]> = [
  ["printf '%s' ${params.x}", (v) => v],
  ["printf '%s' \"${params.x}\"", (v) => v],
  ["printf '%s' '${params.x}'", (v) => v],
  ["printf '%s' \"a ${params.x} b\" 'c${params.x}d'", (v) => `a ${v} bc${v}d`],
  // Command substitution drops trailing newlines.
  ["printf '%s' \"$(printf '%s' ${params.x})\"", (v) => v.replace(/\n+$/, '')],
  ["printf '%s' \"$(printf '%s' \"${params.x}\")\" # done", (v) => v.replace(/\n+$/, '')],
  ["X=\"${params.x}\"; printf '%s' \"$X\"", (v) => v],
  ["cat <<'EOF'\nliteral\nEOF\nprintf '%s' \"${params.x}\"", (v) => `literal\n${v}`],
];

function sandbox(): string {
  return mkdtempSync(join(tmpdir(), 'evidence-shell-'));
}

function sh(cmd: string, cwd: string): string {
  return execFileSync('/bin/sh', ['-c', cmd], { cwd, encoding: 'utf8' });
}

describe('where a reference sits', () => {
  const kinds = (cmd: string) => shellRefs(cmd).map((r) => r.context.kind);

  it('tells unquoted, single-quoted and double-quoted references apart', () => {
    expect(kinds(`echo \${params.a} '\${params.b}' "\${params.c}" "x'\${params.d}'" 'y"\${params.e}"'`)).toEqual(['bare', 'single', 'double', 'double', 'single']);
  });

  it('follows $( ) inside "...", and escaped quotes', () => {
    expect(kinds(`echo "$(cat \${params.a} "\${params.b}")" \\" \${params.c} "\\" \${params.d}"`)).toEqual(['bare', 'double', 'bare', 'double']);
    expect(kinds(`echo $(echo (\${params.a}) ) '\${params.b}'`)).toEqual(['bare', 'single']);
  });

  it('skips shell variables and quoted here-documents, but not the references after them', () => {
    expect(kinds(`for f in *; do echo "\${f}" $HOME \${params.a}; done`)).toEqual(['bare']);
    expect(kinds(`cat <<-'END'\n\tno \${params.a} here\n\tEND\necho "\${params.b}"`)).toEqual(['unsafe', 'double']);
  });

  it('rejects references in backquotes, comments, here-documents, after a backslash or a $', () => {
    const why = (cmd: string) => shellRefs(cmd).map((r) => (r.context.kind === 'unsafe' ? r.context.why : r.context.kind));
    expect(why('echo `echo ${params.a}` ${params.b}')).toEqual(['sits in backquotes', 'bare']);
    expect(why('echo hi # ${params.a}\necho ${params.b}')).toEqual(['sits in a shell comment, which a newline in its value would end', 'bare']);
    expect(why('echo a#${params.a}')).toEqual(['bare']);
    expect(why('cat <<EOF\n${params.a}\nEOF\necho ${params.b}')).toEqual(['sits in a here-document, where no quoting applies', 'bare']);
    expect(why('echo \\${params.a} "\\${params.b}" \'\\${params.c}\'')).toEqual(['follows a backslash', 'follows a backslash', 'single']);
    expect(why('echo $${params.a}')).toEqual(['follows a `$`']);
  });

  it('gives up, rejecting every later reference, after constructs it cannot follow', () => {
    for (const construct of ['${HOME:-x}', '$((1 + 2))', "$'a\\'b'", 'x=$(case a in a) echo;; esac)']) {
      const refs = shellRefs(`echo \${params.a} ${construct} "\${params.b}"`);
      expect(refs.map((r) => r.context.kind), construct).toEqual(['bare', 'unsafe']);
    }
  });
});

describe('what /bin/sh makes of a substituted command', () => {
  it('prints every payload exactly, in every context, and runs none of it', () => {
    const dir = sandbox();
    for (const [template, expected] of TEMPLATES) {
      for (const payload of PAYLOADS) {
        expect(sh(interpolateShell(template, { params: { x: payload } }), dir), `${template} with ${JSON.stringify(payload)}`).toBe(expected(payload));
      }
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('passes a list as separate words unquoted, and as one string inside quotes', () => {
    const dir = sandbox();
    const words = ['a b', '$(touch pwned)', "it's"];
    expect(sh(interpolateShell("printf '[%s]' ${params.x}", { params: { x: words } }), dir)).toBe("[a b][$(touch pwned)][it's]");
    expect(sh(interpolateShell("printf '[%s]' \"${params.x}\" '${params.x}'", { params: { x: words } }), dir)).toBe("[a b $(touch pwned) it's][a b $(touch pwned) it's]");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('quotes the script of an argv `sh -c` for its contexts, and leaves other argv elements as they are', () => {
    const dir = sandbox();
    for (const payload of PAYLOADS) {
      const argv = interpolateArgv(['sh', '-c', "printf '%s|' \"${params.x}\" ${params.x}"], { params: { x: payload } });
      expect(execFileSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8' })).toBe(payload === '' ? '||' : `${payload}|${payload}|`);
    }
    expect(interpolateArgv(['printf', '%s', 'a ${params.x}'], { params: { x: '$(x)' } })).toEqual(['printf', '%s', 'a $(x)']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('holds for any value: a property test with shell metacharacters, fixed seed', () => {
    const dir = sandbox();
    const chars = ['a', 'Z', '0', ' ', '\t', '\n', "'", '"', '\\', '$', '`', '(', ')', '{', '}', ';', '&', '|', '<', '>', '*', '?', '[', ']', '#', '~', '!', '=', '%', 'é', '\u2028'];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...chars), maxLength: 24 }), fc.integer({ min: 0, max: TEMPLATES.length - 1 }), (value, t) => {
        const [template, expected] = TEMPLATES[t]!;
        expect(sh(interpolateShell(template, { params: { x: value } }), dir)).toBe(expected(value));
      }),
      { seed: 20240611, numRuns: 150 },
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
