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
