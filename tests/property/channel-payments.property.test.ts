import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { startLedgerService, type LedgerService } from '../../src/adapters/ledger-service.js';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  SIMULATED_PLATFORM,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { noFailures } from '../../src/adapters/channels/simulator/simulator-config.js';
import { bootstrapEntity } from '../../src/adapters/entity-bootstrap.js';
import { journalLinesFor } from '../../src/domain/books/posting-rules.js';
import { FINISHED_STATUSES } from '../../src/domain/channel-payments/channel-payment-decider.js';
import { decodeEvent } from '../../src/domain/event-catalogue.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { loadConfig } from '../../src/config.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';

const CNY = parseCurrency('CNY');

const paymentArbitrary = fc.record({
  amountMinor: fc.bigInt({ min: 1n, max: 400_000n }),
  method: fc.constantFrom('quick_pay', 'platform_pay'),
  /** Two refunds raced for this share of the amount each (0: none): together they may ask for more than was paid. */
  refundPpm: fc.constantFrom(0n, 300_000n, 600_000n),
});
const failuresArbitrary = fc.record({
  declineRatePpm: fc.constantFrom(0, 500_000),
  lostCallbackRatePpm: fc.constantFrom(0, 1_000_000),
  duplicateCallbackRatePpm: fc.constantFrom(0, 1_000_000),
  outOfOrderCallbackRatePpm: fc.constantFrom(0, 1_000_000),
  timeoutRatePpm: fc.constantFrom(0, 0, 300_000),
});

function context(occurredAt = DateTime.utc().toISO()) {
  return {
    actor: 'property',
    correlationId: randomUUID(),
    causationId: null,
    idempotencyKey: null,
    operationKey: randomUUID(),
    occurredAt,
  };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Over random channel payments through the in-process simulator, with random declines, lost, duplicated
 * and reordered callbacks and timeouts (each resolved by the poller), and refunds raced two at a time:
 * money is conserved between the channel and the ledger, every entry balances, the fees are booked, no
 * order is charged twice, and no payment is refunded above what was paid (1122 less what was refunded).
 */
describe('channel payments, whatever the channels do', () => {
  it('conserve money: the payee gets the gross of what the channel took, the fee is our expense, books balance', async () => {
    let service: LedgerService | undefined;
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'ledger-chanpay-prop-'));
      service = await startLedgerService(
        loadConfig({
          DATA_DIR: dataDir,
          CHANNEL_CALL_TIMEOUT_MS: '200',
          CHANNEL_POLL_INTERVAL_MS: '0',
          RECOVERY_SWEEP_INTERVAL_MS: '0',
        }),
        { channels: { callbackPost: async (url, headers, body) => deliver(url, headers, body) } },
      );
      const live = service;
      // Callbacks go to the notify handling itself (verified and applied as the route does).
      async function deliver(url: string, headers: Record<string, string>, body: string): Promise<number> {
        const path = new URL(url).pathname;
        const channelId = decodeURIComponent(path.split('/').pop()!);
        const checked = live.channels.gateway.verifyNotification(channelId, {
          path,
          headers,
          rawBody: Buffer.from(body),
        });
        if (!checked?.ok) return 401;
        await live.channelPayments.applyNotification(channelId, checked.notification, context());
        return 200;
      }
      const merchant = await bootstrapEntity(service.entities, service.clock, {
        kind: 'merchant',
        displayName: 'Property shop',
        actor: 'test',
      });
      const { accountId: payeeAccountId } = await service.commands.openAccount(
        { ownerId: merchant.entityId, accountType: 'merchant_settlement', currency: CNY, displayName: '' },
        context(),
      );
      const card = await bindTestCard(service.channels);
      const simulator = service.channels.simulator!;
      let orderSeq = 0;
      const paid: string[] = [];

      await fc.assert(
        fc.asyncProperty(
          fc.array(paymentArbitrary, { minLength: 1, maxLength: 5 }),
          failuresArbitrary,
          async (payments, failures) => {
            for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
              simulator.setFailures(id, { ...noFailures, ...failures, declineWith: ['insufficient_funds'] });
            const run: { paymentId: string; refundPpm: bigint }[] = [];
            for (const p of payments) {
              const outcome = await live.channelPayments
                .create(
                  {
                    merchantId: merchant.entityId,
                    payeeAccountId,
                    merchantOrderNo: `PROP-${process.pid}-${++orderSeq}`,
                    amount: { amountMinor: p.amountMinor, currency: CNY },
                    description: '',
                    instrument:
                      p.method === 'quick_pay'
                        ? { method: 'quick_pay', card }
                        : { method: 'platform_pay', platform: 'wechat', returnUrl: null },
                    payer: { ip: '198.51.100.1', deviceId: 'dev-1', payerId: 'p-1', phone: null },
                  },
                  context(),
                )
                .catch((error: unknown) => {
                  // Refused before any order (no channel can take it now): nothing recorded, nothing to check.
                  if ((error as { code?: string }).code === 'no_channel_available') return null;
                  throw error;
                });
              if (outcome) {
                paid.push(outcome.payment.order.paymentId);
                run.push({ paymentId: outcome.payment.order.paymentId, refundPpm: p.refundPpm });
              }
            }
            for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
              simulator.setFailures(id, noFailures);
            // Every open payment ends: callbacks, or the poller for lost ones and timeouts.
            await until(async () => {
              await live.channelPaymentPoller.sweep(DateTime.utc().plus({ hours: 1 }).toISO());
              for (const id of paid) {
                const { payment } = await live.channelPayments.get(id);
                if (!FINISHED_STATUSES.includes(payment.status)) return false;
              }
              return true;
            }, 'every payment to finish');
            // Refunds, two raced per payment, through the same failures (timeouts resolved by the poller).
            for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
              simulator.setFailures(id, { ...noFailures, timeoutRatePpm: failures.timeoutRatePpm });
            for (const { paymentId, refundPpm } of run) {
              const { payment } = await live.channelPayments.get(paymentId);
              if (payment.status !== 'completed' || refundPpm === 0n) continue;
              const amountMinor = (payment.order.amountMinor * refundPpm) / 1_000_000n || 1n;
              await Promise.all(
                ['A', 'B'].map((no) =>
                  live.channelPayments
                    .refund(
                      { paymentId, refundNo: `RF-${no}`, amount: { amountMinor, currency: CNY }, reason: '' },
                      context(),
                    )
                    .catch((error: unknown) => {
                      // The other took what was left: refused before anything was held or sent.
                      if ((error as { code?: string }).code === 'refund_exceeds_payment') return null;
                      throw error;
                    }),
                ),
              );
            }
            for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
              simulator.setFailures(id, noFailures);
            await until(async () => {
              await live.channelPaymentPoller.sweep(DateTime.utc().plus({ hours: 1 }).toISO());
              for (const { paymentId } of run) {
                const { payment } = await live.channelPayments.get(paymentId);
                for (const refund of payment.refunds.values())
                  if (refund.status !== 'completed' && refund.status !== 'failed') return false;
              }
              return true;
            }, 'every refund to finish');
          },
        ),
        { numRuns: 8 },
      );

      // The books of everything recorded: every entry balances; the clearing account holds what the channels hold for us.
      const log = await service.eventStore.readAll({ after: 'start', maxCount: 10_000 });
      const totals = new Map<string, bigint>();
      for (const recorded of log) {
        if (!recorded.streamId.startsWith('account-') && !recorded.streamId.startsWith('chanpay-')) continue;
        const lines = journalLinesFor(decodeEvent(recorded.type, recorded.data)) ?? [];
        for (const line of lines)
          totals.set(
            line.code,
            (totals.get(line.code) ?? 0n) + (line.side === 'debit' ? line.amountMinor : -line.amountMinor),
          );
      }
      expect([...totals.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
      let grossMinor = 0n;
      let feesMinor = 0n;
      let refundedMinor = 0n;
      for (const id of paid) {
        const { payment } = await service.channelPayments.get(id);
        const order = [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM]
          .map((channelId) => simulator.records(channelId).orders.get(id))
          .filter((o) => o !== undefined);
        // One order per payment at most, across every channel: never charged twice.
        expect(order.length).toBeLessThanOrEqual(1);
        if (payment.status === 'completed') {
          expect(order[0]?.state).toBe('SUCCESS');
          expect(order[0]?.feeMinor).toBe(payment.feeMinor);
          grossMinor += payment.order.amountMinor;
          feesMinor += payment.feeMinor!;
          // Never refunded above what was paid, and the channel refunded exactly what the ledger says.
          expect(payment.refundedMinor).toBeLessThanOrEqual(payment.order.amountMinor);
          expect(order[0]?.refundedMinor).toBe(payment.refundedMinor);
          refundedMinor += payment.refundedMinor;
          for (const refund of payment.refunds.values())
            if (refund.status === 'failed') expect(refund.released).toBe(refund.held);
        } else {
          expect(order[0]?.state ?? 'NONE').not.toBe('SUCCESS');
        }
      }
      expect(totals.get('1122') ?? 0n).toBe(grossMinor - feesMinor - refundedMinor);
      expect(totals.get('6603') ?? 0n).toBe(feesMinor);
      const payee = await service.commands.getAccountState(payeeAccountId);
      expect(payee.exists && payee.balanceMinor).toBe(grossMinor - refundedMinor);
      expect(refundedMinor).toBeGreaterThan(0n);
      expect(paid.length).toBeGreaterThan(5);
    } finally {
      await service?.close();
    }
  }, 120_000);
});
