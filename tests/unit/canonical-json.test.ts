import fc from 'fast-check';
import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import type { JsonValue } from '../../src/domain/shared/json.js';

const reference = canonicalizeModule;

describe('canonical JSON (RFC 8785)', () => {
  it('matches the reference implementation on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value as JsonValue)).toBe(reference(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('matches the reference whatever the key order, with index keys and names Object.prototype has', () => {
    const key = fc.constantFrom(
      'a',
      'b',
      'B',
      '0',
      '1',
      '10',
      '9',
      'toString',
      'constructor',
      'valueOf',
      'é',
      '\u20ac',
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 0 }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 6 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(canonicalJson(value as JsonValue)).toBe(reference(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('matches the reference on more object shapes than are kept, and on shapes whose joined keys collide', () => {
    const many = Array.from({ length: 1_200 }, (_, i) => ({ [`k${i}`]: i, a: { [String(i % 17)]: i } }));
    expect(canonicalJson(many)).toBe(reference(many));
    const collide: JsonValue[] = [
      { 'a\u0000b': 1, c: 2 },
      { a: 1, 'b\u0000c': 2 },
      { 'a\u0000b': 3, c: 4 },
    ];
    for (const value of collide) {
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });

  it('refuses numbers JSON cannot carry', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow('finite');
    expect(() => canonicalJson({ a: { b: Number.POSITIVE_INFINITY } })).toThrow('finite');
  });

  it('keeps a "__proto__" key as an ordinary key', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":0}}') as JsonValue;
    expect(canonicalJson(value)).toBe(reference(value));
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":0},"b":1}');
  });

  it('orders keys by UTF-16 code units and escapes like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'é\u2028'], '\u20ac': 1e21, '\ud83d\ude00': -0 })).toBe(
      '{"a":[true,null,"é\u2028"],"b":1,"\u20ac":1e+21,"\ud83d\ude00":0}',
    );
  });
});
