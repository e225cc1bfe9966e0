import { decodeEvent } from '../../domain/event-catalogue.js';
import type { FundsRecharged } from '../../domain/accounts/account-events.js';
import type { Money } from '../../domain/money/money.js';
import { decideRecharge } from '../../domain/recharges/recharge.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import type { PaymentChannel } from '../../ports/payment-channel.js';
import { deriveEventId, deriveId, type CommandContext } from '../command-context.js';
import { accountStreamId, type AccountHandler } from '../accounts/open-account-handler.js';
import { findRecentEvent } from '../recorded-events.js';

export interface RechargeRequest {
  readonly accountId: string;
  readonly amount: Money;
  readonly channelId: string;
}

export interface RechargeOutcome {
  readonly recharge: FundsRecharged['data'];
  /** Global position of the recharge event: wait for it to read your write. */
  readonly position: bigint;
}

/**
 * A recharge: check the account can take it, charge the channel under our recharge id (channels are
 * idempotent by order number), then record the credit. Nothing is acknowledged before the event is on
 * disk; a retry after a crash charges the same order again (the channel answers as before) and records
 * the credit once (same derived event id).
 */
export async function rechargeAccount(
  eventStore: EventStore,
  handler: AccountHandler,
  channels: ReadonlyMap<string, PaymentChannel>,
  request: RechargeRequest,
  context: CommandContext,
  options: { takeover: boolean },
): Promise<RechargeOutcome> {
  const streamId = accountStreamId(request.accountId);
  if (options.takeover) {
    const earlier = await findRecentEvent(eventStore, streamId, deriveEventId(context.operationKey, streamId, 0));
    if (earlier) {
      const event = decodeEvent(earlier.type, earlier.data);
      if (event.type === 'FundsRecharged') return { recharge: event.data, position: earlier.position };
    }
  }
  const channel = channels.get(request.channelId);
  if (!channel) {
    throw new DomainError('unknown_channel', `no payment channel "${request.channelId}"`, { channel: request.channelId });
  }
  const rechargeId = deriveId(context.operationKey, 'recharge');
  // Check the account before charging anyone's card: a refused recharge must not move external money.
  const preview = await handler.load(streamId);
  const command = { rechargeId, accountId: request.accountId, amount: request.amount, channel: channel.id };
  decideRecharge({ ...command, channelOrderNo: 'not-yet-charged', channelFeeMinor: 0n }, preview.state);
  const outcome = await channel.charge({ orderNo: rechargeId, amount: request.amount, payerReference: null });
  if (outcome.status === 'declined') {
    throw new DomainError('channel_declined', `${channel.id} declined the charge: ${outcome.channelErrorMessage}`, {
      channel: channel.id,
      channelErrorCode: outcome.channelErrorCode,
    });
  }
  const handled = await handler.handle(
    streamId,
    {
      type: 'RechargeAccount',
      ...command,
      channelOrderNo: outcome.channelOrderNo,
      channelFeeMinor: outcome.feeMinor,
    },
    context,
  );
  const event = handled.events[0];
  if (event?.type === 'FundsRecharged') return { recharge: event.data, position: handled.position };
  // Nothing new was recorded: this recharge's event was (a concurrent retry of the same request).
  const recorded = await findRecentEvent(eventStore, streamId, deriveEventId(context.operationKey, streamId, 0));
  const earlier = recorded ? decodeEvent(recorded.type, recorded.data) : undefined;
  if (!recorded || earlier?.type !== 'FundsRecharged') throw new Error('a recharge records FundsRecharged');
  return { recharge: earlier.data, position: recorded.position };
}
