import type { ChannelSetup } from '../channel-setup.js';
import { testCardholderElements, testCardholders } from './default-simulator-config.js';
import type { BoundCard } from '../../../domain/channels/payer-instrument.js';
import { secretText } from '../../../domain/shared/sensitive-text.js';

const TIMEOUT = { timeoutMs: 5_000 };

/**
 * For tests and benchmarks against the in-process simulator (never for a real channel). Binds one of the simulator's test cardholders' cards at the given channels (default: every channel
 * offering contracts for its bank) straight through the channel ports, as the bind-card flow (issue 11)
 * will: verify the four elements, sign with the SMS code the bank sent (read from the in-process
 * simulator's outbox), or take the contract at once where the channel signs at verify. Returns the card
 * as operations take it: its bank, kind and one contract per channel.
 */
export async function bindTestCard(
  channels: ChannelSetup,
  holderIndex = 0,
  channelIds?: readonly string[],
): Promise<BoundCard> {
  const holder = testCardholders[holderIndex];
  if (!holder) throw new RangeError(`no test cardholder ${holderIndex}`);
  const elements = testCardholderElements(holder);
  const targets =
    channelIds ??
    channels.gateway.channelIds.filter((id) => {
      const profile = channels.gateway.port(id)!.profile;
      return (
        profile.capabilities.contracts !== null &&
        profile.capabilities.charges.some((o) => o.method === 'quick_pay' && o.covers.includes(holder.bankCode))
      );
    });
  const contracts: { channelId: string; contractNo: string }[] = [];
  for (const channelId of targets) {
    const port = channels.gateway.port(channelId);
    if (!port) throw new RangeError(`no channel ${channelId}`);
    const requestNo = `bind-${holderIndex}-${channelId}-${Date.now()}`;
    const verified = await port.verifyElements({ requestNo, elements }, TIMEOUT);
    if (verified.status !== 'succeeded') throw new Error(`verify at ${channelId}: ${JSON.stringify(verified)}`);
    if (verified.step === 'signed') {
      contracts.push({ channelId, contractNo: verified.contractNo });
      continue;
    }
    const simulator = channels.simulator;
    if (!simulator) throw new Error(`binding at ${channelId} reads the SMS code from the in-process simulator`);
    const sms = simulator.smsOutbox().find((message) => message.verificationId === verified.verificationId);
    if (!sms) throw new Error(`no SMS code for ${verified.verificationId}`);
    const signed = await port.sign(
      { requestNo, verificationId: verified.verificationId, code: secretText(sms.code) },
      TIMEOUT,
    );
    if (signed.status !== 'succeeded') throw new Error(`sign at ${channelId}: ${JSON.stringify(signed)}`);
    contracts.push({ channelId, contractNo: signed.contractNo });
  }
  return { bankCode: holder.bankCode, cardKind: holder.cardKind, contracts };
}
