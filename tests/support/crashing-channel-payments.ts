import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { LedgerService } from '../../src/adapters/ledger-service.js';
import { OneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { ChannelPaymentCommands } from '../../src/commands/channel-payments/channel-payment-commands.js';
import { ReadModelRiskHistory } from '../../src/commands/channel-payments/read-model-risk-history.js';
import type { ChannelGateway } from '../../src/commands/channels/channel-gateway.js';
import type { CommandContext } from '../../src/commands/command-context.js';
import type { RiskRules } from '../../src/domain/risk/risk-rules.js';

/**
 * The service's channel payments over the same stores and gateway, except that the process "dies" (throws)
 * right after the channel answers its first `crashes` calls: the channel has acted, nothing after it is
 * recorded. For the tests of a crash between a channel call and its result.
 */
export function crashingChannelPayments(
  service: LedgerService,
  riskRules: RiskRules,
  crashes = 1,
): ChannelPaymentCommands {
  const gateway = service.channels.gateway;
  let left = crashes;
  const crashing = new Proxy(gateway, {
    get(target, property, receiver) {
      if (property !== 'call') {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return async (channelId: string, invoke: Parameters<ChannelGateway['call']>[1]) => {
        const outcome = await target.call(channelId, invoke);
        if (left-- > 0) throw new Error('crashed after the channel answered');
        return outcome;
      };
    },
  });
  return new ChannelPaymentCommands({
    eventStore: service.eventStore,
    accounts: service.commands.accountHandler,
    gateway: crashing,
    riskRules,
    riskHistory: new ReadModelRiskHistory(service.readModels, 'Asia/Shanghai'),
    stepUpPolicy: { codeTtlMs: 60_000, challengeTtlMs: 300_000, maxAttempts: 3, maxSends: 2, minResendIntervalMs: 0 },
    codes: new OneTimeCodes(Buffer.alloc(32, 7)),
    sms: null,
    accountingTimeZone: 'Asia/Shanghai',
  });
}

/** A merchant's command context, now. */
export function merchantContext(actor: string): CommandContext {
  return {
    actor,
    correlationId: randomUUID(),
    causationId: null,
    idempotencyKey: null,
    operationKey: randomUUID(),
    occurredAt: DateTime.utc().toISO(),
  };
}
