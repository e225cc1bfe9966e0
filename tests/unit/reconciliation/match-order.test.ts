import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints } from '../../../src/domain/reconciliation/match-order.js';

describe('matching order', () => {
  it('compares strings as their UTF-8 bytes compare (the stores sort so), whatever the characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2_000 },
    );
    // Where JavaScript's code-unit order is wrong: U+FFFF sorts before an emoji (U+1F600) in bytes.
    expect('😀' < '\uffff').toBe(true);
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
  });
});
