// notes.md grows only when the evidence changes. The rule (stages/notes/identity.ts) on hand-made
// notes, then end to end with the compiled CLI in a git repository: a comment-only edit to the port
// re-runs the snapshot and the notes stage but appends nothing; a change of verdict appends one
// section; in watch mode a save that does not change the result appends nothing, and one that
// does appends once.
import { afterEach, describe, expect, it } from 'vitest';
import { TestProject } from '../helpers/project.js';
import { WatchProcess } from '../watch/harness.js';
import { alreadyRecorded, identityMarker, markersIn, type SectionIdentity } from '../../stages/notes/identity.js';

const id = (writer: SectionIdentity['writer'], subject: string, n: number): SectionIdentity => ({ writer, subject, identity: `sha256:${String(n).repeat(64).slice(0, 64)}` });
const notesOf = (...ids: SectionIdentity[]) => Buffer.from(ids.map((i) => `## a section\n\ntext\n\n${identityMarker(i)}\n`).join('\n'));

describe('which section a notes file already holds', () => {
  it('skips only when the latest section of the same writer and subject has the same identity', () => {
    expect(alreadyRecorded(notesOf(), id('write-notes', 'notes', 1))).toBe(false);
    expect(alreadyRecorded(notesOf(id('write-notes', 'notes', 1)), id('write-notes', 'notes', 1))).toBe(true);
    expect(alreadyRecorded(notesOf(id('write-notes', 'notes', 1)), id('write-notes', 'notes', 2))).toBe(false);
    // A → B → A: the evidence changed since the latest section, so the third is recorded.
    expect(alreadyRecorded(notesOf(id('write-notes', 'notes', 1), id('write-notes', 'notes', 2)), id('write-notes', 'notes', 1))).toBe(false);
    // Two write-notes stages sharing a file do not re-append each other's.
    expect(alreadyRecorded(notesOf(id('write-notes', 'a', 1), id('write-notes', 'b', 2)), id('write-notes', 'a', 1))).toBe(true);
  });

  it('records a recovery after a failure and a failure after a recovery', () => {
    expect(alreadyRecorded(notesOf(id('write-notes', 'notes', 1), id('blocker', 'trace', 3)), id('write-notes', 'notes', 1))).toBe(false);
    expect(alreadyRecorded(notesOf(id('blocker', 'trace', 3), id('write-notes', 'notes', 1)), id('blocker', 'trace', 3))).toBe(false);
    expect(alreadyRecorded(notesOf(id('blocker', 'trace', 3), id('blocker', 'parse', 4)), id('blocker', 'trace', 3))).toBe(true);
  });

  it('reads markers through CRLF line ends and bytes of any encoding, and ignores look-alikes inside lines', () => {
    const marker = identityMarker(id('blocker', 'stage.with-odd_name', 5));
    const notes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(`x ${marker}\r\n${marker}\r\n`)]);
    expect(markersIn(notes)).toEqual([{ writer: 'blocker', subject: 'stage.with-odd_name', identity: id('blocker', '', 5).identity }]);
    // A marker of write-notes 2 (no subject) is read, and matches no subject.
    const old = Buffer.from(`<!-- evidence:write-notes ${id('write-notes', '', 1).identity} -->\n`);
    expect(markersIn(old)).toEqual([{ writer: 'write-notes', subject: null, identity: id('write-notes', '', 1).identity }]);
    expect(alreadyRecorded(old, id('write-notes', 'notes', 1))).toBe(false);
  });
});

// A port whose trace depends on one value; the reference prints the same one.
const PORT = (value: string, comment = 'the port') => `# ${comment}\necho "TRACE_TS: phi ${value}"\necho "TRACE_TS: k 2"\n`;
const PIPELINE = `version: 1
stages:
  snapshot:
    uses: snapshot-config
    with: { inputs: [port.sh] }
    deps: [port.sh]
    outs: [reports/snapshot.json]
  ref:
    cmd: 'printf "TRACE_C: phi 0.5\\nTRACE_C: k 2\\n"'
    stdout: reports/ref.log
  port:
    cmd: sh port.sh
    deps: [port.sh]
    stdout: reports/port.log
  parse_ref:
    uses: parse-trace
    with: { input: reports/ref.log, prefix: TRACE_C }
    deps: [reports/ref.log]
    outs: [reports/ref.json]
  parse_port:
    uses: parse-trace
    with: { input: reports/port.log, prefix: TRACE_TS }
    deps: [reports/port.log]
    outs: [reports/port.json]
  compare:
    uses: compare-traces
    with: { reference: reports/ref.json, port: reports/port.json }
    deps: [reports/ref.json, reports/port.json]
    outs: [reports/comparison.json]
  notes:
    uses: write-notes
    with: { notes: reports/notes.md, comparison: reports/comparison.json, snapshot: reports/snapshot.json }
    deps: [reports/comparison.json, reports/snapshot.json]
    outs: [{ path: reports/notes.md, cache: false }]
`;

function project(): TestProject {
  const p = new TestProject({ 'pipeline.yaml': PIPELINE, 'port.sh': PORT('0.5') });
  p.initGit();
  return p;
}

const sectionsIn = (notes: string) => notes.match(/^## \d{4}-/gm)?.length ?? 0;

let watching: WatchProcess[] = [];
afterEach(() => {
  for (const w of watching) w.kill();
  watching = [];
});

describe('notes.md over a run of edits', () => {
  it('a comment-only port edit appends nothing though notes re-runs; a changed verdict appends one section', () => {
    const p = project();
    const first = p.cli(['run']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const once = p.read('reports/notes.md');
    expect(sectionsIn(once)).toBe(1);
    expect(once).toMatch(/MATCH/);

    p.write('port.sh', PORT('0.5', 'the port, with a comment that changes nothing'));
    const r = p.cli(['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The snapshot saw the edit, and so did the notes stage: it ran, and found nothing new to say.
    expect(r.stdout).toMatch(/▶ snapshot started/);
    expect(r.stdout).toMatch(/▶ notes started/);
    expect(r.stdout).toMatch(/• compare up to date/);
    expect(p.read('reports/notes.md')).toBe(once);

    p.write('port.sh', PORT('0.7'));
    const changed = p.cli(['run']);
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    const twice = p.read('reports/notes.md');
    expect(twice.startsWith(once)).toBe(true);
    expect(sectionsIn(twice)).toBe(2);
    expect(twice.slice(once.length)).toMatch(/DIVERGENT/);
    // Up to date afterwards: nothing runs, nothing is appended.
    expect(p.cli(['run']).code).toBe(0);
    expect(p.read('reports/notes.md')).toBe(twice);
  });

  it('in watch mode, appends once per distinct result: not for a save that leaves it as it was', async () => {
    const p = project();
    const w = new WatchProcess(p);
    watching.push(w);
    await w.waitForCycle(1, 120_000);
    const once = p.read('reports/notes.md');
    expect(sectionsIn(once)).toBe(1);

    p.write('port.sh', PORT('0.5', 'a comment, saved'));
    await w.waitForCycle(2, 120_000);
    expect(w.cycleLine(2)).toMatch(/ran/);
    expect(p.read('reports/notes.md')).toBe(once);

    p.write('port.sh', PORT('0.9'));
    await w.waitForCycle(3, 120_000);
    const after = p.read('reports/notes.md');
    expect(sectionsIn(after)).toBe(2);
    expect(after.startsWith(once)).toBe(true);

    // The same result again, from another comment: still two sections.
    p.write('port.sh', PORT('0.9', 'another comment'));
    await w.waitForCycle(4, 120_000);
    expect(p.read('reports/notes.md')).toBe(after);
    expect(await w.stop()).toBe(130);
  });
});
