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
