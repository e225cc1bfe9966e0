import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';
import { BREAK_CLASSES } from './match-classes.js';
import { ourOrderJson } from './our-order.js';
import { statementRecord } from './statement-record.js';

/**
 * One reconciliation break's life, on its own stream (`reconbreak-<breakId>`): found by a run, seen again
 * by later runs while it stands, cleared when a later run matches it, resolved (by the ledger where
 * DESIGN.md 2.6 says the channel is right, or by an operator), marked investigated, re-opened. Events,
 * never edits: who did what and why stays on the stream.
 *
 * `breakId` is `<channel>:<originDate>:<digest>`, the digest a hash of the key (our order number, refund
 * number) and the occurrence under it (0: the pair; 1, 2...: a duplicate line or order), so a day run again
 * finds the same break, not a new one.
 */
export const BREAK_RESOLUTIONS = [
  /** Automatic: the channel settled a pay we held not succeeded; the flow continued as paid. */
  'marked_paid',
  /** Automatic: the channel settled a refund we held not succeeded; the refund completed. */
  'marked_refunded',
  /** Operator: the channel's amount is taken; the difference is booked to suspense or fee variance. */
  'accepted_channel_amount',
  /** Operator: nothing more will be done; any amount left is written off to suspense. */
  'written_off',
] as const;
export type BreakResolution = (typeof BREAK_RESOLUTIONS)[number];

const breakId = z.string().min(1).max(200);
const runRef = { runId: z.uuid(), runDate: z.iso.date() };
const actor = z.string().min(1).max(64);
const reason = z.string().min(1).max(500);

export const breakFound = z.strictObject({
  type: z.literal('BreakFound'),
  data: z.strictObject({
    breakId,
    channel: z.string().min(1).max(64),
    /** The accounting day the item belongs to. */
    originDate: z.iso.date(),
    ...runRef,
    matchClass: z.enum(BREAK_CLASSES),
    merchantOrderNo: z.string().min(1).max(64),
    refundNo: z.string().min(1).max(64).nullable(),
    occurrence: z.int().nonnegative(),
    ageDays: z.int().nonnegative(),
    statement: statementRecord.nullable(),
    ours: ourOrderJson.nullable(),
    at: utcInstant,
  }),
});

/** A later run (or the same day run again) still finds it; its class or sides may have changed. */
export const breakSeenAgain = z.strictObject({
  type: z.literal('BreakSeenAgain'),
  data: z.strictObject({
    breakId,
    ...runRef,
    matchClass: z.enum(BREAK_CLASSES),
    ageDays: z.int().nonnegative(),
    statement: statementRecord.nullable(),
    ours: ourOrderJson.nullable(),
    at: utcInstant,
  }),
});

/** A later run matched it (or found nothing moved on either side): no longer a break. */
export const breakCleared = z.strictObject({
  type: z.literal('BreakCleared'),
  data: z.strictObject({ breakId, ...runRef, at: utcInstant }),
});

export const breakResolved = z.strictObject({
  type: z.literal('BreakResolved'),
  data: z.strictObject({
    breakId,
    resolution: z.enum(BREAK_RESOLUTIONS),
    automatic: z.boolean(),
    /** `ledger` when automatic, else the operator's entity id. */
    by: actor,
    reason,
    /** What was booked to settle it (the books stay balanced): the amount and the account it went to. */
    posted: z
      .strictObject({ amountMinor: minorUnits, currency: currencyCode, account: z.string().min(1).max(64) })
      .nullable(),
    at: utcInstant,
  }),
});

export const breakInvestigated = z.strictObject({
  type: z.literal('BreakInvestigated'),
  data: z.strictObject({ breakId, by: actor, note: reason, at: utcInstant }),
});

export const breakReopened = z.strictObject({
  type: z.literal('BreakReopened'),
  data: z.strictObject({ breakId, by: actor, reason, at: utcInstant }),
});

export const breakEventSchemas = [
  breakFound,
  breakSeenAgain,
  breakCleared,
  breakResolved,
  breakInvestigated,
  breakReopened,
] as const;
export type BreakEvent = z.output<(typeof breakEventSchemas)[number]>;
