import { describe, expect, it } from 'vitest';
import { diffFields } from '../../src/audit/document-diff.js';
import { compareIds } from '../../src/audit/read-model-dump.js';

describe('diffFields', () => {
  it('names each differing field by its path, and marks a side that lacks it by leaving the key out', () => {
    const stored = { balanceMinor: '10', limits: { daily: '5', monthly: '9' }, tags: ['a'], gone: 1 };
    const replayed = { balanceMinor: '12', limits: { daily: '5', monthly: '8' }, tags: ['a', 'b'], added: null };
    expect(diffFields(stored, replayed)).toEqual([
      { field: 'added', replayed: null },
      { field: 'balanceMinor', stored: '10', replayed: '12' },
      { field: 'gone', stored: 1 },
      { field: 'limits.monthly', stored: '9', replayed: '8' },
      { field: 'tags', stored: ['a'], replayed: ['a', 'b'] },
    ]);
  });

  it('finds nothing between equal documents whatever their key order', () => {
    expect(diffFields({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });
});

describe('compareIds', () => {
  it('orders by code point (as the stores do), not by UTF-16 unit', () => {
    // U+E000 is one UTF-16 unit above the emoji's high surrogate (0xD83D), but below the emoji as a code point.
    expect(compareIds('\uE000', '\u{1F600}')).toBeLessThan(0);
    expect('\uE000' < '\u{1F600}').toBe(false);
    expect(compareIds('a', 'a')).toBe(0);
  });
});
