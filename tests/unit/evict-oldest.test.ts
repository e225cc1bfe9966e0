import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evictOldest } from '../../src/domain/shared/evict-oldest.js';

describe('evictOldest', () => {
  it('keeps a cache within its limit, dropping least recently used entries first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 2_000 }),
        (limit, uses) => {
          const map = new Map<number, number>();
          const recency: number[] = [];
          for (const key of uses) {
            map.delete(key);
            map.set(key, key);
            const at = recency.indexOf(key);
            if (at >= 0) recency.splice(at, 1);
            recency.push(key);
            evictOldest(map, limit);
            expect(map.size).toBeLessThanOrEqual(limit);
            // What is kept is always the most recently used keys, in order.
            expect([...map.keys()]).toEqual(recency.slice(recency.length - map.size));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('drops 1/64 of the limit at once when the limit is exceeded', () => {
    const map = new Map<number, number>();
    for (let key = 0; key < 6_400; key += 1) map.set(key, key);
    evictOldest(map, 6_400);
    expect(map.size).toBe(6_400);
    map.set(6_400, 6_400);
    evictOldest(map, 6_400);
    expect(map.size).toBe(6_300);
    expect(map.has(100)).toBe(false);
    expect(map.has(101)).toBe(true);
  });
});
