import { evictOldest } from '../../domain/shared/evict-oldest.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import {
  OPERATIONS_COLLECTION,
  REFUNDS_COLLECTION,
  type OperationDocument,
  type RefundDocument,
} from '../../projections/operations.js';
import { deriveId, type CommandContext } from '../command-context.js';

/** Payments one sweep asks about (or expires), per status; the next sweep takes the rest. */
export const MAX_POLLS_PER_SWEEP = 100;
/** Payments one sweep reads per status to find those due (ten pages): a bounded scan, oldest first. */
export const MAX_SCANNED_PER_SWEEP = 1_000;
/** The first query this long after the payment became pending or unknown; each next one twice as late. */
export const FIRST_POLL_DELAY_MS = 5_000;
/** Never longer than this between two queries of one payment. */
export const MAX_POLL_DELAY_MS = 10 * 60_000;
/** Payments whose query schedule is kept in memory (the oldest forgotten first: they are queried again). */
const MAX_TRACKED_PAYMENTS = 10_000;

/** The delay before query number `attempt + 1` (0-based): doubling from FIRST_POLL_DELAY_MS, bounded. */
export function pollDelayMs(attempt: number): number {
  return Math.min(MAX_POLL_DELAY_MS, FIRST_POLL_DELAY_MS * 2 ** Math.min(attempt, 20));
}

/** What the poller asks of the channel payments (ChannelPaymentCommands). */
export interface PolledPayments {
  queryChannelPayment(
    paymentId: string,
    context: CommandContext,
  ): Promise<{ readonly answered: boolean; readonly payment: { readonly status: string } }>;
  expireStepUp(paymentId: string, context: CommandContext): Promise<unknown>;
  queryRefund(
    paymentId: string,
    refundId: string,
    context: CommandContext,
  ): Promise<{ readonly answered: boolean; readonly refund: { readonly status: string } }>;
}

/**
 * The poller of results that did not come (a lost callback, a timeout): a periodic sweep over the channel
 * payments the operations read model shows pending or unknown, asking each channel for the order with a
 * growing, bounded backoff, and closing step-up challenges whose time is over. The schedule is derived
 * from when the payment last changed (the read model's `updatedAt`) and how many queries this process
 * made since; it lives in memory, so after a restart every such payment is asked once, then backs off
 * again. A bounded batch per sweep, oldest first.
 */
export class ChannelPaymentPoller {
  readonly #schedule = new Map<string, { attempts: number; nextAtMs: number }>();

  constructor(
    private readonly payments: PolledPayments,
    private readonly readModels: ReadModelStore,
    private readonly onFailure: (paymentId: string, error: unknown) => void = (id, error) =>
      console.error(`polling channel payment ${id} failed`, error),
  ) {}

  /** One sweep at `nowIso`; the number of payments asked about or expired. */
  async sweep(nowIso: string): Promise<number> {
    const nowMs = Date.parse(nowIso);
    let acted = 0;
    for (const status of ['pending', 'unknown'] as const) {
      acted += await this.#scan(OPERATIONS_COLLECTION, { kind: 'channel_payment', status }, (data) => {
        const doc = data as unknown as OperationDocument;
        return this.#askWithBackoff(doc.operationId, doc.updatedAt, nowMs, async () => {
          const asked = await this.payments.queryChannelPayment(doc.operationId, contextOf(doc.operationId, nowIso));
          return asked.payment.status;
        });
      });
      // A refund the channel has not finished: asked by the same bounded backoff, never refunded again.
      acted += await this.#scan(REFUNDS_COLLECTION, { status }, (data) => {
        const doc = data as unknown as RefundDocument;
        return this.#askWithBackoff(doc.refundId, doc.updatedAt, nowMs, async () => {
          const asked = await this.payments.queryRefund(doc.paymentId, doc.refundId, contextOf(doc.refundId, nowIso));
          return asked.refund.status;
        });
      });
    }
    acted += await this.#scan(
      OPERATIONS_COLLECTION,
      { kind: 'channel_payment', status: 'awaiting_verification' },
      async (data) => {
        const doc = data as unknown as OperationDocument;
        if (doc.expiresAt === '' || nowMs < Date.parse(doc.expiresAt)) return false;
        await this.payments.expireStepUp(doc.operationId, contextOf(doc.operationId, nowIso));
        return true;
      },
    );
    return acted;
  }

  /** Asks about one payment or refund when its time has come; while still open, the next ask is later. */
  async #askWithBackoff(id: string, updatedAt: string, nowMs: number, ask: () => Promise<string>): Promise<boolean> {
    const known = this.#schedule.get(id);
    const nextAtMs = known?.nextAtMs ?? Date.parse(updatedAt) + pollDelayMs(0);
    if (nowMs < nextAtMs) return false;
    const status = await ask();
    this.#schedule.delete(id);
    if (status === 'pending' || status === 'unknown') {
      const attempts = (known?.attempts ?? 0) + 1;
      this.#schedule.set(id, { attempts, nextAtMs: nowMs + pollDelayMs(attempts) });
      evictOldest(this.#schedule, MAX_TRACKED_PAYMENTS);
    }
    return true;
  }

  /** Reads one selection oldest first, pages of 100, until MAX_POLLS_PER_SWEEP were acted on. */
  async #scan(
    collection: string,
    where: Record<string, string>,
    act: (data: Record<string, unknown>) => Promise<boolean>,
  ): Promise<number> {
    let acted = 0;
    let after: string | undefined;
    for (let scanned = 0; scanned < MAX_SCANNED_PER_SWEEP && acted < MAX_POLLS_PER_SWEEP;) {
      const page = await this.readModels.find(collection, {
        where,
        orderBy: 'updatedAt',
        limit: MAX_POLLS_PER_SWEEP,
        ...(after ? { after } : {}),
      });
      for (const { id, data } of page.items) {
        scanned += 1;
        if (acted >= MAX_POLLS_PER_SWEEP) break;
        try {
          if (await act(data)) acted += 1;
        } catch (error) {
          acted += 1;
          this.onFailure(id, error);
        }
      }
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    return acted;
  }
}

function contextOf(paymentId: string, nowIso: string): CommandContext {
  return {
    actor: 'channel-poller',
    correlationId: paymentId,
    causationId: paymentId,
    idempotencyKey: null,
    operationKey: deriveId(paymentId, `poll\u0000${nowIso}`),
    occurredAt: nowIso,
  };
}
