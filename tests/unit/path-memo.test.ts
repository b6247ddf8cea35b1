import { describe, expect, it } from 'vitest';
import { PathMemo } from '../../src/cache/path-memo.js';
import type { PathHash } from '../../src/cache/hash.js';

const hashOf = (rel: string): PathHash => ({ path: rel, hash: `h:${rel}` }) as unknown as PathHash;

describe('PathMemo', () => {
  it('hashes a path once while it is remembered, again once forgotten', async () => {
    const memo = new PathMemo();
    let calls = 0;
    const compute = async (rel: string) => (calls++, hashOf(rel));
    await Promise.all([memo.get('a/b.txt', compute), memo.get('a/b.txt', compute)]);
    expect(calls).toBe(1);
    memo.forget(['a/b.txt']);
    await memo.get('a/b.txt', compute);
    expect(calls).toBe(2);
  });

  it('forgetting a path drops the folders holding it and everything inside it, nothing else', async () => {
    const memo = new PathMemo();
    const keys = ['r', 'r/x', 'r/x/1.json', 'r/x/deep/2.json', 'r/xy/3.json', 'r/y.txt', 'other/4.txt'];
    for (const k of keys) await memo.get(k, async (rel) => hashOf(rel));
    memo.forget(['r/x']);
    let recomputed: string[] = [];
    for (const k of keys) await memo.get(k, async (rel) => (recomputed.push(rel), hashOf(rel)));
    expect(recomputed.sort()).toEqual(['r', 'r/x', 'r/x/1.json', 'r/x/deep/2.json']);
    recomputed = [];
    memo.forget(['r/x/deep/2.json']);
    for (const k of keys) await memo.get(k, async (rel) => (recomputed.push(rel), hashOf(rel)));
    expect(recomputed.sort()).toEqual(['r', 'r/x', 'r/x/deep/2.json']);
  });

  it('does not remember a hash that failed', async () => {
    const memo = new PathMemo();
    await expect(memo.get('gone.txt', async () => { throw new Error('ENOENT'); })).rejects.toThrow('ENOENT');
    expect(memo.size).toBe(0);
    await expect(memo.get('gone.txt', async (rel) => hashOf(rel))).resolves.toMatchObject({ path: 'gone.txt' });
  });
});
