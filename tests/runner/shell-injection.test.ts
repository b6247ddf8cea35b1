// Params cannot inject shell code, through the compiled CLI: payloads in params (from pipeline.yaml
// and from `-p`) reach a shell command unquoted, inside "...", inside '...', inside a word, inside
// $( ), and in the script of an argv `sh -c`; each stage writes the value it saw, which must be the
// payload exactly, and no payload may create a file. A reference the shell cannot be given safely
// (here: in backquotes) stops the load with a located error.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';

const PAYLOADS = [
  '$(touch pwned)',
  '`touch pwned`',
  "'; touch pwned; '",
  '"; touch pwned; "',
  '; touch pwned',
  'a\ntouch pwned #',
  '$HOME',
  "\\'$(touch pwned)\\'",
  '${IFS}touch${IFS}pwned',
  '&& touch pwned &',
];

/** Each context: a command printing param p<i> to out/<context>/<i>.txt, and what it must print. */
const CONTEXTS: Record<string, { cmd: (i: number) => string; expect: (v: string) => string }> = {
  bare: { cmd: (i) => `printf '%s' \${params.p${i}} > out/bare/${i}.txt`, expect: (v) => v },
  double: { cmd: (i) => `printf '%s' "\${params.p${i}}" > out/double/${i}.txt`, expect: (v) => v },
  single: { cmd: (i) => `printf '%s' '\${params.p${i}}' > out/single/${i}.txt`, expect: (v) => v },
  word: { cmd: (i) => `printf '%s' "<\${params.p${i}}>"'<\${params.p${i}}>' > out/word/${i}.txt`, expect: (v) => `<${v}><${v}>` },
  cmdsub: { cmd: (i) => `printf '%s' "$(printf '%s' "\${params.p${i}}")" > out/cmdsub/${i}.txt`, expect: (v) => v.replace(/\n+$/, '') },
};

function pipeline(): string {
  const params = PAYLOADS.map((v, i) => `  p${i}: ${JSON.stringify(v)}`).join('\n');
  const stages = Object.entries(CONTEXTS).map(([name, c]) => {
    const script = [`mkdir -p out/${name}`, ...PAYLOADS.map((_, i) => c.cmd(i))].join('\n');
    return `  ${name}:\n    cmd: |\n${script.replace(/^/gm, '      ')}\n    outs: [out/${name}]\n`;
  });
  const argvScript = [`mkdir -p out/argv`, ...PAYLOADS.map((_, i) => `printf '%s' "\${params.p${i}}" > out/argv/${i}.txt`)].join('; ');
  stages.push(`  argv:\n    cmd: [sh, -c, ${JSON.stringify(argvScript)}]\n    outs: [out/argv]\n`);
  return `version: 1\nparams:\n${params}\nstages:\n${stages.join('')}`;
}

function expectNoPayloadRan(p: TestProject): void {
  expect(p.exists('pwned')).toBe(false);
  for (const name of [...Object.keys(CONTEXTS), 'argv']) expect(readdirSync(p.path(`out/${name}`))).not.toContain('pwned');
}

describe('params in shell commands', () => {
  it('reach the command exactly in every quoting context, and no payload runs', () => {
    const p = new TestProject({ 'pipeline.yaml': pipeline() });
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectNoPayloadRan(p);
    PAYLOADS.forEach((v, i) => {
      for (const [name, c] of Object.entries(CONTEXTS)) expect(p.read(`out/${name}/${i}.txt`), `${name} ${JSON.stringify(v)}`).toBe(c.expect(v));
      expect(p.read(`out/argv/${i}.txt`), `argv ${JSON.stringify(v)}`).toBe(v);
    });
  });

  it('hold for values given with -p too', () => {
    const p = new TestProject({ 'pipeline.yaml': pipeline() });
    const r = p.cli(['run', '-p', 'p0=$(touch pwned)', '-p', 'p1="`touch pwned`"', '-p', `p2=x'; touch pwned; 'y`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectNoPayloadRan(p);
    expect(p.read('out/single/0.txt')).toBe('$(touch pwned)');
    expect(p.read('out/double/1.txt')).toBe('`touch pwned`');
    expect(p.read('out/double/2.txt')).toBe("x'; touch pwned; 'y");
    expect(p.read('out/single/2.txt')).toBe("x'; touch pwned; 'y");
  });

  it('stop the load, at the reference, where no quoting can make them safe', () => {
    const p = new TestProject({ 'pipeline.yaml': `version: 1\nparams: { x: a }\nstages:\n  a:\n    cmd: echo \`echo \${params.x}\` > a.txt\n    outs: [a.txt]\n` });
    const r = p.cli(['run', '-p', 'x=$(touch pwned)']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pipeline.yaml:5:21: error: ${params.x} in a shell command sits in backquotes');
    expect(r.stderr).toContain('   5 |     cmd: echo `echo ${params.x}` > a.txt\n     |                     ^^^^^^^^^^^');
    expect(r.stderr).toContain('hint: use $( ... ) instead of backquotes: there ${params.x} is quoted for you');
    expect(p.exists('pwned')).toBe(false);
    expect(p.exists('a.txt')).toBe(false);
  });
});
