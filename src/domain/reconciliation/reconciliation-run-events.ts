import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';
import { MATCH_CLASSES } from './match-classes.js';

/**
 * A reconciliation run of one channel's accounting day, recorded on the day's stream
 * (`reconday-<channel>:<date>`, beside its downloads): what it read and what it found, in totals. The
 * breaks themselves are each a stream of their own (break-events.ts); the reconciliation views are built
 * from these events, never from the result files.
 *
 * A day may be run again (a statement re-imported, a break resolved, the pending pool of the day before
 * changed): each run is one event, the last one is the day's standing.
 */
const amountPerCurrency = z.strictObject({ currency: currencyCode, amountMinor: minorUnits });

export const reconciliationRunCompleted = z.strictObject({
  type: z.literal('ReconciliationRunCompleted'),
  data: z.strictObject({
    runId: z.uuid(),
    channel: z.string().min(1).max(64),
    accountingDate: z.iso.date(),
    /** The statement file the run read (its SHA-256, as `StatementStored` recorded it); null: none stored. */
    statementSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
    statementLines: z.int().nonnegative(),
    ourOrders: z.int().nonnegative(),
    /** Items carried in from the previous day's pending pool. */
    carriedIn: z.int().nonnegative(),
    /**
     * The previous day's run whose pending pool this run carried in; null: that day was never run (no
     * statement of it stored), so nothing was carried in and items it would have passed on are missed
     * until it is run (which makes this day due again: statement-day-decider.ts reconciliationDue).
     */
    carriedFromRunId: z.uuid().nullable(),
    /** Items this run left in the pending pool for the next day's run. */
    pending: z.int().nonnegative(),
    breaks: z.int().nonnegative(),
    /** Per class (matched and unsettled included): the count and amounts per currency. */
    classes: z
      .array(
        z.strictObject({
          matchClass: z.enum(MATCH_CLASSES),
          count: z.int().nonnegative(),
          amounts: z.array(amountPerCurrency).max(16),
        }),
      )
      .max(MATCH_CLASSES.length),
    /** Fees of the settled pairs, per currency: what we booked and what the statement says. */
    fees: z.array(z.strictObject({ currency: currencyCode, oursMinor: minorUnits, theirsMinor: minorUnits })).max(16),
    /** Who ran it: `sweep`, `cli:<os user>`, or an operator's entity id. */
    ranBy: z.string().min(1).max(64),
    at: utcInstant,
  }),
});

export const reconciliationRunEventSchemas = [reconciliationRunCompleted] as const;
export type ReconciliationRunEvent = z.output<(typeof reconciliationRunEventSchemas)[number]>;
