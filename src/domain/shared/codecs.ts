import { z } from 'zod';
import { isCurrencyCode, type CurrencyCode } from '../money/currency.js';

/**
 * Codecs between the stored JSON form of an event and its in-memory domain form. One zod schema per
 * event gives validation on write, decoding on read, and the documented shape.
 */

/** Minor units: a decimal integer string when stored ("12345"), a bigint in memory. */
export const minorUnits = z.codec(z.string().regex(/^-?(0|[1-9][0-9]{0,19})$/), z.bigint(), {
  decode: (text) => BigInt(text),
  encode: (value) => value.toString(),
});

/**
 * A total of minor units folded from many amounts (a balance): one amount has at most 20 digits, a sum of
 * a long stream's amounts may have more, so a state's totals take up to 39.
 */
export const minorUnitsTotal = z.codec(z.string().regex(/^-?(0|[1-9][0-9]{0,38})$/), z.bigint(), {
  decode: (text) => BigInt(text),
  encode: (value) => value.toString(),
});

/** A bookable ISO 4217 code; the same text stored and in memory (no transform, so it encodes too). */
export const currencyCode = z.custom<CurrencyCode>(
  (value) => typeof value === 'string' && isCurrencyCode(value),
  'not an ISO 4217 currency',
);

/** An instant, stored as UTC ISO-8601 with milliseconds ("2026-11-21T10:00:00.000Z"). */
export const utcInstant = z.iso.datetime({ offset: false });

/*
 * Fast paths of the codecs above, for hot read paths over rows that were validated when written (a
 * reconciliation day reads a million statement lines and a million orders). Each accepts a subset of what
 * its zod schema accepts and gives the same value; anything else is `undefined`, and the caller decodes
 * with zod, which refuses it with its reason. So a corrupted row is still refused, only the common
 * well-formed case skips zod (tests/property/fast-codecs.property.test.ts holds each to its schema).
 */

const MINOR_UNITS_TEXT = /^-?(0|[1-9][0-9]{0,19})$/;

/** `minorUnits.decode` for a well-formed text; undefined otherwise. */
export function fastMinorUnits(value: unknown): bigint | undefined {
  return typeof value === 'string' && MINOR_UNITS_TEXT.test(value) ? BigInt(value) : undefined;
}

/**
 * zod's ISO datetime pattern (no offset: Z), restricted to exactly three fraction digits, the form every
 * instant we write has: a subset of what `utcInstant` accepts.
 */
const UTC_INSTANT_MS =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** True only for a text `utcInstant` accepts (UTC, milliseconds); false: ask the schema. */
export function isFastUtcInstant(value: unknown): value is string {
  return typeof value === 'string' && value.length === 24 && UTC_INSTANT_MS.test(value);
}

const ISO_DATE =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))$/;

/** True only for a calendar date `z.iso.date()` accepts (YYYY-MM-DD); false: ask the schema. */
export function isFastIsoDate(value: unknown): value is string {
  return typeof value === 'string' && value.length === 10 && ISO_DATE.test(value);
}
