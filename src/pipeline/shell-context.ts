// Where each ${params.x} of a shell command sits, as /bin/sh will read it: unquoted, inside '...',
// inside "...", or somewhere a value cannot be quoted safely. The interpolator quotes a value for
// its context (src/pipeline/interpolate.ts); the loader rejects the rest with a located diagnostic.
// A scanner, not a shell parser: it follows quotes, backslashes, $( ), comments and here-documents,
// and gives up (every later reference is "opaque") at constructs whose end it cannot find for sure
// (`${VAR:-word}`, $(( )), $'...', `case` inside $( )), so a misread never turns into a wrongly
// quoted value. Knows nothing about params' values or the YAML around the command.
import { findParamRefs, type ParamRef } from './param-refs.js';

export type ShellContext =
  | { kind: 'bare' }
  | { kind: 'single' }
  | { kind: 'double' }
  /** Nowhere a value can be made safe: the reference is rejected. */
  | { kind: 'unsafe'; why: string; hint: string };

export interface ShellRef extends ParamRef {
  context: ShellContext;
}

type Frame =
  | { kind: 'top' }
  | { kind: 'cmdsub'; depth: number }
  | { kind: 'single' }
  | { kind: 'double' };

const WORD_START = /[\s;&|()<>]/;
const ENV_HINT = 'pass it through env: (`env: { X: "${params.x}" }`) and write "$X" in the command';

/** The context of every ${params.x} reference in a shell command string, in order. */
export function shellRefs(cmd: string): ShellRef[] {
  const refs = findParamRefs(cmd);
  const out: ShellRef[] = [];
  const refAt = new Map(refs.map((r) => [r.index, r]));
  const endOf = (r: ParamRef) => r.index + r.text.length;
  const stack: Frame[] = [{ kind: 'top' }];
  /** Set once the scanner meets something it cannot follow: every later reference is rejected. */
  let opaque: string | undefined;
  /** Here-documents announced on the current line, bodies start at the next newline. */
  const pendingHeredocs: Array<{ delimiter: string; stripTabs: boolean }> = [];
  let i = 0;
  const top = () => stack[stack.length - 1]!;
  const unquoted = () => top().kind === 'top' || top().kind === 'cmdsub';
  const push = (r: ParamRef, context: ShellContext) => out.push({ ...r, context });

  while (i < cmd.length) {
    const ref = refAt.get(i);
    if (ref) {
      const f = top().kind;
      if (opaque) push(ref, { kind: 'unsafe', why: `comes after ${opaque}, which evidence cannot follow to quote it`, hint: ENV_HINT });
      else if (f === 'single') push(ref, { kind: 'single' });
      // `$'...'` is a different kind of quote in bash.
      else if (i > 0 && cmd[i - 1] === '$') push(ref, { kind: 'unsafe', why: 'follows a `$`', hint: 'write ${params.x} unquoted: it is quoted for you' });
      else push(ref, f === 'double' ? { kind: 'double' } : { kind: 'bare' });
      i = endOf(ref);
      continue;
    }
    if (opaque) {
      i++;
      continue;
    }
    const c = cmd[i]!;
    const frame = top();
    if (frame.kind === 'single') {
      if (c === "'") stack.pop();
      i++;
      continue;
    }
    if (c === '\\') {
      // An escaped `$` of a reference would escape the quote the value is wrapped in.
      const escaped = refAt.get(i + 1);
      if (escaped) {
        push(escaped, { kind: 'unsafe', why: 'follows a backslash', hint: 'write ${params.x} unquoted: it is quoted for you' });
        i = endOf(escaped);
      } else i += 2;
      continue;
    }
    if (frame.kind === 'double') {
      if (c === '"') {
        stack.pop();
        i++;
        continue;
      }
    } else {
      // Unquoted (top level or inside $( )).
      if (c === "'") {
        stack.push({ kind: 'single' });
        i++;
        continue;
      }
      if (c === '"') {
        stack.push({ kind: 'double' });
        i++;
        continue;
      }
      if (c === '#' && (i === 0 || WORD_START.test(cmd[i - 1]!))) {
        const end = cmd.indexOf('\n', i);
        const stop = end < 0 ? cmd.length : end;
        for (const r of refs) {
          if (r.index > i && r.index < stop) push(r, { kind: 'unsafe', why: 'sits in a shell comment, which a newline in its value would end', hint: 'move it out of the comment' });
        }
        i = stop;
        continue;
      }
      if (c === '<' && cmd.startsWith('<<', i) && !cmd.startsWith('<<<', i)) {
        // The delimiter word may be quoted in parts (<<'EOF', <<"E"OF, <<\EOF); the shell removes the quotes.
        const m = /^<<(-?)[ \t]*((?:'[^'\n]*'|"[^"\n]*"|\\.|[^\s;&|()<>'"\\])+)/.exec(cmd.slice(i));
        if (m) {
          pendingHeredocs.push({ delimiter: m[2]!.replace(/'([^']*)'|"([^"]*)"|\\(.)/g, (_, a, b, c) => a ?? b ?? c), stripTabs: m[1] === '-' });
          i += m[0].length;
          continue;
        }
      }
      if (c === '\n' && pendingHeredocs.length) {
        i = skipHeredocBodies(cmd, i + 1, pendingHeredocs.splice(0), refs, (r) =>
          push(r, { kind: 'unsafe', why: 'sits in a here-document, where no quoting applies', hint: ENV_HINT }),
        );
        continue;
      }
      if (frame.kind === 'cmdsub') {
        if (c === '(') frame.depth++;
        else if (c === ')') {
          if (frame.depth === 0) stack.pop();
          else frame.depth--;
          i++;
          continue;
        } else if (cmd.startsWith('case', i) && (i === 0 || WORD_START.test(cmd[i - 1]!)) && !/[A-Za-z0-9_]/.test(cmd[i + 4] ?? '')) {
          // `case x in a) ...` has an unbalanced `)`: where this $( ) ends is no longer certain.
          opaque = 'a `case` inside $( )';
          continue;
        }
      }
    }
    // Both unquoted and inside "...": backquotes and $-expansions.
    if (c === '`') {
      const end = closingBackquote(cmd, i + 1);
      for (const r of refs) {
        if (r.index > i && r.index < end) push(r, { kind: 'unsafe', why: 'sits in backquotes', hint: 'use $( ... ) instead of backquotes: there ${params.x} is quoted for you' });
      }
      i = end + 1;
      continue;
    }
    if (c === '$') {
      const next = cmd[i + 1];
      if (next === '(' && cmd[i + 2] === '(') {
        opaque = 'an arithmetic expansion $(( ))';
        continue;
      }
      if (next === '(') {
        stack.push({ kind: 'cmdsub', depth: 0 });
        i += 2;
        continue;
      }
      if (next === "'" && unquoted()) {
        opaque = "a $'...' string";
        continue;
      }
      if (next === '{') {
        // ${NAME} is simple and common; anything longer (${X:-word}, ${#X}, ${X%.*}) has its own quoting rules.
        const m = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}|^\$\{[0-9@*#?$!-]\}/.exec(cmd.slice(i));
        if (m) {
          i += m[0].length;
          continue;
        }
        opaque = 'a `${...}` expansion with an operator';
        continue;
      }
    }
    i++;
  }
  // A reference the scan stepped over (a here-document's delimiter, say) is never quoted by guess.
  const seen = new Set(out.map((r) => r.index));
  for (const r of refs) if (!seen.has(r.index)) out.push({ ...r, context: { kind: 'unsafe', why: 'sits where evidence cannot tell how the shell reads it', hint: ENV_HINT } });
  return out.sort((a, b) => a.index - b.index);
}

/** The index of the backquote that ends a `...` substitution opened before `from` (or the end). */
function closingBackquote(cmd: string, from: number): number {
  for (let j = from; j < cmd.length; j++) {
    if (cmd[j] === '\\') j++;
    else if (cmd[j] === '`') return j;
  }
  return cmd.length;
}

/** Skips here-document bodies starting at `from`; returns the index after the last delimiter line. */
function skipHeredocBodies(
  cmd: string,
  from: number,
  docs: Array<{ delimiter: string; stripTabs: boolean }>,
  refs: ParamRef[],
  inBody: (r: ParamRef) => void,
): number {
  let pos = from;
  for (const doc of docs) {
    const start = pos;
    for (;;) {
      if (pos >= cmd.length) break;
      const nl = cmd.indexOf('\n', pos);
      const lineEnd = nl < 0 ? cmd.length : nl;
      let line = cmd.slice(pos, lineEnd);
      if (doc.stripTabs) line = line.replace(/^\t+/, '');
      pos = nl < 0 ? cmd.length : nl + 1;
      if (line === doc.delimiter) break;
    }
    for (const r of refs) if (r.index >= start && r.index < pos) inBody(r);
  }
  return pos;
}
