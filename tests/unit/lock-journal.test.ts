// The lock's journal (src/cache/lock-journal.ts) on real files: a line per recorded stage, torn and
// corrupt lines, lines of a lock that was rewritten since, and the order in which a reader that
// holds no run lock reads journal and lock while a run folds one into the other.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyJournal, journalLine, JournaledLock, readJournal } from '../../src/cache/lock-journal.js';
import { NO_LOCK, readLockChecked, writeLock, type LockEntry } from '../../src/cache/lock.js';

function entry(fingerprint: string, out = 'o/a.txt'): LockEntry {
  return {
    fingerprint,
    command: `echo ${fingerprint} > ${out}`,
    env: { LC_NUMERIC: 'C', API_KEY: 'sha256:0123456789abcdef (secret)' },
    cwd: '.',
    params: { pixel: [685, 1039], tolerance: 1e-6, config: 'multi-phi', none: null },
    deps: { 'in.txt': 'a'.repeat(64) },
    upstream: { prep: { 'o/prep.txt': 'b'.repeat(64) } },
    outs: { [out]: { hash: 'c'.repeat(64), size: 12 } },
    tool: '0.1.0',
    definitionHash: 'd'.repeat(64),
  };
}

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-journal-'));
  const files = { lock: join(dir, 'evidence.lock'), mirror: join(dir, 'lock-mirror.json'), journal: join(dir, 'lock.journal') };
  return { dir, ...files, open: () => new JournaledLock(files.lock, files.mirror, files.journal) };
}

/** What a reader that holds no run lock sees, reading the journal first and the lock second. */
const readBoth = (p: ReturnType<typeof project>, journal = readJournal(p.journal)) => applyJournal(readLockChecked(p.lock, p.mirror), journal);

describe('journal lines', () => {
  it('read back as the records written, in order, each checked by its own checksum', () => {
    const p = project();
    writeFileSync(p.journal, journalLine(NO_LOCK, 'a', entry('fa')) + journalLine(NO_LOCK, 'b', entry('fb')) + journalLine(NO_LOCK, 'a', entry('fa2')));
    const read = readJournal(p.journal);
    expect(read.problems).toEqual([]);
    expect(read.records.map((r) => [r.stage, r.entry.fingerprint])).toEqual([['a', 'fa'], ['b', 'fb'], ['a', 'fa2']]);
    expect(read.records[0]!.entry).toEqual(entry('fa'));
    // The later line of a stage wins.
    expect(readBoth(p).lock.stages.a!.fingerprint).toBe('fa2');
    // Each line is JSON on its own (jq can read the journal).
    for (const line of readFileSync(p.journal, 'utf8').trim().split('\n')) expect(JSON.parse(line).sum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leave out a torn last line without a word, whatever point it was cut at', () => {
    const p = project();
    const whole = journalLine(NO_LOCK, 'a', entry('fa'));
    const next = journalLine(NO_LOCK, 'b', entry('fb'));
    for (const cut of [1, 10, next.length / 2, next.length - 3, next.length - 1]) {
      writeFileSync(p.journal, whole + next.slice(0, cut));
      const read = readJournal(p.journal);
      expect(read.problems, `cut at ${cut}`).toEqual([]);
      expect(read.records.map((r) => r.stage), `cut at ${cut}`).toEqual(['a']);
    }
  });

  it('name a complete line that fails its checksum or holds no lock entry, and apply the others', () => {
    const p = project();
    const good = journalLine(NO_LOCK, 'a', entry('fa'));
    const flipped = journalLine(NO_LOCK, 'b', entry('fb')).replace('"fingerprint":"fb"', '"fingerprint":"fx"');
    const head = JSON.stringify({ v: 1, base: NO_LOCK, stage: 'c', entry: { fingerprint: 7 } }).slice(0, -1);
    const wrongShape = `${head},"sum":"${createHash('sha256').update(head).digest('hex')}"}\n`;
    writeFileSync(p.journal, good + flipped + wrongShape + 'garbage\n' + journalLine(NO_LOCK, 'd', entry('fd')));
    const read = readJournal(p.journal);
    expect(read.records.map((r) => r.stage)).toEqual(['a', 'd']);
    expect(read.problems).toEqual([
      'lock.journal line 2 fails its checksum',
      "lock.journal line 3 stage 'c': 'fingerprint' is not a string",
      'lock.journal line 4 fails its checksum',
    ]);
  });

  it('apply only to the lock they extend: lines of a lock rewritten since add nothing', () => {
    const p = project();
    const lock = p.open();
    lock.load();
    lock.record('a', entry('fa'));
    lock.compact();
    const before = readFileSync(p.lock, 'utf8');
    // A journal written against the lock as it was before (a checkout replaced it since).
    writeFileSync(p.journal, journalLine(NO_LOCK, 'b', entry('fb')));
    const state = readBoth(p);
    expect(state.applied).toBe(0);
    expect(Object.keys(state.lock.stages)).toEqual(['a']);
    // A run then removes the journal and leaves the lock as it is.
    const next = p.open();
    next.load();
    next.compact();
    expect(existsSync(p.journal)).toBe(false);
    expect(readFileSync(p.lock, 'utf8')).toBe(before);
  });
});

describe('a journaled lock', () => {
  it('records a stage as one appended line, never touching evidence.lock, and writes the lock once when compacted', () => {
    const p = project();
    const first = p.open();
    first.load();
    first.record('a', entry('fa'));
    first.compact();
    const lockText = readFileSync(p.lock, 'utf8');
    const lockIno = statSync(p.lock).ino;

    const run = p.open();
    run.load();
    for (const name of ['b', 'c', 'd']) run.record(name, entry(`f${name}`, `o/${name}.txt`));
    expect(readFileSync(p.lock, 'utf8')).toBe(lockText);
    expect(statSync(p.lock).ino).toBe(lockIno);
    expect(readFileSync(p.journal, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    // Another reader (status) sees every recorded stage.
    expect(Object.keys(readBoth(p).lock.stages).sort()).toEqual(['a', 'b', 'c', 'd']);

    run.compact();
    expect(existsSync(p.journal)).toBe(false);
    expect(statSync(p.lock).ino).not.toBe(lockIno);
    const after = readBoth(p);
    expect(after.lock).toEqual(run.lock);
    expect(Object.keys(after.lock.stages).sort()).toEqual(['a', 'b', 'c', 'd']);
    // Nothing to fold in: no write at all.
    const ino = statSync(p.lock).ino;
    run.compact();
    expect(statSync(p.lock).ino).toBe(ino);
  });

  it('after a run killed before evidence.lock existed, finds what it recorded', () => {
    const p = project();
    const killed = p.open();
    killed.load();
    killed.record('a', entry('fa'));
    appendFileSync(p.journal, journalLine(NO_LOCK, 'b', entry('fb')).slice(0, 40));
    expect(existsSync(p.lock)).toBe(false);
    const next = p.open();
    next.load();
    expect(Object.keys(next.lock.stages)).toEqual(['a']);
    expect(next.problems).toEqual([]);
    next.compact();
    expect(existsSync(p.journal)).toBe(false);
    expect(Object.keys(readLockChecked(p.lock).lock.stages)).toEqual(['a']);
  });

  it('after a kill between writing the lock and removing the journal, does not apply the lines twice or rewrite the lock', () => {
    const p = project();
    const run = p.open();
    run.load();
    run.record('a', entry('fa'));
    const journal = readFileSync(p.journal, 'utf8');
    run.compact();
    // The kill: the journal is still there, the lock already holds its lines.
    writeFileSync(p.journal, journal);
    const ino = statSync(p.lock).ino;
    const next = p.open();
    next.load();
    expect(next.lock).toEqual(run.lock);
    next.compact();
    expect(existsSync(p.journal)).toBe(false);
    expect(statSync(p.lock).ino).toBe(ino);
  });
});

describe('reloading (a watch cycle)', () => {
  it('keeps the state in memory when the lock is the one this process wrote, and reads one another process wrote', () => {
    const p = project();
    const watch = p.open();
    watch.load();
    watch.record('a', entry('fa'));
    watch.compact();
    // A mark only memory has: a reload that read the file back would drop it.
    watch.lock.stages.memoryOnly = entry('fm');
    watch.load();
    expect(Object.keys(watch.lock.stages).sort()).toEqual(['a', 'memoryOnly']);

    // An `evidence run` between two cycles rewrites the lock.
    const other = p.open();
    other.load();
    other.record('b', entry('fb'));
    other.compact();
    watch.load();
    expect(Object.keys(watch.lock.stages).sort()).toEqual(['a', 'b']);
  });

  it('reads lock and journal again when a journal appeared since', () => {
    const p = project();
    const watch = p.open();
    watch.load();
    watch.record('a', entry('fa'));
    watch.compact();
    const killed = p.open();
    killed.load();
    killed.record('b', entry('fb'));
    watch.load();
    expect(Object.keys(watch.lock.stages).sort()).toEqual(['a', 'b']);
  });
});

describe('a reader that holds no run lock, while a run compacts', () => {
  it('that read the journal before the compaction and the lock after it sees the compacted lock', () => {
    const p = project();
    const run = p.open();
    run.load();
    run.record('a', entry('fa'));
    run.compact();
    run.record('b', entry('fb'));
    run.record('c', entry('fc'));
    const journalSeen = readJournal(p.journal);
    run.compact();
    run.record('d', entry('fd'));
    const state = readBoth(p, journalSeen);
    // The lock as compacted: a, b, c; the lines read earlier extend an older lock and add nothing.
    expect(Object.keys(state.lock.stages).sort()).toEqual(['a', 'b', 'c']);
    expect(state.applied).toBe(0);
  });

  it('that read the journal while a line was half written sees the lines before it', () => {
    const p = project();
    const run = p.open();
    run.load();
    run.record('a', entry('fa'));
    const line = journalLine(readLockChecked(p.lock).sha, 'b', entry('fb'));
    appendFileSync(p.journal, line.slice(0, 100));
    expect(Object.keys(readBoth(p).lock.stages)).toEqual(['a']);
    appendFileSync(p.journal, line.slice(100));
    expect(Object.keys(readBoth(p).lock.stages)).toEqual(['a', 'b']);
  });
});

describe('the lock mirror', () => {
  const mirrorOf = (p: ReturnType<typeof project>) => JSON.parse(readFileSync(p.mirror, 'utf8')) as { signature?: string; at?: number };
  const age = (file: string) => {
    const old = new Date(Date.now() - 10_000);
    utimesSync(file, old, old);
  };

  it('is trusted by the lock file\'s identity once that has settled, and never past an edit of the same size', () => {
    const p = project();
    writeLock(p.lock, { version: 1, stages: { a: entry('fa') } }, p.mirror);
    expect(mirrorOf(p).signature).toMatch(/^[0-9]+:[0-9]+:[0-9]+:[0-9]+$/);
    // Just written: within the racy window, so read and hashed; the same text again.
    expect(readLockChecked(p.lock, p.mirror).lock.stages.a!.fingerprint).toBe('fa');
    age(p.lock);
    expect(readLockChecked(p.lock, p.mirror).lock.stages.a!.fingerprint).toBe('fa');
    const signed = mirrorOf(p);
    // Verified by content and settled: the next read takes the mirror as it is (a content check
    // would have signed it again, at a later millisecond).
    const t = Date.now();
    while (Date.now() === t) {
      // the next millisecond
    }
    expect(readLockChecked(p.lock, p.mirror).lock.stages.a!.fingerprint).toBe('fa');
    expect(mirrorOf(p)).toEqual(signed);
    // Same length, other fingerprint, written in place: the inode stays, the time moves.
    const text = readFileSync(p.lock, 'utf8');
    writeFileSync(p.lock, text.replace('fingerprint: fa', 'fingerprint: fb'));
    expect(statSync(p.lock).size).toBe(text.length);
    expect(readLockChecked(p.lock, p.mirror).lock.stages.a!.fingerprint).toBe('fb');
  });

  it('takes the same text under another identity (a copy) by its hash, and signs the copy', () => {
    const p = project();
    writeLock(p.lock, { version: 1, stages: { a: entry('fa') } }, p.mirror);
    const before = mirrorOf(p).signature;
    const text = readFileSync(p.lock, 'utf8');
    rmSync(p.lock);
    writeFileSync(p.lock, text);
    age(p.lock);
    const read = readLockChecked(p.lock, p.mirror);
    expect(read.lock.stages.a!.fingerprint).toBe('fa');
    expect(read.sha).toBe(createHash('sha256').update(text).digest('hex'));
    const st = statSync(p.lock, { bigint: true });
    expect(mirrorOf(p).signature).toBe(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`);
    expect(mirrorOf(p).signature).not.toBe(before);
  });
});
