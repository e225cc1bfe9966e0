import { randomUUID } from 'node:crypto';
import {
  SIMULATED_PLATFORM,
  simulatedProfiles,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { LedgerEvent } from '../../src/domain/event-catalogue.js';
import { route } from '../../src/domain/channels/routing.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';
import { UNCHANGED, type EventEnvelope, type Projection } from '../../src/projections/projection.js';
import { CNY } from './risk-fixtures.js';

/**
 * Channel orders as the command side records them (the events the `channel-orders` projection reads),
 * applied to a real read-model store, and the statement lines a channel would write for them: for the
 * reconciliation scenario and property tests.
 */
export const CHANNEL = SIMULATED_PLATFORM;

/** A routing decision for a wallet payment of `amountMinor` on the simulated platform: it prices the fee. */
export function routedFor(amountMinor: bigint) {
  return route({
    rules: {
      ruleVersion: 'test',
      explorationSharePpm: 0,
      minSuccessRatePpm: 900_000,
      minSamples: 20,
      maxMeanLatencyMs: 3_000,
      channels: [simulatedProfiles[CHANNEL]!],
    },
    request: {
      operation: 'charge',
      choice: { method: 'platform_pay', platform: 'wechat' },
      amount: { amountMinor, currency: CNY },
    },
    health: {
      [CHANNEL]: { breaker: 'closed', admits: true, sampleCount: 0, successRatePpm: 1_000_000, meanLatencyMs: 0 },
    },
    dailyUsedMinor: { [CHANNEL]: 0n },
    drawPpm: 500_000,
  });
}

/** The simulated platform's scheduled fee for an amount (0.6 %, half up, at least 1). */
export function scheduledFeeOf(amountMinor: bigint): bigint {
  const decision = routedFor(amountMinor);
  const candidate = decision.candidates.find((c) => c.channelId === CHANNEL);
  if (!candidate || candidate.standing === 'excluded') throw new Error('the simulated platform does not price it');
  return candidate.feeMinor;
}

export interface PaymentPlan {
  readonly paymentId?: string;
  readonly amountMinor: bigint;
  readonly createdAt: string;
  /** Succeeded with this fee at this channel time; failed when absent. */
  readonly succeeded?: { readonly feeMinor: bigint; readonly channelTime: string } | null;
}

export function channelPaymentEvents(plan: PaymentPlan): { paymentId: string; events: LedgerEvent[] } {
  const paymentId = plan.paymentId ?? randomUUID();
  const at = plan.createdAt;
  const events: LedgerEvent[] = [
    {
      type: 'ChannelPaymentCreated',
      data: {
        paymentId,
        merchantId: 'mch-1',
        payeeAccountId: '2014440123456787',
        payeeSubjectCode: '2202',
        merchantOrderNo: `SO-${paymentId.slice(0, 8)}`,
        amountMinor: plan.amountMinor,
        currency: CNY,
        description: 'coffee',
        instrument: { method: 'platform_pay', platform: 'wechat', returnUrl: null },
        payer: { ip: null, deviceId: 'dev-1', payerId: 'payer-1', maskedPhone: null },
        routing: routedFor(plan.amountMinor),
        createdAt: at,
        accountingDate: '2000-01-01',
      },
    },
    { type: 'ChannelPaymentSubmitted', data: { paymentId, channel: CHANNEL, attempt: 1, at } },
  ];
  if (plan.succeeded) {
    events.push({
      type: 'ChannelPaymentSucceeded',
      data: {
        paymentId,
        channel: CHANNEL,
        channelOrderNo: `W-${paymentId.slice(0, 8)}`,
        feeMinor: plan.succeeded.feeMinor,
        channelTime: plan.succeeded.channelTime,
        learntBy: 'answer',
        sequence: null,
        at: plan.succeeded.channelTime,
      },
    });
  } else if (plan.succeeded === undefined) {
    events.push({
      type: 'ChannelPaymentFailed',
      data: {
        paymentId,
        reasonCode: 'channel_declined',
        reason: 'declined',
        declineCode: null,
        channelCode: null,
        learntBy: 'answer',
        at,
      },
    });
  }
  return { paymentId, events };
}

export function channelRefundEvents(
  paymentId: string,
  plan: { amountMinor: bigint; at: string; succeededAt?: string },
): { refundId: string; events: LedgerEvent[] } {
  const refundId = randomUUID();
  const events: LedgerEvent[] = [
    {
      type: 'ChannelRefundRequested',
      data: {
        paymentId,
        refundId,
        kind: 'refund',
        refundNo: `RN-${refundId.slice(0, 8)}`,
        amountMinor: plan.amountMinor,
        currency: CNY,
        reason: 'returned',
        at: plan.at,
      },
    },
    { type: 'ChannelRefundSubmitted', data: { paymentId, refundId, channel: CHANNEL, at: plan.at } },
  ];
  if (plan.succeededAt)
    events.push({
      type: 'ChannelRefundSucceeded',
      data: {
        paymentId,
        refundId,
        kind: 'refund',
        channel: CHANNEL,
        currency: CNY,
        feeReturnedMinor: 0n,
        channelRefundNo: `WR-${refundId.slice(0, 8)}`,
        channelTime: plan.succeededAt,
        learntBy: 'answer',
        at: plan.succeededAt,
      },
    });
  else events.push({ type: 'ChannelRefundPending', data: { paymentId, refundId, channelRefundNo: null, at: plan.at } });
  return { refundId, events };
}

/** Applies events to the store through the projection, one batch per event, as a runner would. */
export async function project(
  store: ReadModelStore,
  projection: Projection,
  events: readonly LedgerEvent[],
  firstPosition: bigint,
): Promise<bigint> {
  await store.ensureCollections(projection.collections);
  let position = firstPosition;
  for (const event of events) {
    position += 1n;
    const occurredAt =
      'at' in event.data && typeof event.data.at === 'string' ? event.data.at : '2026-12-01T01:00:00.000Z';
    const envelope: EventEnvelope = {
      streamId: `test-${position}`,
      revision: 0n,
      position,
      metadata: {
        eventId: randomUUID(),
        correlationId: 'c',
        causationId: null,
        idempotencyKey: null,
        actor: 'test',
        occurredAt,
        schemaVersion: 1,
      },
    };
    const writes = [];
    for (const change of projection.handle(event, envelope)) {
      const previous = await store.get(change.collection, change.id);
      const next = change.apply(previous?.data ?? null);
      if (next !== UNCHANGED) writes.push({ collection: change.collection, id: change.id, data: next, position });
    }
    await store.applyBatch(projection.name, writes, position);
  }
  return position;
}

let sourceLine = 0;
/** A statement line as a channel's file would give it, normalised. */
export function statementLine(
  accountingDate: string,
  line: Pick<StatementRecord, 'merchantOrderNo' | 'amountMinor' | 'feeMinor' | 'channelTime'> &
    Partial<Pick<StatementRecord, 'kind' | 'status' | 'refundNo'>>,
): StatementRecord {
  sourceLine += 1;
  return {
    channel: CHANNEL,
    accountingDate,
    kind: line.kind ?? 'pay',
    status: line.status ?? 'settled',
    channelOrderNo: `W-${line.merchantOrderNo.slice(0, 8)}`,
    merchantOrderNo: line.merchantOrderNo,
    refundNo: line.refundNo ?? null,
    channelRefundNo: line.refundNo ? `WR-${line.refundNo.slice(0, 8)}` : null,
    amountMinor: line.amountMinor,
    feeMinor: line.feeMinor,
    currency: CNY,
    channelTime: line.channelTime,
    sourceLine,
  };
}

export async function* streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}
