import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  decodeOurOrder,
  ourOrderJson,
  OUR_ORDER_STATUSES,
  type OurOrder,
} from '../../src/domain/reconciliation/our-order.js';
import {
  decodeStatementRecord,
  statementRecord,
  STATEMENT_KINDS,
  STATEMENT_STATUSES,
  type StatementRecord,
} from '../../src/domain/reconciliation/statement-record.js';
import {
  fastMinorUnits,
  isFastIsoDate,
  isFastUtcInstant,
  minorUnits,
  utcInstant,
} from '../../src/domain/shared/codecs.js';
import { parseCurrency } from '../../src/domain/money/money.js';

/**
 * The fast decode paths (codecs.ts, decodeStatementRecord, decodeOurOrder) skip zod for well-formed rows on
 * the reconciliation read path. They must never accept what the schema refuses, nor give another value:
 * for any input, the fast decode and the schema's decode give the same value or both throw.
 */

/** Texts near the forms the fast paths accept: off by a digit, a day, a sign, a fraction, an offset. */
const NEAR_MISS_TEXTS = [
  '',
  '0',
  '-0',
  '00',
  '01',
  '-1',
  '12.5',
  '1e3',
  ' 12',
  '123456789012345678901',
  '12345678901234567890',
  '-12345678901234567890',
  '2026-02-29',
  '2028-02-29',
  '1900-02-29',
  '2000-02-29',
  '2026-13-01',
  '2026-12-32',
  '2026-04-31',
  '2026-12-1',
  '2026-12-01T00:00:00.000Z',
  '2026-12-01T24:00:00.000Z',
  '2026-12-01T23:59:60.000Z',
  '2026-12-01T08:00:00Z',
  '2026-12-01T08:00:00.1Z',
  '2026-12-01T08:00:00.0000Z',
  '2026-12-01T08:00:00.000+08:00',
  '2026-02-30T08:00:00.000Z',
  '2024-02-29T08:00:00.000Z',
  '2026-12-01t08:00:00.000z',
  'CNY',
  'cny',
  'XAU',
  'pay',
  'PAY',
  'settled',
  'succeeded',
];
const nearMiss = fc.constantFrom(...NEAR_MISS_TEXTS);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nearMiss,
  fc.jsonValue(),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constant(undefined),
);

const instant = fc
  .integer({ min: Date.parse('1970-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') })
  .map((ms) => new Date(ms).toISOString());
const reference = fc.string({ minLength: 1, maxLength: 64, unit: 'binary' });

const record: fc.Arbitrary<StatementRecord> = fc.record({
  channel: fc.string({ minLength: 1, maxLength: 64 }),
  accountingDate: instant.map((text) => text.slice(0, 10)),
  kind: fc.constantFrom(...STATEMENT_KINDS),
  status: fc.constantFrom(...STATEMENT_STATUSES),
  channelOrderNo: reference,
  merchantOrderNo: reference,
  refundNo: fc.option(reference, { nil: null }),
  channelRefundNo: fc.option(reference, { nil: null }),
  amountMinor: fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }),
  feeMinor: fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }),
  currency: fc.constantFrom('CNY', 'JPY', 'BHD', 'USD').map(parseCurrency),
  channelTime: instant,
  sourceLine: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

const order: fc.Arbitrary<OurOrder> = fc.record({
  channel: fc.string({ minLength: 1, maxLength: 20 }),
  kind: fc.constantFrom(...STATEMENT_KINDS),
  merchantOrderNo: reference,
  refundNo: fc.option(reference, { nil: null }),
  amountMinor: fc.bigInt({ min: -(10n ** 20n) + 1n, max: 10n ** 20n - 1n }),
  currency: fc.constantFrom('CNY', 'JPY').map(parseCurrency),
  status: fc.constantFrom(...OUR_ORDER_STATUSES),
  feeMinor: fc.option(fc.bigInt({ min: 0n, max: 10n ** 6n }), { nil: null }),
  scheduledFeeMinor: fc.option(fc.bigInt({ min: 0n, max: 10n ** 6n }), { nil: null }),
  ourTime: instant,
  channelTime: fc.option(instant, { nil: null }),
  accountingDate: instant.map((text) => text.slice(0, 10)),
});

/** A JSON form with one field replaced, removed, or one field added. */
function corrupted(json: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(json);
  return fc.oneof(
    fc.record({ field: fc.constantFrom(...fields), value: anyValue }).map(({ field, value }) => {
      const copy: Record<string, unknown> = { ...json, [field]: value };
      if (value === undefined) delete copy[field];
      return copy;
    }),
    fc.record({ field: fc.string({ minLength: 1, maxLength: 8 }), value: anyValue }).map(({ field, value }) => ({
      ...json,
      [field]: value,
    })),
  );
}

/** Every field replaced by each near miss, and by null, a number, an object, removed: each agreement checked. */
const NEAR_MISSES: readonly unknown[] = [...NEAR_MISS_TEXTS, null, 7, 1.5, true, {}, [], undefined];

function eachFieldNearMiss(json: Record<string, unknown>, check: (bad: Record<string, unknown>) => void): void {
  for (const field of Object.keys(json))
    for (const value of NEAR_MISSES) {
      const bad: Record<string, unknown> = { ...json, [field]: value };
      if (value === undefined) delete bad[field];
      check(bad);
    }
}

/** True for the first `count` calls: a property's first runs get the exhaustive check. */
class FirstRuns {
  private left: number;
  constructor(count: number) {
    this.left = count;
  }
  next(): boolean {
    this.left -= 1;
    return this.left >= 0;
  }
}

/** Both decode to equal values, or both throw. */
function agree<T>(fast: () => T, schema: () => T): void {
  let expected: { value: T } | { error: true };
  try {
    expected = { value: schema() };
  } catch {
    expected = { error: true };
  }
  if ('error' in expected) expect(fast).toThrow();
  else expect(fast()).toEqual(expected.value);
}

describe('fast decode paths agree with their schemas', () => {
  it('minor units, instants and dates: accepted only where the schema accepts, with the same value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          instant,
          instant.map((text) => text.slice(0, 10)),
        ),
        (value) => {
          const units = fastMinorUnits(value);
          if (units !== undefined) expect(minorUnits.decode(value as string)).toBe(units);
          if (isFastUtcInstant(value)) expect(utcInstant.parse(value)).toBe(value);
          if (isFastIsoDate(value)) expect(z.iso.date().parse(value)).toBe(value);
        },
      ),
      { numRuns: 2_000 },
    );
    // And the forms we write are taken by the fast path.
    fc.assert(
      fc.property(instant, fc.bigInt({ min: -(10n ** 20n) + 1n, max: 10n ** 20n - 1n }), (text, units) => {
        expect(isFastUtcInstant(text)).toBe(true);
        expect(isFastIsoDate(text.slice(0, 10))).toBe(true);
        expect(fastMinorUnits(units.toString())).toBe(units);
      }),
    );
  });

  it('a statement line: its record back as the schema decodes it; a corrupted one refused as the schema refuses it', () => {
    const nearMissRuns = new FirstRuns(10);
    fc.assert(
      fc.property(
        record.chain((r) => {
          const json = statementRecord.encode(r) as unknown as Record<string, unknown>;
          return fc.tuple(fc.constant(r), fc.constant(json), corrupted(json));
        }),
        ([r, json, bad]) => {
          expect(decodeStatementRecord(json as never)).toEqual(r);
          // Every field's near misses on a few lines (each refusal costs zod an error), random damage on many.
          if (nearMissRuns.next())
            eachFieldNearMiss(json, (near) =>
              agree(
                () => decodeStatementRecord(near as never),
                () => statementRecord.decode(near as never),
              ),
            );
          agree(
            () => decodeStatementRecord(bad as never),
            () => statementRecord.decode(bad as never),
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('our order: its JSON back as the schema decodes it; a corrupted one refused as the schema refuses it', () => {
    const nearMissRuns = new FirstRuns(10);
    fc.assert(
      fc.property(
        order.chain((o) => {
          const json = ourOrderJson.encode(o) as unknown as Record<string, unknown>;
          return fc.tuple(fc.constant(o), fc.constant(json), corrupted(json));
        }),
        ([o, json, bad]) => {
          expect(decodeOurOrder(json as never)).toEqual(o);
          // Every field's near misses on a few lines (each refusal costs zod an error), random damage on many.
          if (nearMissRuns.next())
            eachFieldNearMiss(json, (near) =>
              agree(
                () => decodeOurOrder(near as never),
                () => ourOrderJson.decode(near as never),
              ),
            );
          agree(
            () => decodeOurOrder(bad as never),
            () => ourOrderJson.decode(bad as never),
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
