import { DateTime } from 'luxon';

/**
 * Sortable string keys for read-model documents. The read-model store indexes single top-level fields,
 * so a query that filters on one thing and orders by another (an account's lines in a time range, in
 * order) uses one composite key, `<group>|<sortable parts>`, ranged over and ordered by at once.
 */

/** Digits of a zero-padded global position: int64 positions have at most 19 digits. */
const POSITION_DIGITS = 20;
/** Digits of a zero-padded per-account line sequence. */
const SEQUENCE_DIGITS = 12;

export const KEY_SEPARATOR = '|';
/** The character right after KEY_SEPARATOR: `<group>}` is above every `<group>|...` key. */
export const KEY_GROUP_END = '}';

export function positionKey(position: bigint): string {
  return position.toString().padStart(POSITION_DIGITS, '0');
}

export function sequenceKey(sequence: number): string {
  return sequence.toString().padStart(SEQUENCE_DIGITS, '0');
}

export function compositeKey(...parts: string[]): string {
  return parts.join(KEY_SEPARATOR);
}

/**
 * An instant written in UTC with a "Z" and at most its seconds' fraction after them, as the log's
 * `occurredAt` always is ("2026-11-21T15:59:59.123Z"): read without luxon (see utcInstantKey).
 */
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
/** Characters of "YYYY-MM-DDTHH:MM:SS", the part of the key an instant's text must give back unchanged. */
const SECONDS_LENGTH = 19;

/**
 * An instant as UTC ISO-8601 with milliseconds ("2026-11-21T15:59:59.000Z"): one fixed-width form, so
 * keys built from instants sort in time order. Throws on text that is not an instant.
 *
 * Projections ask this for every event (5-8% of a rebuild's CPU through luxon), so a UTC instant is read
 * with Date.parse and written with toISOString, which give luxon's answer (fractions cut to milliseconds,
 * not rounded; tests/property/instant-keys.test.ts holds the two to it); a date that does not exist
 * (February 30th, hour 24) comes back changed from toISOString and goes to luxon, as does any other form
 * (an offset, no seconds, a comma).
 */
export function utcInstantKey(instantIso: string): string {
  if (UTC_INSTANT.test(instantIso)) {
    const instantMs = Date.parse(instantIso);
    if (!Number.isNaN(instantMs)) {
      const key = new Date(instantMs).toISOString();
      if (key.length === 24 && key.startsWith(instantIso.slice(0, SECONDS_LENGTH))) return key;
    }
  }
  const instant = DateTime.fromISO(instantIso, { zone: 'utc' }).toUTC();
  if (!instant.isValid) throw new Error(`not an ISO-8601 instant: ${instantIso}`);
  // luxon writes UTC as "Z", always with milliseconds.
  return instant.toISO();
}
