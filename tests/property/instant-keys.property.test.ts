import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { utcInstantKey } from '../../src/projections/read-model-keys.js';

/** What utcInstantKey answered before its fast path: luxon's reading, or "invalid" for a throw. */
function luxonKey(iso: string): string {
  const instant = DateTime.fromISO(iso, { zone: 'utc' }).toUTC();
  return instant.isValid ? instant.toISO() : 'invalid';
}

function keyOrInvalid(iso: string): string {
  try {
    return utcInstantKey(iso);
  } catch {
    return 'invalid';
  }
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** An instant's UTC fields as text, with 0-9 fraction digits (the log's form, and the shorter/longer ones). */
const utcInstantText = fc
  .tuple(
    fc.integer({ min: Date.parse('0000-01-01T00:00:00.000Z'), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
    fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 9 }),
  )
  .map(([ms, fraction]) => new Date(ms).toISOString().slice(0, 19) + (fraction === '' ? '' : `.${fraction}`) + 'Z');

/** The same shape with fields out of range: month 13, February 30th, hour 24, second 60 and the like. */
const malformedText = fc
  .tuple(
    fc.integer({ min: 1900, max: 2100 }),
    fc.integer({ min: 0, max: 19 }),
    fc.integer({ min: 0, max: 39 }),
    fc.integer({ min: 0, max: 29 }),
    fc.integer({ min: 0, max: 69 }),
    fc.integer({ min: 0, max: 69 }),
    fc.option(fc.integer({ min: 0, max: 999_999 })),
  )
  .map(
    ([year, month, day, hour, minute, second, fraction]) =>
      `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}` +
      (fraction === null ? '' : `.${fraction}`) +
      'Z',
  );

/** Other ISO-8601 forms utcInstantKey accepts through luxon: offsets, no seconds, a comma, lower case. */
const otherForms = fc
  .tuple(
    fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
    fc.integer({ min: -14 * 60, max: 14 * 60 }),
  )
  .chain(([ms, offsetMinutes]) => {
    const local = DateTime.fromMillis(ms, {
      zone: `UTC${offsetMinutes >= 0 ? '+' : '-'}${Math.abs(offsetMinutes) / 60}`,
    });
    const iso = new Date(ms).toISOString();
    return fc.constantFrom(
      local.toISO() ?? iso,
      iso.slice(0, 16),
      iso.slice(0, 16) + 'Z',
      iso.replace('.', ','),
      iso.toLowerCase(),
      iso.slice(0, 10),
    );
  });

describe('utcInstantKey', () => {
  it("gives luxon's key for UTC instants of any year and any fraction", () => {
    fc.assert(
      fc.property(utcInstantText, (iso) => {
        expect(keyOrInvalid(iso)).toBe(luxonKey(iso));
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses, or reads, impossible dates and times as luxon does', () => {
    let refused = 0;
    fc.assert(
      fc.property(malformedText, (iso) => {
        const expected = luxonKey(iso);
        if (expected === 'invalid') refused += 1;
        expect(keyOrInvalid(iso)).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
    // The property says little unless many of the texts were impossible.
    expect(refused).toBeGreaterThan(1_000);
  });

  it('reads the other ISO-8601 forms as luxon does', () => {
    fc.assert(
      fc.property(otherForms, (iso) => {
        expect(keyOrInvalid(iso)).toBe(luxonKey(iso));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the fixed-width key of the log unchanged', () => {
    expect(utcInstantKey('2026-11-21T15:59:59.123Z')).toBe('2026-11-21T15:59:59.123Z');
    expect(utcInstantKey('2026-11-21T15:59:59Z')).toBe('2026-11-21T15:59:59.000Z');
    expect(utcInstantKey('2026-11-21T15:59:59.9999Z')).toBe('2026-11-21T15:59:59.999Z');
    expect(() => utcInstantKey('2026-02-30T00:00:00.000Z')).toThrow(/not an ISO-8601 instant/);
  });
});
