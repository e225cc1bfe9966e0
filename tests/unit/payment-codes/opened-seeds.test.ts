import { describe, expect, it } from 'vitest';
import { OpenedSeeds } from '../../../src/commands/payment-codes/opened-seeds.js';

describe('opened seeds (an instance keeps seed keys, bounded in number and time)', () => {
  const seed = (fill: number) => Buffer.alloc(20, fill);

  it('keeps a key for ttlMs from when it was opened, however often it is used', () => {
    let nowMs = 0;
    const opened = new OpenedSeeds({ maxSeeds: 10, ttlMs: 1_000 }, () => nowMs);
    const key = opened.put('a', seed(1));
    expect(key.export()).toEqual(seed(1));
    nowMs = 999;
    expect(opened.get('a')).toBe(key);
    nowMs = 1_000;
    expect(opened.get('a')).toBeUndefined();
    expect(opened.size).toBe(0);
  });

  it('holds at most maxSeeds, the least recently used going first', () => {
    const opened = new OpenedSeeds({ maxSeeds: 2, ttlMs: 60_000 }, () => 0);
    opened.put('a', seed(1));
    opened.put('b', seed(2));
    expect(opened.get('a')).toBeDefined(); // a is now the most recently used
    opened.put('c', seed(3));
    expect(opened.size).toBe(2);
    expect(opened.get('b')).toBeUndefined();
    expect(opened.get('a')).toBeDefined();
    expect(opened.get('c')).toBeDefined();
  });

  it('forgets an evicted seed at once; maxSeeds 0 keeps nothing', () => {
    const opened = new OpenedSeeds({ maxSeeds: 2, ttlMs: 60_000 }, () => 0);
    opened.put('a', seed(1));
    opened.evict('a');
    expect(opened.get('a')).toBeUndefined();
    const none = new OpenedSeeds({ maxSeeds: 0, ttlMs: 60_000 }, () => 0);
    expect(none.put('a', seed(1)).export()).toEqual(seed(1));
    expect(none.get('a')).toBeUndefined();
  });

  it('keeps a copy: wiping the bytes after does not change the key', () => {
    const opened = new OpenedSeeds({ maxSeeds: 2, ttlMs: 60_000 }, () => 0);
    const bytes = seed(7);
    opened.put('a', bytes);
    bytes.fill(0);
    expect(opened.get('a')!.export()).toEqual(seed(7));
  });
});
