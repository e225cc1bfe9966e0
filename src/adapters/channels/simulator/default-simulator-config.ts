import { createHmac } from 'node:crypto';
import { luhnCheckDigit } from '../../../domain/accounts/account-number.js';
import type { ChannelProfile } from '../../../domain/channels/channel-profile.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { parseCurrency } from '../../../domain/money/money.js';
import { noFailures, type SimulatedCardholder, type SimulatorConfig } from './simulator-config.js';
import { cardNumber, idNumber, personName, phoneNumber } from '../../../domain/shared/sensitive-text.js';
import type { CardholderElements } from '../../../ports/channel-port.js';

/**
 * The three simulated channels `ledger channels simulate` runs when given no --config: a bank answering
 * at once (sim-citybank), a card network answering at once and settling later (sim-cardnet), a wallet
 * platform answering by callback (sim-wallet). Their keys derive from the seed: for local runs and tests
 * only; a shared deployment gives its own keys in a config file.
 */
export const SIMULATED_BANK = 'sim-citybank';
export const SIMULATED_CARD_NETWORK = 'sim-cardnet';
export const SIMULATED_PLATFORM = 'sim-wallet';

const CNY: readonly CurrencyCode[] = [parseCurrency('CNY')];

export const simulatedProfiles: Readonly<Record<string, ChannelProfile>> = {
  [SIMULATED_BANK]: {
    channelId: SIMULATED_BANK,
    currencies: CNY,
    capabilities: {
      charges: [
        {
          method: 'quick_pay',
          covers: ['CITY'],
          cardKinds: ['debit', 'credit'],
          fee: { ratePpm: 2_000n, fixedMinor: 0n, minMinor: 10n, maxMinor: 2_000n },
        },
        {
          method: 'online_banking',
          covers: ['CITY'],
          cardKinds: ['debit', 'credit'],
          fee: { ratePpm: 1_000n, fixedMinor: 0n, minMinor: 0n, maxMinor: 1_000n },
        },
      ],
      payout: { fee: { ratePpm: 0n, fixedMinor: 100n, minMinor: 100n, maxMinor: 100n } },
      refund: true,
      cancel: true,
      orderQuery: true,
      refundQuery: true,
      balanceQuery: true,
      statements: true,
      settlementNotice: false,
      contracts: 'verify_then_sign',
    },
    limits: { perTransactionMinMinor: 1n, perTransactionMaxMinor: 5_000_000n, dailyMaxMinor: 100_000_000n },
  },
  [SIMULATED_CARD_NETWORK]: {
    channelId: SIMULATED_CARD_NETWORK,
    currencies: CNY,
    capabilities: {
      charges: [
        {
          method: 'quick_pay',
          covers: ['CITY', 'ICBC', 'CCB', 'ABC', 'BOC', 'CMB'],
          cardKinds: ['debit', 'credit'],
          fee: { ratePpm: 3_800n, fixedMinor: 0n, minMinor: 0n, maxMinor: null },
        },
      ],
      payout: { fee: { ratePpm: 0n, fixedMinor: 200n, minMinor: 200n, maxMinor: 200n } },
      refund: true,
      cancel: true,
      orderQuery: true,
      refundQuery: true,
      balanceQuery: true,
      statements: true,
      settlementNotice: true,
      contracts: 'sign_at_verify',
    },
    limits: { perTransactionMinMinor: 1n, perTransactionMaxMinor: 2_000_000n, dailyMaxMinor: 50_000_000n },
  },
  [SIMULATED_PLATFORM]: {
    channelId: SIMULATED_PLATFORM,
    currencies: CNY,
    capabilities: {
      charges: [
        {
          method: 'platform_pay',
          covers: ['wechat', 'alipay'],
          cardKinds: [],
          fee: { ratePpm: 6_000n, fixedMinor: 0n, minMinor: 1n, maxMinor: null },
        },
      ],
      payout: null,
      refund: true,
      cancel: false,
      orderQuery: true,
      refundQuery: true,
      balanceQuery: true,
      statements: true,
      settlementNotice: false,
      contracts: null,
    },
    limits: { perTransactionMinMinor: 1n, perTransactionMaxMinor: 5_000_000n, dailyMaxMinor: 200_000_000n },
  },
};

const KINDS = {
  [SIMULATED_BANK]: 'bank',
  [SIMULATED_CARD_NETWORK]: 'card_network',
  [SIMULATED_PLATFORM]: 'platform',
} as const;

/** The key a channel of the default configuration uses, derived from the seed (local use only). */
export function simulatedChannelSecret(seed: string, channelId: string): Buffer {
  return createHmac('sha256', `ledger-channel-simulator:${seed}`).update(channelId).digest();
}

/**
 * A made-up card number of the test range (starts 000000, so no issuer's), with a valid Luhn digit. The
 * serial sits in digits 7 to 10, so each test card has a 10-digit BIN of its own: the test rows of
 * resources/card-bins.csv name its bank and kind.
 */
export function testCardNumber(serial: number): string {
  if (!Number.isInteger(serial) || serial < 1 || serial > 9_999)
    throw new RangeError('a test card serial is 1 to 9999');
  const body = `000000${String(serial).padStart(4, '0')}00000`;
  return `${body}${luhnCheckDigit(body)}`;
}

/** Test cardholders: made-up names, ID numbers, phones and cards, none a real person's. */
export const testCardholders: readonly SimulatedCardholder[] = [
  { serial: 1, name: 'Test Holder One', bank: 'CITY', kind: 'debit' as const, balanceMinor: 10_000_000n },
  { serial: 2, name: 'Test Holder Two', bank: 'CITY', kind: 'credit' as const, balanceMinor: 5_000_000n },
  { serial: 3, name: 'Test Holder Three', bank: 'ICBC', kind: 'debit' as const, balanceMinor: 10_000_000n },
  { serial: 4, name: 'Test Holder Four', bank: 'CCB', kind: 'debit' as const, balanceMinor: 100n },
].map((holder) => ({
  cardNumber: testCardNumber(holder.serial),
  holderName: holder.name,
  idNumber: `TEST${String(holder.serial).padStart(14, '0')}`,
  phone: `1000000000${holder.serial}`,
  bankCode: holder.bank,
  cardKind: holder.kind,
  balanceMinor: holder.balanceMinor,
}));

export function defaultSimulatorConfig(seed = 'ledger'): SimulatorConfig {
  const channels = Object.fromEntries(
    Object.entries(simulatedProfiles).map(([channelId, profile]) => [
      channelId,
      {
        kind: KINDS[channelId as keyof typeof KINDS],
        profile,
        keyId: `${channelId}-key-1`,
        secretBase64: simulatedChannelSecret(seed, channelId).toString('base64'),
        latencyMs: { min: 0, max: 5 },
        asyncResultMs: { min: 50, max: 200 },
        settlementNoticeMs: { min: 50, max: 200 },
        orderExpiryMs: 15 * 60_000,
        heldAnswerMs: 60_000,
        merchantBalanceMinor: 100_000_000n,
        failures: noFailures,
      },
    ]),
  );
  return {
    seed,
    merchantId: 'LEDGER0001',
    timeZone: 'Asia/Shanghai',
    callbackRetryMs: [200, 1_000, 5_000, 30_000],
    callbackTimeoutMs: 5_000,
    smsCodeTtlMs: 5 * 60_000,
    smsCodeAttempts: 3,
    channels,
    cardholders: [...testCardholders],
    smsGateway: {
      keyId: 'sim-sms-key-1',
      secretBase64: simulatedChannelSecret(seed, 'sim-sms').toString('base64'),
      failures: { dropRatePpm: 0, delayMs: { min: 0, max: 0 }, outage: false },
    },
  };
}

/** A cardholder balance no load run spends: 10^10 CNY. */
const UNLIMITED_MINOR = 1_000_000_000_000n;

/**
 * The default channels for load runs (benchmarks) and tests that exercise the ledger rather than the
 * channels: no latency, cardholders and our merchant balances that never run out, and (with
 * `raiseLimits`) per-transaction and daily limits no run reaches. Fees, capabilities and answers stay.
 */
export function simulatorConfigForLoad(seed = 'ledger', { raiseLimits = false } = {}): SimulatorConfig {
  const config = defaultSimulatorConfig(seed);
  return {
    ...config,
    channels: Object.fromEntries(
      Object.entries(config.channels).map(([id, channel]) => [
        id,
        {
          ...channel,
          latencyMs: { min: 0, max: 0 },
          merchantBalanceMinor: UNLIMITED_MINOR,
          profile: raiseLimits
            ? {
                ...channel.profile,
                limits: {
                  ...channel.profile.limits,
                  perTransactionMaxMinor: UNLIMITED_MINOR,
                  dailyMaxMinor: UNLIMITED_MINOR * 1_000n,
                },
              }
            : channel.profile,
        },
      ]),
    ),
    cardholders: config.cardholders.map((holder) => ({ ...holder, balanceMinor: UNLIMITED_MINOR })),
  };
}

/** A test cardholder's four elements as a channel takes them (a debit card: no expiry or CVN2). */
export function testCardholderElements(holder: SimulatedCardholder): CardholderElements {
  return {
    cardNumber: cardNumber(holder.cardNumber),
    holderName: personName(holder.holderName),
    idNumber: idNumber(holder.idNumber),
    phone: phoneNumber(holder.phone),
    expiry: null,
    cvn2: null,
  };
}
