import { DateTime } from 'luxon';
import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';

/**
 * An order whose channel answer was not final, as a recharge or a withdrawal records it: `pending`
 * (accepted, the result comes later) or `unknown` (perhaps done: a timeout, a system error, an answer we
 * could not read). Such an order is resolved by asking the channel for it (`queryOrder`, by our order
 * number), never by sending it again; the queries back off, bounded, from the command's time.
 */
export const awaitingChannelFields = {
  channel: z.string(),
  outcome: z.enum(['pending', 'unknown']),
  channelOrderNo: z.string().nullable(),
  /** Online banking or platform pay: where the payer completes the payment. */
  payerActionUrl: z.string().max(2_000).nullable(),
  detail: z.string().max(300),
  /** Order queries made so far; the next is due at `nextQueryAt`. */
  queries: z.int().nonnegative(),
  nextQueryAt: utcInstant,
};

export interface AwaitingChannel {
  readonly channel: string;
  readonly outcome: 'pending' | 'unknown';
  readonly channelOrderNo: string | null;
  readonly payerActionUrl: string | null;
  readonly detail: string;
  readonly queries: number;
  readonly nextQueryAt: string;
}

/** The first query waits this long; each next one twice as long as the one before, up to the maximum. */
export const FIRST_QUERY_DELAY_MS = 5_000;
export const MAX_QUERY_DELAY_MS = 10 * 60_000;

/** When the next order query is due after `queries` of them, judged from the command's time. */
export function nextQueryAt(occurredAt: string, queries: number): string {
  const delayMs = Math.min(MAX_QUERY_DELAY_MS, FIRST_QUERY_DELAY_MS * 2 ** Math.min(queries, 20));
  return DateTime.fromISO(occurredAt, { zone: 'utc' }).plus({ milliseconds: delayMs }).toISO()!;
}

/** Whether an order query is due at the command's time (`force`: a client asked, once). */
export function queryDue(awaiting: AwaitingChannel, occurredAt: string, force: boolean): boolean {
  return force || DateTime.fromISO(occurredAt) >= DateTime.fromISO(awaiting.nextQueryAt);
}
