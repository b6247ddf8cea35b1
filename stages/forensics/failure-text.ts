// The blocker's texts: attempt_failed.log, the notes section, and what makes two failures the same
// one (the section's identity). Pure: a record in, text out.
import type { FailureInfo } from '../../src/stage-api/index.js';
import type { Traceback } from './traceback.js';
import { digestOf } from '../notes/identity.js';

/** What the texts need of the blocker record. */
export interface FailureRecord {
  time: string;
  stage: string;
  reason: FailureInfo['reason'];
  message: string;
  exitCode: number | null;
  signal: string | null;
  command: string;
  env: Record<string, string>;
  gitSha: string | null;
  traceback: Traceback;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A Markdown code fence longer than any backtick run inside `text`. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

export function attemptLog(f: FailureInfo, rec: FailureRecord, stdout: string, stderr: string): string {
  const envLines = Object.entries(rec.env).map(([k, v]) => `  ${k}=${v}`);
  return [
    `# evidence: attempt failed`,
    `stage:     ${f.stage}`,
    `reason:    ${f.reason}: ${rec.message.split('\n')[0]}`,
    `command:   ${rec.command}`,
    `cwd:       ${f.cwd}`,
    `env (set by the pipeline):${envLines.length ? '' : ' (none)'}`,
    ...envLines,
    `exit code: ${f.exitCode ?? '-'}`,
    `signal:    ${f.signal ?? '-'}`,
    `duration:  ${seconds(f.durationMs)}`,
    `git HEAD:  ${rec.gitSha ?? '-'}`,
    `time:      ${rec.time}`,
    '',
    `----- stdout (${Buffer.byteLength(stdout)} bytes) -----`,
    stdout.replace(/\n$/, ''),
    `----- stderr (${Buffer.byteLength(stderr)} bytes) -----`,
    stderr.replace(/\n$/, ''),
    `----- end -----`,
    '',
  ].join('\n');
}

export function notesSection(rec: FailureRecord, artifacts: string[]): string {
  const when = rec.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const cmdFence = fence(rec.command);
  const tbFence = fence(rec.traceback.text);
  const lines = [
    `## ${when} — stage \`${rec.stage}\` failed (${rec.reason})`,
    '',
    rec.message.split('\n')[0]!,
    '',
    'Command:',
    '',
    cmdFence,
    rec.command,
    cmdFence,
    '',
  ];
  if (rec.traceback.text) lines.push(`Traceback (${rec.traceback.kind}):`, '', tbFence, rec.traceback.text, tbFence, '');
  lines.push(`Git HEAD: ${rec.gitSha ?? 'none'}. Forensics: ${artifacts.map((a) => `\`${a}\``).join(', ')}.`, '');
  return lines.join('\n');
}

/**
 * The same failure twice has the same identity: the stage, the reason, the message, the command,
 * the exit code or signal and the traceback. Not the time, the duration, HEAD or the working tree
 * (an edit that did not fix the failure is the same failure). A sanitizer's pid (`==4242==`) and
 * memory addresses change on every run and are set aside.
 */
export function failureIdentity(rec: FailureRecord): string {
  const steady = (text: string) => text.replace(/==\d+==/g, '==PID==').replace(/\b0x[0-9a-fA-F]{6,}\b/g, '0x…');
  return digestOf({
    stage: rec.stage,
    reason: rec.reason,
    message: steady(rec.message),
    command: rec.command,
    exitCode: rec.exitCode,
    signal: rec.signal,
    traceback: { kind: rec.traceback.kind, text: steady(rec.traceback.text) },
  });
}
