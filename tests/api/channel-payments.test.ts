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
import { challengeIdOf, channelPaymentIdOf } from '../../src/commands/channel-payments/channel-payment-process.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { parseRiskRules } from '../../src/domain/risk/risk-rules.js';
import { phoneNumber } from '../../src/domain/shared/sensitive-text.js';
import { newNonce, signatureHeaders } from '../../src/adapters/channels/wire/wire-signing.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import { crashingChannelPayments, merchantContext } from '../support/crashing-channel-payments.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

/** The service's clock, moved by the tests (the breaker's open time, the poller's schedule). */
let offsetMs = 0;
const clock = { now: () => DateTime.utc().plus({ milliseconds: offsetMs }) };

const RISK_RULES = parseRiskRules({
  ruleVersion: 'test-risk-1',
  timeZone: 'Asia/Shanghai',
  rules: [
    { id: 'blocked-devices', kind: 'block_list', list: 'device', entries: ['dev-stolen'], action: 'block' },
    {
      id: 'big-payment',
      kind: 'amount_per_transaction',
      party: 'payer',
      currency: 'CNY',
      maxMinor: '100000',
      action: 'step_up',
    },
  ],
});

describe('channel payments over HTTP, through the in-process simulator', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let card: BoundCard;
  let simulator: ChannelSimulator;
  let orderSeq = 0;

  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const get = (url: string, as: Credentials = shop) => ledger.inject({ method: 'GET', url }, as);
  const nextOrderNo = () => `CP-${process.pid}-${++orderSeq}`;
  const payer = { ip: '198.51.100.7', deviceId: 'dev-phone-1', payerId: 'customer-1' };
  const pay = (instrument: object, amount = '25.00', extra: object = {}) =>
    post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount,
      currency: 'CNY',
      merchantOrderNo: nextOrderNo(),
      description: 'test order',
      instrument,
      payer,
      ...extra,
    });
  const quickPay = () => ({ method: 'quick_pay', card });
  const wallet = { method: 'platform_pay', platform: 'wechat', returnUrl: null };
  /** The payee's balance as the write side has it (minor units): exact whatever the read models' lag. */
  const balanceOf = async () => {
    const state = await ledger.service.commands.getAccountState(shopAccount);
    if (!state.exists) throw new Error('no shop account');
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
  const settledStatus = (paymentId: string, status: string) =>
    eventually(
      async () => ((await streamOf(paymentId)).status === status ? true : undefined),
      `${paymentId} ${status}`,
    );
  const resetFailures = () => {
    for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
      simulator.setFailures(id, noFailures);
  };

  beforeAll(async () => {
    ledger = await startTestLedger(
      undefined,
      { CHANNEL_CALL_TIMEOUT_MS: '500', CHANNEL_POLL_INTERVAL_MS: '0', CHANNEL_EXPLORATION_PPM: '0' },
      {
        clock,
        service: {
          clock,
          // The simulator's callbacks go straight into the app, as over HTTP (same path, headers and bytes).
          channels: {
            callbackPost: async (url, headers, body) =>
              (await ledger.app.inject({ method: 'POST', url: new URL(url).pathname, headers, payload: body }))
                .statusCode,
          },
          channelPayments: { riskRules: RISK_RULES },
        },
      },
    );
    simulator = ledger.service.channels.simulator!;
    shop = await createCaller(ledger.service, 'merchant', 'Channel shop');
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

  it('quick pay succeeds: the payee is credited gross, the fee is booked, the trial balance balances', async () => {
    const before = await balanceOf();
    const response = await pay(quickPay(), '100.00');
    expect(response.statusCode, response.body).toBe(201);
    const payment = response.json<{
      paymentId: string;
      status: string;
      channel: string;
      channelFee: string;
      position: string;
    }>();
    expect(payment).toMatchObject({ status: 'completed', channel: SIMULATED_BANK, learntBy: 'answer' });
    // sim-citybank quick pay: 0.2% (at least 0.10): cheaper than the card network's 0.38%.
    expect(payment.channelFee).toBe('0.20');
    expect(await balanceOf()).toBe(before + 10_000n);

    const statement = (
      await get(`/v1/accounts/${shopAccount}/statement?minPosition=${payment.position}&limit=200`)
    ).json<{
      lines: {
        operationId: string;
        direction: string;
        operationKind: string;
        amount: string;
        counterparty: { channel: string };
      }[];
    }>();
    expect(statement.lines.find((line) => line.operationId === payment.paymentId)).toMatchObject({
      direction: 'credit',
      operationKind: 'channel_payment',
      amount: '100.00',
      counterparty: { channel: SIMULATED_BANK },
    });

    const journal = (
      await get(`/v1/books/journal?operationId=${payment.paymentId}&minPosition=${payment.position}`, ledger.operator)
    ).json<{ entries: { lines: { code: string; side: string; amount: string }[] }[] }>();
    // The payee's credit through channel clearing (gross), then the channel's fee out of it.
    expect(journal.entries.map((e) => e.lines.map((l) => `${l.side} ${l.code} ${l.amount}`))).toEqual([
      ['debit 1122 100.00', 'credit 2202 100.00'],
      ['debit 6603 0.20', 'credit 1122 0.20'],
    ]);
    const day = DateTime.utc().setZone('Asia/Shanghai').toISODate();
    const trial = (
      await get(`/v1/books/trial-balance?date=${day}&currency=CNY&minPosition=${payment.position}`, ledger.operator)
    ).json<{ balanced: boolean }>();
    expect(trial.balanced).toBe(true);

    // The order-status lookup by merchant order number, and the same order again answers the first payment.
    const orderNo = (await streamOf(payment.paymentId)).order.merchantOrderNo;
    const listed = (await get(`/v1/channel-payments?merchantOrderNo=${orderNo}&minPosition=${payment.position}`)).json<{
      items: { operationId: string; status: string; channel: string }[];
    }>();
    expect(listed.items).toEqual([
      expect.objectContaining({ operationId: payment.paymentId, status: 'completed', channel: SIMULATED_BANK }),
    ]);
    const again = await post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount: '100.00',
      currency: 'CNY',
      merchantOrderNo: orderNo,
      instrument: quickPay(),
      payer,
    });
    expect(again.json()).toMatchObject({ paymentId: payment.paymentId, status: 'completed' });
    const other = await post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount: '26.00',
      currency: 'CNY',
      merchantOrderNo: orderNo,
      instrument: quickPay(),
      payer,
    });
    expect(other.json()).toMatchObject({ code: 'duplicate_order_no' });
    expect(simulator.records(SIMULATED_BANK).orders.get(payment.paymentId)?.state).toBe('SUCCESS');
  });

  it('a decline fails the payment with our code and the channel code, and credits nothing', async () => {
    simulator.setFailures(SIMULATED_BANK, { declineRatePpm: 1_000_000, declineWith: ['card_restricted'] });
    try {
      const before = await balanceOf();
      const response = await pay(quickPay(), '120.00');
      expect(response.statusCode).toBe(422);
      const problem = response.json<{ code: string; details: Record<string, string> }>();
      expect(problem.code).toBe('channel_declined');
      expect(problem.details['declineCode']).toBe('card_restricted');
      expect(problem.details['channelCode']).toBeTruthy();
      const failed = await streamOf(problem.details['paymentId']!);
      expect(failed.status).toBe('failed');
      expect(await balanceOf()).toBe(before);
    } finally {
      resetFailures();
    }
  });

  it('platform pay answers pending with the pay page, then the signed callback completes it', async () => {
    const response = await pay(wallet, '30.00');
    expect(response.statusCode, response.body).toBe(201);
    const pending = response.json<{
      paymentId: string;
      status: string;
      payerActionUrl: string | null;
      channel: string;
    }>();
    expect(pending).toMatchObject({ status: 'pending', channel: SIMULATED_PLATFORM });
    expect(pending.payerActionUrl).toBeTruthy();
    await settledStatus(pending.paymentId, 'completed');
    expect((await streamOf(pending.paymentId)).learntBy).toBe('notification');
  });

  it('duplicated and out-of-order callbacks are applied once', async () => {
    simulator.setFailures(SIMULATED_PLATFORM, {
      duplicateCallbackRatePpm: 1_000_000,
      outOfOrderCallbackRatePpm: 1_000_000,
    });
    try {
      const before = await balanceOf();
      const response = await pay(wallet, '40.00');
      const { paymentId } = response.json<{ paymentId: string }>();
      await settledStatus(paymentId, 'completed');
      // Every notice was delivered (twice each, newest first), and acknowledged.
      await eventually(
        async () =>
          simulator.records(SIMULATED_PLATFORM).callbacks.filter((c) => c.orderNo === paymentId && c.statusCode === 200)
            .length >= 4
            ? true
            : undefined,
        'four acknowledged callbacks',
      );
      expect(await balanceOf()).toBe(before + 4_000n);
      const credits = (await ledger.service.commands.getAccountEvents(shopAccount)).filter(
        (e) => e.type === 'FundsCredited' && e.data.operationId === paymentId,
      );
      expect(credits).toHaveLength(1);
    } finally {
      resetFailures();
    }
  });

  it('a lost callback is resolved by the poller', async () => {
    simulator.setFailures(SIMULATED_PLATFORM, { lostCallbackRatePpm: 1_000_000 });
    try {
      const { paymentId } = (await pay(wallet, '15.00')).json<{ paymentId: string }>();
      // The channel has the result (after its asynchronous delay) but never tells.
      await eventually(
        async () =>
          simulator.records(SIMULATED_PLATFORM).orders.get(paymentId)?.state === 'SUCCESS' ? true : undefined,
        'the channel to settle the order',
      );
      expect((await streamOf(paymentId)).status).toBe('pending');
      await eventually(async () => {
        const doc = await ledger.service.readModels.get('operations', paymentId);
        return (doc?.data as { status?: string } | undefined)?.status === 'pending' ? true : undefined;
      }, 'the read model to show it pending');
      // Not due yet right away (the first query waits a few seconds), due later.
      expect(await ledger.service.channelPaymentPoller.sweep(DateTime.utc().toISO())).toBe(0);
      const later = DateTime.utc().plus({ minutes: 1 }).toISO();
      expect(await ledger.service.channelPaymentPoller.sweep(later)).toBeGreaterThanOrEqual(1);
      const done = await streamOf(paymentId);
      expect(done).toMatchObject({ status: 'completed', learntBy: 'query' });
    } finally {
      resetFailures();
    }
  });

  it('refuses a tampered callback (401) and a body that is not a channel message (400), changing nothing', async () => {
    const path = `/v1/channel-notifications/${SIMULATED_PLATFORM}`;
    const { paymentId } = (await pay(wallet, '7.00')).json<{ paymentId: string }>();
    const signed = JSON.stringify({ out_trade_no: paymentId, trade_state: 'SUCCESS', amt: '700' });
    const headers = signatureHeaders(simulator.key(SIMULATED_PLATFORM), {
      kind: 'POST',
      path,
      timestampMs: Date.now(),
      nonce: newNonce(),
      body: signed,
    });
    // Signed by the channel's key, then changed on the way: the amount is not what was signed.
    const forged = await ledger.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', ...headers },
      payload: signed.replace('700', '70000'),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['content-type']).toContain('application/problem+json');
    expect(forged.json()).toMatchObject({ code: 'signature_invalid' });
    const garbled = await ledger.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', ...headers },
      payload: signed,
    });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json()).toMatchObject({ code: 'validation_failed' });
    const unknown = await ledger.app.inject({ method: 'POST', url: '/v1/channel-notifications/nobody', payload: '{}' });
    expect(unknown.json()).toMatchObject({ code: 'unknown_channel' });
    await settledStatus(paymentId, 'completed');
    expect((await streamOf(paymentId)).learntBy).toBe('notification');
  });

  it('a channel timeout leaves the payment unknown; the poller asks and resolves it, charging once', async () => {
    simulator.setFailures(SIMULATED_BANK, { timeoutRatePpm: 1_000_000 });
    let paymentId: string;
    try {
      const response = await pay(quickPay(), '180.00');
      expect(response.statusCode, response.body).toBe(201);
      const unknown = response.json<{ paymentId: string; status: string }>();
      expect(unknown.status).toBe('unknown');
      paymentId = unknown.paymentId;
    } finally {
      resetFailures();
    }
    await eventually(async () => {
      const doc = await ledger.service.readModels.get('operations', paymentId);
      return (doc?.data as { status?: string } | undefined)?.status === 'unknown' ? true : undefined;
    }, 'the read model to show it unknown');
    await ledger.service.channelPaymentPoller.sweep(DateTime.utc().plus({ minutes: 1 }).toISO());
    expect(await streamOf(paymentId)).toMatchObject({ status: 'completed', learntBy: 'query' });
    const orders = [...simulator.records(SIMULATED_BANK).orders.values()].filter((o) => o.orderNo === paymentId);
    expect(orders).toHaveLength(1);
  });

  it('a crash between the channel call and the result is resumed by asking the channel: charged once', async () => {
    const dying = crashingChannelPayments(ledger.service, RISK_RULES);
    const context = merchantContext(shop.entityId);
    const holder = simulator.config.cardholders[0]!;
    const crashOrderNo = nextOrderNo();
    const cardBefore = holder.balanceMinor;
    await expect(
      dying.create(
        {
          merchantId: shop.entityId,
          payeeAccountId: shopAccount,
          merchantOrderNo: crashOrderNo,
          amount: { amountMinor: 20_000n, currency: 'CNY' as never },
          description: '',
          instrument: { method: 'quick_pay', card },
          payer: { ip: payer.ip, deviceId: payer.deviceId, payerId: payer.payerId, phone: null },
        },
        context,
      ),
    ).rejects.toThrow('crashed');
    const paymentId = channelPaymentIdOf(shop.entityId, crashOrderNo);
    expect(simulator.records(SIMULATED_BANK).orders.get(paymentId)?.state).toBe('SUCCESS');
    expect((await streamOf(paymentId)).status).toBe('submitted');
    // The recovery sweep finds it in flight once quiet, and resumes it: the query finds the charge.
    await eventually(async () => {
      const doc = await ledger.service.readModels.get('operations', paymentId);
      return (doc?.data as { status?: string } | undefined)?.status === 'submitted' ? true : undefined;
    }, 'the read model to show it submitted');
    const resumed = await resumeStalledOperations(
      { resumeOperation: (_kind, id, c) => ledger.service.channelPayments.resume(id, c) },
      ledger.service.readModels,
      DateTime.utc().plus({ minutes: 5 }).toISO(),
      1_000,
    );
    expect(resumed).toBeGreaterThanOrEqual(1);
    expect(await streamOf(paymentId)).toMatchObject({ status: 'completed', learntBy: 'query' });
    expect(holder.balanceMinor).toBe(cardBefore - 20_000n);
    const charges = simulator.records(SIMULATED_BANK).attempts.get(`charge:charge:${paymentId}`);
    expect(charges).toBe(1);
  });

  it('an outage opens the breaker, traffic moves to the other channel, and comes back on recovery', async () => {
    simulator.setFailures(SIMULATED_BANK, { outage: true });
    try {
      const first = (await pay(quickPay(), '100.00')).json<{ paymentId: string; status: string; channel: string }>();
      // Unavailable at the bank (nothing sent): rerouted to the card network.
      expect(first).toMatchObject({ status: 'completed', channel: SIMULATED_CARD_NETWORK });
      for (let i = 0; i < 5; i += 1) await pay(quickPay(), '100.00');
      const standing = ledger.service.channels.gateway.standings().find((s) => s.channelId === SIMULATED_BANK)!;
      expect(standing.health.breaker).toBe('open');
      const routed = (await pay(quickPay(), '100.00')).json<{ paymentId: string; channel: string }>();
      expect(routed.channel).toBe(SIMULATED_CARD_NETWORK);
      // Routed there at once: the decision excluded the bank for its open breaker.
      const decision = (await streamOf(routed.paymentId)).order.routing;
      expect(decision.candidates.find((c) => c.channelId === SIMULATED_BANK)).toMatchObject({
        standing: 'excluded',
        excludedBecause: 'breaker_open',
      });
    } finally {
      resetFailures();
    }
    offsetMs += 31_000; // past the breaker's open time: a probe goes to the bank, and succeeds
    const probe = (await pay(quickPay(), '100.00')).json<{ channel: string; status: string }>();
    expect(probe).toMatchObject({ channel: SIMULATED_BANK, status: 'completed' });
    const channels = (await get('/v1/channels', ledger.operator)).json<{
      channels: { channelId: string; health: { breaker: string } }[];
    }>();
    expect(channels.channels.find((c) => c.channelId === SIMULATED_BANK)?.health.breaker).toBe('closed');
    expect((await get('/v1/channels')).statusCode).toBe(403);
  });

  it('step-up: the SMS code from the outbox lets the payment go on; a wrong code is refused and counted', async () => {
    const phone = '13800138000';
    const response = await pay(quickPay(), '1500.00', { payer: { ...payer, phone } });
    expect(response.statusCode, response.body).toBe(201);
    const waiting = response.json<{ paymentId: string; status: string; verification: { maskedPhone: string } }>();
    expect(waiting.status).toBe('awaiting_verification');
    expect(waiting.verification.maskedPhone).toBe(phoneNumber(phone).masked);
    const sms = simulator.smsOutbox().find((m) => m.verificationId === `${challengeIdOf(waiting.paymentId)}-1`);
    expect(sms).toBeDefined();
    const wrong = sms!.code === '000000' ? '111111' : '000000';
    const refused = await post(`/v1/channel-payments/${waiting.paymentId}/verification`, { code: wrong });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'verification_code_invalid' });
    const verified = await post(`/v1/channel-payments/${waiting.paymentId}/verification`, { code: sms!.code });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({
      status: 'completed',
      verification: { status: 'verified', attemptsLeft: 4 },
    });
    // A new code is not sent sooner than the policy allows.
    const resend = await post(`/v1/channel-payments/${waiting.paymentId}/verification/resend`, { phone });
    expect(resend.statusCode).toBe(409);
    // A payment that asked for no code refuses a verification.
    const plain = (await pay(quickPay(), '100.00')).json<{ paymentId: string }>();
    const conflict = await post(`/v1/channel-payments/${plain.paymentId}/verification`, { code: '123456' });
    expect(conflict.statusCode).toBe(409);
  });

  it('the poller closes a challenge whose time is over: the payment fails verification_code_expired', async () => {
    const response = await pay(quickPay(), '2000.00', { payer: { ...payer, phone: '13800138001' } });
    const { paymentId, status } = response.json<{ paymentId: string; status: string }>();
    expect(status).toBe('awaiting_verification');
    await eventually(async () => {
      const doc = await ledger.service.readModels.get('operations', paymentId);
      return (doc?.data as { expiresAt?: string } | undefined)?.expiresAt ? true : undefined;
    }, 'the read model to know when the challenge lapses');
    expect(await ledger.service.channelPaymentPoller.sweep(DateTime.utc().plus({ minutes: 1 }).toISO())).toBe(0);
    expect((await streamOf(paymentId)).status).toBe('awaiting_verification');
    await ledger.service.channelPaymentPoller.sweep(DateTime.utc().plus({ minutes: 16 }).toISO());
    const failed = await streamOf(paymentId);
    expect(failed).toMatchObject({ status: 'failed', failure: { reasonCode: 'verification_code_expired' } });
    expect(simulator.records(SIMULATED_BANK).orders.has(paymentId)).toBe(false);
  });

  it('risk blocks a listed device (nothing reaches a channel); no channel for an instrument nobody carries', async () => {
    const blocked = await pay(quickPay(), '5.00', { payer: { ...payer, deviceId: 'dev-stolen' } });
    expect(blocked.statusCode).toBe(422);
    const problem = blocked.json<{ code: string; details: Record<string, string> }>();
    expect(problem.code).toBe('risk_blocked');
    expect(simulator.records(SIMULATED_BANK).orders.has(problem.details['paymentId']!)).toBe(false);
    const none = await pay({ method: 'online_banking', bankCode: 'NOBANK', returnUrl: 'https://shop.example/r' });
    expect(none.statusCode).toBe(422);
    expect(none.json()).toMatchObject({ code: 'no_channel_available' });
  });

  it("GET asks the channel about a pending payment; a merchant cannot see another's", async () => {
    simulator.setFailures(SIMULATED_PLATFORM, { lostCallbackRatePpm: 1_000_000 });
    try {
      const { paymentId } = (await pay(wallet, '9.00')).json<{ paymentId: string }>();
      await eventually(
        async () =>
          simulator.records(SIMULATED_PLATFORM).orders.get(paymentId)?.state === 'SUCCESS' ? true : undefined,
        'the channel to settle the order',
      );
      const asked = await get(`/v1/channel-payments/${paymentId}`);
      expect(asked.json()).toMatchObject({ status: 'completed', learntBy: 'query' });
      const rival = await createCaller(ledger.service, 'merchant', 'Rival');
      expect((await get(`/v1/channel-payments/${paymentId}`, rival)).statusCode).toBe(404);
    } finally {
      resetFailures();
    }
  });
});
