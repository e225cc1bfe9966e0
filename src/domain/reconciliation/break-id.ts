import { createHash } from 'node:crypto';

/**
 * A break's id: `<channel>:<originDate>:<digest>`, the digest the first 32 hex digits of a SHA-256 of the
 * key (our order number, refund number) and the occurrence under it (0: the pair; 1, 2...: a further line
 * or order of the same key, in the order matching reports them). Derived from what the break is, never
 * from the run: a day run again finds the same breaks under the same ids, so their streams are appended to,
 * not duplicated.
 */
export interface BreakKey {
  readonly channel: string;
  readonly originDate: string;
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
  readonly occurrence: number;
}

const ORIGIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function breakIdOf(key: BreakKey): string {
  if (!Number.isInteger(key.occurrence) || key.occurrence < 0) throw new RangeError('an occurrence is >= 0');
  if (!ORIGIN_DATE.test(key.originDate)) throw new RangeError(`not an accounting date: ${key.originDate}`);
  if (key.channel.length === 0) throw new RangeError('a break has a channel');
  // NUL cannot occur in an order number (the statement store and channel-orders refuse it): no two keys collide.
  const digest = createHash('sha256')
    .update(`${key.merchantOrderNo}\u0000${key.refundNo ?? ''}\u0000${key.occurrence}`)
    .digest('hex')
    .slice(0, 32);
  return `${key.channel}:${key.originDate}:${digest}`;
}

/** The channel and origin date a break id names (read from the right: a channel id may hold a colon). */
export function partsOfBreakId(breakId: string): { readonly channel: string; readonly originDate: string } {
  const match = /^(.+):(\d{4}-\d{2}-\d{2}):([0-9a-f]{32})$/.exec(breakId);
  if (match === null) throw new RangeError(`not a break id: ${breakId}`);
  return { channel: match[1]!, originDate: match[2]! };
}

export function breakStreamId(breakId: string): string {
  return `reconbreak-${breakId}`;
}
