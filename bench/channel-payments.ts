import { randomUUID } from 'node:crypto';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import {
  SIMULATED_CARD_NETWORK,
  testCardholderElements,
  testCardholders,
} from '../src/adapters/channels/simulator/default-simulator-config.js';
import { loadConfig } from '../src/config.js';
import { parseRiskRules } from '../src/domain/risk/risk-rules.js';
import type { BoundCard } from '../src/domain/channels/payer-instrument.js';
import {
  extraFigure,
  log,
  mapConcurrent,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import { BENCH_CURRENCY, benchContext } from './ledger-fixtures.js';
import {
  BENCH_CHANNELS,
  openFundedWallets,
  openMerchantAccount,
  registerMerchants,
  waitForProjections,
} from './payment-ledger.js';

/**
 * Channel payments through the in-process simulator (latency 0), at the command layer (no HTTP, which
 * bench/payments.ts measures for balance payments): ChannelPaymentCreated (with its routing decision),
 * the risk verdict, Submitted, the card network's answer through the HTTP channel adapter (signed wire
 * messages over Fastify inject), Succeeded, the payee's credit, Completed; 32 in flight. Quick pay with a
 * card bound at sim-cardnet only (it signs at verify), so every payment takes the same path.
 *
 *   channel-payments: channel payments/s. Baseline, same run, alternating rounds: balance payments/s
 *     (service.commands.pay, wallet to merchant, the same 32 in flight). No target: a channel payment is
 *     two processes' worth of work (a signed channel round trip, six events on two streams); the ratio
 *     says what the channel path costs.
 *   channel-refunds: full refunds/s of the channel payments just measured, through the same card network
 *     (request, the merchant's debit, Submitted, the channel's answer, Succeeded), the same in flight.
 *     Baseline: the channel payments/s of the same run.
 *   balance-payments-during-outage: balance payments/s while channel payments keep arriving at a fixed
 *     rate (half the channel payments/s just measured) against the card network in an outage (refused
 *     `unavailable`, then at once by the open breaker). Baseline, same run, alternating: balance
 *     payments/s beside the same rate of channel payments to the healthy network. Target: at least 90%
 *     of it: a channel outage does not lower the throughput of balance payments. (The channel payments
 *     come at a rate, as requests do: a client retrying a refusal in a tight loop is load of its own.)
 */
export const name = 'channel-payments';

const IN_FLIGHT = 32;
const WALLETS = { full: 2_000, quick: 200 } as const;
const WALLET_FUNDS_MINOR = 10_000_000n;
const SIZES = {
  full: { roundSeconds: 5, rounds: 2 },
  quick: { roundSeconds: 1.5, rounds: 1 },
} as const;
const OUTAGE_TARGET = 0.9;
/** Payments kept for the refund round: more than a round at the measured rates refunds. */
const MAX_REFUNDED = 20_000;

/** Runs `task` in IN_FLIGHT lanes for `seconds` (or until `enough`); the number of tasks that finished. */
async function forSeconds(
  seconds: number,
  task: (index: number) => Promise<unknown>,
  enough: () => boolean = () => false,
): Promise<number> {
  const untilMs = Date.now() + seconds * 1_000;
  let done = 0;
  let next = 0;
  await mapConcurrent(
    Array.from({ length: IN_FLIGHT }, (_, lane) => lane),
    IN_FLIGHT,
    async () => {
      while (Date.now() < untilMs && !enough()) {
        await task(next++);
        done += 1;
      }
    },
  );
  return done;
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { roundSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir(name, async (dir) => {
    const service: LedgerService = await startLedgerService(
      loadConfig({
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        CHANNEL_EXPLORATION_PPM: '0',
        CHANNEL_POLL_INTERVAL_MS: '0',
        RECOVERY_SWEEP_INTERVAL_MS: '0',
      }),
      {
        // No latency, cardholders and limits no run reaches (the other benchmarks' channels).
        channels: { ...BENCH_CHANNELS, callbackPost: async () => 200 },
        channelPayments: { riskRules: parseRiskRules({ ruleVersion: 'bench', timeZone: 'Asia/Shanghai', rules: [] }) },
      },
    );
    try {
      const wallets = options.quick ? WALLETS.quick : WALLETS.full;
      log(name, `setting up a merchant, ${wallets} funded wallets and a card bound at ${SIMULATED_CARD_NETWORK}`);
      const [merchant] = await registerMerchants(service, 1);
      const payeeAccountId = await openMerchantAccount(service, merchant!, 'channel');
      const payers = await openFundedWallets(service, wallets, WALLET_FUNDS_MINOR);
      const card = await bindAtCardNetwork(service);
      await waitForProjections(service);
      const runId = randomUUID().slice(0, 8);
      let seq = 0;
      /** Channel payments completed in the measured rounds, each refunded in full in the refund round. */
      const completed: string[] = [];
      const channelPayment = async () => {
        const n = seq++;
        const outcome = await service.channelPayments
          .create(
            {
              merchantId: merchant!.entityId,
              payeeAccountId,
              merchantOrderNo: `CB-${runId}-${n}`,
              amount: { amountMinor: 100n + BigInt(n % 900), currency: BENCH_CURRENCY },
              description: '',
              instrument: { method: 'quick_pay', card },
              payer: { ip: '198.51.100.1', deviceId: `dev-${n % 1_000}`, payerId: `p-${n % 1_000}`, phone: null },
            },
            benchContext(`chanpay-${runId}-${n}`),
          )
          .catch(() => undefined); // refused during the outage: counted all the same, it is the load
        if (outcome?.payment.status === 'completed' && completed.length < MAX_REFUNDED)
          completed.push(outcome.payment.order.paymentId);
      };
      const balancePayment = async (i: number) => {
        const n = seq++;
        await service.commands.pay(
          {
            merchantId: merchant!.entityId,
            merchantOrderNo: `BB-${runId}-${n}`,
            description: '',
            payerAccountId: payers[i % payers.length]!,
            payeeAccountId,
            amount: { amountMinor: 100n, currency: BENCH_CURRENCY },
            payerIp: null,
            payerPlatform: null,
          },
          benchContext(`pay-${runId}-${n}`),
        );
      };
      let channelDone = 0;
      let balanceDone = 0;
      for (let round = 0; round < rounds; round += 1) {
        channelDone += await forSeconds(roundSeconds, channelPayment);
        balanceDone += await forSeconds(roundSeconds, balancePayment);
      }
      const seconds = rounds * roundSeconds;
      log(
        name,
        `channel payments ${(channelDone / seconds).toFixed(0)}/s, balance payments ${(balanceDone / seconds).toFixed(0)}/s`,
      );

      // Refunds of those payments in full through the same channel, the same in flight, until time or payments run out.
      const toRefund = completed.splice(0);
      let refunded = 0;
      const refundStartedMs = Date.now();
      await forSeconds(
        roundSeconds * rounds,
        async (i) => {
          const paymentId = toRefund[i];
          if (paymentId === undefined) return new Promise((resolve) => setTimeout(resolve, 1));
          const { payment } = await service.channelPayments.get(paymentId);
          const done = await service.channelPayments.refund(
            {
              paymentId,
              refundNo: 'RF-1',
              amount: { amountMinor: payment.order.amountMinor, currency: BENCH_CURRENCY },
              reason: '',
            },
            benchContext(`refund-${runId}-${i}`),
          );
          if (done.refund.status === 'completed') refunded += 1;
        },
        () => refunded >= toRefund.length,
      );
      const refundSeconds = (Date.now() - refundStartedMs) / 1_000;
      log(name, `channel refunds ${(refunded / refundSeconds).toFixed(0)}/s (${refunded} of ${toRefund.length})`);

      // Balance payments beside channel payments arriving at a fixed rate, healthy network then an outage.
      const ratePerSecond = Math.max(1, Math.floor(channelDone / seconds / 2));
      let healthy = 0;
      let outage = 0;
      const beside = async (down: boolean): Promise<number> => {
        service.channels.simulator!.setFailures(SIMULATED_CARD_NETWORK, { outage: down });
        let stop = false;
        const arrivals: Promise<void>[] = [];
        const timer = setInterval(() => {
          if (!stop) arrivals.push(channelPayment());
        }, 1_000 / ratePerSecond);
        try {
          return await forSeconds(roundSeconds, balancePayment);
        } finally {
          stop = true;
          clearInterval(timer);
          await Promise.all(arrivals);
        }
      };
      for (let round = 0; round < rounds; round += 1) {
        healthy += await beside(false);
        outage += await beside(true);
      }
      service.channels.simulator!.setFailures(SIMULATED_CARD_NETWORK, { outage: false });
      return [
        extraFigure({
          name: 'channel-payments',
          value: channelDone / seconds,
          unit: 'payments/s',
          baseline: 'balance payments/s (commands.pay), same run, same in flight',
          baselineValue: balanceDone / seconds,
        }),
        extraFigure({
          name: 'channel-refunds',
          value: refunded / refundSeconds,
          unit: 'refunds/s',
          baseline: 'channel payments/s, same run, same in flight',
          baselineValue: channelDone / seconds,
        }),
        targetFigure({
          name: 'balance-payments-during-outage',
          value: outage / seconds,
          unit: 'payments/s',
          baseline: 'balance payments/s beside the same rate of channel payments to the healthy network, same run',
          baselineValue: healthy / seconds,
          target: OUTAGE_TARGET,
        }),
      ];
    } finally {
      await service.close();
    }
  });
}

/** The first test cardholder's card signed at the card network, which signs at verify (no SMS step). */
async function bindAtCardNetwork(service: LedgerService): Promise<BoundCard> {
  const holder = testCardholders[0]!;
  const port = service.channels.gateway.port(SIMULATED_CARD_NETWORK)!;
  const verified = await port.verifyElements(
    {
      requestNo: `bench-bind-${randomUUID()}`,
      elements: testCardholderElements(holder),
    },
    { timeoutMs: 5_000 },
  );
  if (verified.status !== 'succeeded' || verified.step !== 'signed')
    throw new Error(`binding at ${SIMULATED_CARD_NETWORK}: ${JSON.stringify(verified)}`);
  return {
    bankCode: holder.bankCode,
    cardKind: holder.cardKind,
    contracts: [{ channelId: SIMULATED_CARD_NETWORK, contractNo: verified.contractNo }],
  };
}
