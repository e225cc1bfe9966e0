import { z } from 'zod';
import { channelProfileJson } from '../../../domain/channels/routing-record.js';
import { minorUnits } from '../../../domain/shared/codecs.js';

/**
 * The simulator's configuration (a JSON file for `ledger channels simulate --config`, or built by tests):
 * per channel its profile (capabilities, fees, limits: the same data the router reads), its key, its
 * latency and its failure injection, all drawn from one seed so a run repeats. Rates are parts per
 * million (250_000 is a quarter of the calls).
 */
const ppm = z.int().min(0).max(1_000_000);
const range = z
  .strictObject({ min: z.int().min(0).max(600_000), max: z.int().min(0).max(600_000) })
  .refine((value) => value.min <= value.max, 'min must not exceed max');

export const failureModes = z.strictObject({
  /** Share of charges and payouts refused with one of `declineWith`. */
  declineRatePpm: ppm,
  declineWith: z.array(z.enum(['insufficient_funds', 'card_restricted', 'limit_exceeded'])).min(1),
  /** Share of calls that are carried out but whose answer is held back past any client's timeout. */
  timeoutRatePpm: ppm,
  /** Answers busy (accepting nothing) from now on, until set false. */
  outage: z.boolean(),
  /** Answers busy during these windows of the simulator's clock. */
  outageWindows: z.array(z.strictObject({ from: z.iso.datetime(), to: z.iso.datetime() })).max(100),
  lostCallbackRatePpm: ppm,
  duplicateCallbackRatePpm: ppm,
  /** Share of orders whose notices are delivered newest first. */
  outOfOrderCallbackRatePpm: ppm,
});

export type FailureModes = z.infer<typeof failureModes>;

export const noFailures: FailureModes = {
  declineRatePpm: 0,
  declineWith: ['insufficient_funds'],
  timeoutRatePpm: 0,
  outage: false,
  outageWindows: [],
  lostCallbackRatePpm: 0,
  duplicateCallbackRatePpm: 0,
  outOfOrderCallbackRatePpm: 0,
};

export const simulatedChannelConfig = z.strictObject({
  kind: z.enum(['bank', 'card_network', 'platform']),
  profile: channelProfileJson,
  keyId: z.string().min(1).max(64),
  /** The HMAC key, base64, at least 32 bytes. */
  secretBase64: z.string().min(44),
  latencyMs: range,
  /** Time from accepting an async order (online banking, platform pay) to its result. */
  asyncResultMs: range,
  /** Time from a card network's synchronous answer to its settlement notice. */
  settlementNoticeMs: range,
  /** An unpaid async order closes after this. */
  orderExpiryMs: z.int().min(1_000),
  /** How long an answer is held when a timeout is injected. */
  heldAnswerMs: z.int().min(1).max(600_000),
  /** Our balance at the channel when the simulator starts. */
  merchantBalanceMinor: minorUnits,
  failures: failureModes,
});

export type SimulatedChannelConfig = z.output<typeof simulatedChannelConfig>;

/** A cardholder known to the simulated issuers: test data only, made up, never a real person or card. */
export const simulatedCardholder = z.strictObject({
  cardNumber: z.string().regex(/^[0-9]{12,19}$/),
  holderName: z.string().min(1),
  idNumber: z.string().min(6),
  phone: z.string().regex(/^[0-9]{6,15}$/),
  bankCode: z.string(),
  cardKind: z.enum(['debit', 'credit']),
  balanceMinor: minorUnits,
});

export type SimulatedCardholder = z.output<typeof simulatedCardholder>;

export const smsGatewayFailures = z.strictObject({
  /** Share of accepted messages never delivered: answered as sent, yet absent from the outbox (a lost SMS). */
  dropRatePpm: ppm,
  /** Time before the gateway answers; past the client's timeout, the outcome is `unknown`. */
  delayMs: range,
  /** Answers busy (HTTP 503), accepting nothing, until set false. */
  outage: z.boolean(),
});

export type SmsGatewayFailures = z.infer<typeof smsGatewayFailures>;

/** The simulated SMS provider (`POST /sms/v1/send`): its signing key and failure injection. */
export const smsGatewayConfig = z.strictObject({
  keyId: z.string().min(1).max(64),
  /** The HMAC key, base64, at least 32 bytes. */
  secretBase64: z.string().min(44),
  failures: smsGatewayFailures,
});

export type SmsGatewayConfig = z.output<typeof smsGatewayConfig>;

export const simulatorConfig = z.strictObject({
  seed: z.string().min(1).max(128),
  /** Our merchant id at every simulated channel. */
  merchantId: z.string().min(1).max(32),
  /** Statements and daily limits follow this time zone's days. */
  timeZone: z.string().min(1),
  /** Waits between deliveries of a callback the receiver did not acknowledge (bounded by its length). */
  callbackRetryMs: z.array(z.int().min(1).max(86_400_000)).max(16),
  /** A callback delivery attempt gives up after this. */
  callbackTimeoutMs: z.int().min(1).max(60_000),
  /** Time an SMS code stays valid, and the wrong tries it allows. */
  smsCodeTtlMs: z.int().min(1_000),
  smsCodeAttempts: z.int().min(1).max(10),
  channels: z.record(z.string().regex(/^[a-z][a-z0-9-]{1,31}$/), simulatedChannelConfig),
  cardholders: z.array(simulatedCardholder).max(10_000),
  /** Absent: no SMS gateway (a configuration of channels only). */
  smsGateway: smsGatewayConfig.optional(),
});

export type SimulatorConfig = z.output<typeof simulatorConfig>;
export type SimulatorConfigJson = z.input<typeof simulatorConfig>;

export function parseSimulatorConfig(json: unknown): SimulatorConfig {
  const config = simulatorConfig.decode(json as SimulatorConfigJson);
  for (const [channelId, channel] of Object.entries(config.channels)) {
    if (channel.profile.channelId !== channelId)
      throw new RangeError(`channel ${channelId}: its profile names ${channel.profile.channelId}`);
    if (Buffer.from(channel.secretBase64, 'base64').length < 32)
      throw new RangeError(`channel ${channelId}: the key is shorter than 32 bytes`);
  }
  if (config.smsGateway && Buffer.from(config.smsGateway.secretBase64, 'base64').length < 32)
    throw new RangeError('the SMS gateway key is shorter than 32 bytes');
  return config;
}
