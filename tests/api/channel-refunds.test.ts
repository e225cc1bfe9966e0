import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  SIMULATED_PLATFORM,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { noFailures } from '../../src/adapters/channels/simulator/simulator-config.js';
import type { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import { channelRefundIdOf } from '../../src/commands/channel-payments/channel-refund-process.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { parseRiskRules } from '../../src/domain/risk/risk-rules.js';
import { crashingChannelPayments, merchantContext } from '../support/crashing-channel-payments.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

type Refund = { refundId: string; status: string; amount: string; position?: string; learntBy: string | null };
type Payment = { paymentId: string; status: string; channel: string; channelFee: string; position: string };

describe('refunds and cancellations of channel payments, through the in-process simulator', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let card: BoundCard;
  let simulator: ChannelSimulator;
  let seq = 0;

  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const get = (url: string, as: Credentials = shop) => ledger.inject({ method: 'GET', url }, as);
  const payer = { ip: '198.51.100.7', deviceId: 'dev-phone-1', payerId: 'customer-1' };
  const wallet = { method: 'platform_pay', platform: 'wechat', returnUrl: null };
  const pay = async (instrument: object, amount: string, account = shopAccount, as = shop) => {
    const response = await post(
      '/v1/channel-payments',
      {
        payeeAccountId: account,
        amount,
        currency: 'CNY',
        merchantOrderNo: `CR-${process.pid}-${++seq}`,
        instrument,
        payer,
      },
      as,
    );
    expect(response.statusCode, response.body).toBe(201);
    return response.json<Payment>();
  };
  const refund = (paymentId: string, refundNo: string, amount: string) =>
    post(`/v1/channel-payments/${paymentId}/refunds`, { refundNo, amount, currency: 'CNY', reason: 'returned' });
  const balanceOf = async (account = shopAccount) => {
    const state = await ledger.service.commands.getAccountState(account);
    if (!state.exists) throw new Error('no account');
    return state.balanceMinor;
  };
  const streamOf = async (paymentId: string) => (await ledger.service.channelPayments.get(paymentId)).payment;
  async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const refundDocStatus = (refundId: string, status: string) =>
    eventually(async () => {
      const doc = await ledger.service.readModels.get('operation_refunds', refundId);
      return (doc?.data as { status?: string } | undefined)?.status === status ? true : undefined;
    }, `the refund read model to show ${status}`);
  const resetFailures = () => {
    for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
      simulator.setFailures(id, noFailures);
  };
  const journalOf = async (operationId: string, position: string) =>
    (await get(`/v1/books/journal?operationId=${operationId}&minPosition=${position}`, ledger.operator))
      .json<{ entries: { lines: { code: string; side: string; amount: string }[] }[] }>()
      .entries.map((e) => e.lines.map((l) => `${l.side} ${l.code} ${l.amount}`));
  const trialBalanced = async (position: string) => {
    const day = DateTime.utc().setZone('Asia/Shanghai').toISODate();
    return (
      await get(`/v1/books/trial-balance?date=${day}&currency=CNY&minPosition=${position}`, ledger.operator)
    ).json<{ balanced: boolean }>().balanced;
  };
  const quickPay = () => ({ method: 'quick_pay', card });

  beforeAll(async () => {
    ledger = await startTestLedger(
      undefined,
      { CHANNEL_CALL_TIMEOUT_MS: '500', CHANNEL_POLL_INTERVAL_MS: '0', CHANNEL_EXPLORATION_PPM: '0' },
      {
        service: {
          channels: {
            callbackPost: async (url, headers, body) =>
              (await ledger.app.inject({ method: 'POST', url: new URL(url).pathname, headers, payload: body }))
                .statusCode,
          },
        },
      },
    );
    simulator = ledger.service.channels.simulator!;
    shop = await createCaller(ledger.service, 'merchant', 'Refund shop');
    shopAccount = (
      await post(
        '/v1/accounts',
        { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
        ledger.operator,
      )
    ).json<{ accountId: string }>().accountId;
    card = await bindTestCard(ledger.service.channels);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('refunds in parts at the bank, never above what was paid; books Dr merchant Cr 1122; trial balance balanced', async () => {
    const payment = await pay(quickPay(), '100.00');
    expect(payment.channel).toBe(SIMULATED_BANK);
    const before = await balanceOf();
    const holder = simulator.config.cardholders[0]!;
    const cardBefore = holder.balanceMinor;

    const first = await refund(payment.paymentId, 'RF-1', '30.00');
    expect(first.statusCode, first.body).toBe(201);
    const done = first.json<Refund>();
    expect(done).toMatchObject({ status: 'completed', amount: '30.00', learntBy: 'answer' });
    expect(await balanceOf()).toBe(before - 3_000n);
    expect(holder.balanceMinor).toBe(cardBefore + 3_000n);

    // The same refund number again answers the first refund; other terms are refused.
    const again = await refund(payment.paymentId, 'RF-1', '30.00');
    expect(again.json()).toMatchObject({ refundId: done.refundId, status: 'completed' });
    expect((await refund(payment.paymentId, 'RF-1', '31.00')).json()).toMatchObject({ code: 'duplicate_refund_no' });
    const over = await refund(payment.paymentId, 'RF-2', '70.01');
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'refund_exceeds_payment' });
    const rest = await refund(payment.paymentId, 'RF-3', '70.00');
    expect(rest.statusCode, rest.body).toBe(201);
    expect(simulator.records(SIMULATED_BANK).refunds.size).toBeGreaterThanOrEqual(2);
    expect(simulator.records(SIMULATED_BANK).attempts.get(`refund:refund:${done.refundId}`)).toBe(1);

    const listed = (await get(`/v1/channel-payments/${payment.paymentId}/refunds`)).json<{
      refundedAmount: string;
      refunds: Refund[];
    }>();
    expect(listed.refundedAmount).toBe('100.00');
    expect(listed.refunds.map((r) => [r.amount, r.status])).toEqual([
      ['30.00', 'completed'],
      ['70.00', 'completed'],
    ]);
    const position = rest.json<Refund>().position!;
    expect(await journalOf(done.refundId, position)).toEqual([['debit 2202 30.00', 'credit 1122 30.00']]);
    expect(await trialBalanced(position)).toBe(true);
    const view = (await get(`/v1/channel-payments/${payment.paymentId}`)).json<{ refundedAmount: string }>();
    expect(view.refundedAmount).toBe('100.00');
  });

  it("refused while the merchant's available balance is short: nothing sent, nothing held", async () => {
    const other = await createCaller(ledger.service, 'merchant', 'Short shop');
    const account = (
      await post(
        '/v1/accounts',
        { ownerId: other.entityId, type: 'merchant_settlement', currency: 'CNY' },
        ledger.operator,
      )
    ).json<{ accountId: string }>().accountId;
    const payment = await pay(quickPay(), '50.00', account, other);
    const frozen = await post(`/v1/accounts/${account}/freezes`, { amount: '45.00', currency: 'CNY' }, ledger.operator);
    expect(frozen.statusCode, frozen.body).toBe(201);
    const response = await post(
      `/v1/channel-payments/${payment.paymentId}/refunds`,
      { refundNo: 'RF-1', amount: '10.00', currency: 'CNY' },
      other,
    );
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toMatchObject({ code: 'insufficient_funds' });
    expect(await balanceOf(account)).toBe(5_000n);
    const refundId = channelRefundIdOf(payment.paymentId, 'RF-1');
    expect(simulator.records(SIMULATED_BANK).refunds.has(refundId)).toBe(false);
    expect((await streamOf(payment.paymentId)).refunds.get('RF-1')).toMatchObject({ status: 'failed', held: false });
  });

  it('a decline by the channel releases the held money once; the books net to zero', async () => {
    const payment = await pay(quickPay(), '40.00');
    const before = await balanceOf();
    // The channel refunded it meanwhile by its own console: it refuses ours as more than what is left.
    simulator.records(SIMULATED_BANK).orders.get(payment.paymentId)!.refundedMinor = 4_000n;
    const response = await refund(payment.paymentId, 'RF-1', '40.00');
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toMatchObject({
      code: 'channel_declined',
      details: { declineCode: 'refund_exceeds_payment' },
    });
    expect(await balanceOf()).toBe(before);
    const refundId = channelRefundIdOf(payment.paymentId, 'RF-1');
    const state = (await streamOf(payment.paymentId)).refunds.get('RF-1');
    expect(state).toMatchObject({ status: 'failed', held: true, released: true });
    await refundDocStatus(refundId, 'failed');
    const position = (await ledger.service.channelPayments.get(payment.paymentId)).position.toString();
    expect(await journalOf(refundId, position)).toEqual([
      ['debit 2202 40.00', 'credit 1122 40.00'],
      ['debit 1122 40.00', 'credit 2202 40.00'],
    ]);
    expect(await trialBalanced(position)).toBe(true);
  });

  it('a platform refund answers 202 pending; the signed callback completes it, applied once', async () => {
    const payment = await pay(wallet, '20.00');
    await eventually(
      async () => ((await streamOf(payment.paymentId)).status === 'completed' ? true : undefined),
      'the wallet payment to complete',
    );
    const response = await refund(payment.paymentId, 'RF-1', '5.00');
    expect(response.statusCode, response.body).toBe(202);
    const pending = response.json<Refund>();
    expect(pending.status).toBe('pending');
    await eventually(
      async () => ((await streamOf(payment.paymentId)).refunds.get('RF-1')?.status === 'completed' ? true : undefined),
      'the refund callback',
    );
    expect((await streamOf(payment.paymentId)).refunds.get('RF-1')).toMatchObject({ learntBy: 'notification' });
    expect(simulator.records(SIMULATED_PLATFORM).attempts.get(`refund:refund:${pending.refundId}`)).toBe(1);
  });

  it('a lost refund callback: GET of the refund asks the channel once and completes it', async () => {
    const payment = await pay(wallet, '12.00');
    await eventually(
      async () => ((await streamOf(payment.paymentId)).status === 'completed' ? true : undefined),
      'the wallet payment to complete',
    );
    simulator.setFailures(SIMULATED_PLATFORM, { lostCallbackRatePpm: 1_000_000 });
    try {
      const pending = (await refund(payment.paymentId, 'RF-1', '12.00')).json<Refund>();
      expect(pending.status).toBe('pending');
      await eventually(
        async () =>
          simulator.records(SIMULATED_PLATFORM).refunds.get(pending.refundId)?.state === 'SUCCESS' ? true : undefined,
        'the channel to make the refund',
      );
      const asked = await get(`/v1/channel-payments/${payment.paymentId}/refunds/${pending.refundId}`);
      expect(asked.json()).toMatchObject({ status: 'completed', learntBy: 'query' });
    } finally {
      resetFailures();
    }
  });

  it('a refund timeout leaves it unknown (202); the poller asks and resolves it, refunded once', async () => {
    const payment = await pay(quickPay(), '60.00');
    simulator.setFailures(SIMULATED_BANK, { timeoutRatePpm: 1_000_000 });
    let refundId: string;
    try {
      const response = await refund(payment.paymentId, 'RF-1', '60.00');
      expect(response.statusCode, response.body).toBe(202);
      const unknown = response.json<Refund>();
      expect(unknown.status).toBe('unknown');
      refundId = unknown.refundId;
    } finally {
      resetFailures();
    }
    await refundDocStatus(refundId, 'unknown');
    expect(await ledger.service.channelPaymentPoller.sweep(DateTime.utc().toISO())).toBe(0);
    await ledger.service.channelPaymentPoller.sweep(DateTime.utc().plus({ minutes: 1 }).toISO());
    expect((await streamOf(payment.paymentId)).refunds.get('RF-1')).toMatchObject({
      status: 'completed',
      learntBy: 'query',
    });
    expect(simulator.records(SIMULATED_BANK).attempts.get(`refund:refund:${refundId}`)).toBe(1);
    await refundDocStatus(refundId, 'completed');
  });

  it('a crash between the refund call and its result is resumed by asking the channel: refunded once', async () => {
    const payment = await pay(quickPay(), '33.00');
    const dying = crashingChannelPayments(
      ledger.service,
      parseRiskRules({ ruleVersion: 'none', timeZone: 'Asia/Shanghai', rules: [] }),
    );
    const context = merchantContext(shop.entityId);
    const before = await balanceOf();
    await expect(
      dying.refund(
        {
          paymentId: payment.paymentId,
          refundNo: 'RF-1',
          amount: { amountMinor: 3_300n, currency: 'CNY' as never },
          reason: '',
        },
        context,
      ),
    ).rejects.toThrow('crashed');
    const refundId = channelRefundIdOf(payment.paymentId, 'RF-1');
    expect(simulator.records(SIMULATED_BANK).refunds.get(refundId)?.state).toBe('SUCCESS');
    expect((await streamOf(payment.paymentId)).refunds.get('RF-1')?.status).toBe('submitted');
    await eventually(async () => {
      const doc = await ledger.service.readModels.get('operations', payment.paymentId);
      return (doc?.data as { inFlight?: boolean } | undefined)?.inFlight === true ? true : undefined;
    }, 'the payment to show a refund in flight');
    await resumeStalledOperations(
      { resumeOperation: (_kind, id, c) => ledger.service.channelPayments.resume(id, c) },
      ledger.service.readModels,
      DateTime.utc().plus({ minutes: 5 }).toISO(),
      1_000,
    );
    expect((await streamOf(payment.paymentId)).refunds.get('RF-1')).toMatchObject({
      status: 'completed',
      learntBy: 'query',
    });
    expect(simulator.records(SIMULATED_BANK).attempts.get(`refund:refund:${refundId}`)).toBe(1);
    expect(await balanceOf()).toBe(before - 3_300n);
  });

  it('cancels a same-day payment in full: the fee comes back; refused where the channel cannot void, or after a refund', async () => {
    const payment = await pay(quickPay(), '80.00');
    const before = await balanceOf();
    const response = await post(`/v1/channel-payments/${payment.paymentId}/cancel`, {
      reason: 'customer changed mind',
    });
    expect(response.statusCode, response.body).toBe(200);
    const cancelled = response.json<Refund & { kind: string }>();
    expect(cancelled).toMatchObject({ kind: 'cancellation', status: 'completed', amount: '80.00' });
    expect(await balanceOf()).toBe(before - 8_000n);
    expect((await streamOf(payment.paymentId)).status).toBe('cancelled');
    expect(simulator.records(SIMULATED_BANK).orders.get(payment.paymentId)?.state).toBe('CANCELLED');
    expect(await journalOf(cancelled.refundId, cancelled.position!)).toEqual([
      ['debit 2202 80.00', 'credit 1122 80.00'],
      [`debit 1122 ${payment.channelFee}`, `credit 6603 ${payment.channelFee}`],
    ]);
    expect(await trialBalanced(cancelled.position!)).toBe(true);
    expect((await refund(payment.paymentId, 'RF-1', '1.00')).json()).toMatchObject({
      code: 'operation_state_conflict',
    });

    const refunded = await pay(quickPay(), '10.00');
    expect((await refund(refunded.paymentId, 'RF-1', '1.00')).statusCode).toBe(201);
    const afterRefund = await post(`/v1/channel-payments/${refunded.paymentId}/cancel`, {});
    expect(afterRefund.json()).toMatchObject({ code: 'operation_state_conflict', details: { reason: 'refunded' } });

    const walletPayment = await pay(wallet, '9.00');
    await eventually(
      async () => ((await streamOf(walletPayment.paymentId)).status === 'completed' ? true : undefined),
      'the wallet payment to complete',
    );
    const noVoid = await post(`/v1/channel-payments/${walletPayment.paymentId}/cancel`, {});
    expect(noVoid.statusCode).toBe(409);
    expect(noVoid.json()).toMatchObject({ details: { reason: 'cancel_not_supported' } });
  });

  it('the OpenAPI document describes the refund routes with examples, and the notify endpoint takes raw bytes', async () => {
    const doc = (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: object }> } }>>;
      components: { schemas: Record<string, { example?: unknown }> };
    }>();
    const refundPost = doc.paths['/v1/channel-payments/{paymentId}/refunds']?.['post'];
    expect(JSON.stringify(refundPost?.requestBody)).toContain('RF-0001');
    expect(doc.components.schemas['ChannelRefund']?.example).toMatchObject({ kind: 'refund', status: 'completed' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/channel-payments/{paymentId}/refunds/{refundId}',
        '/v1/channel-payments/{paymentId}/cancel',
      ]),
    );
    const notify = doc.paths['/v1/channel-notifications/{channel}']?.['post'];
    expect(notify?.requestBody?.content['application/json']?.schema).toMatchObject({
      type: 'string',
      format: 'binary',
    });
  });
});
