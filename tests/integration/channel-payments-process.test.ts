import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIMULATED_BANK,
  SIMULATED_PLATFORM,
  testCardholderElements,
  testCardholders,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import {
  bindCard,
  eventually,
  startSimulatorProcess,
  type SimulatorProcess,
} from '../support/channel-simulator-process.js';
import { startLedgerOnSimulatorProcess } from '../support/ledger-on-simulator-process.js';
import { createCaller, type Credentials, type TestLedger } from '../support/test-ledger.js';

const SEED = 'channel-payments-process';

/**
 * Channel payments against the simulator PROCESS (`ledger channels simulate` on a free loopback port,
 * CHANNELS_URL set), with the service listening on its own port, so the channel's callback reaches the
 * notify endpoint over real HTTP, signed with the channel's key.
 */
describe('channel payments against the simulator process', () => {
  let simulator: SimulatorProcess;
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let seq = 0;
  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const pay = (instrument: object, amount: string) =>
    post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount,
      currency: 'CNY',
      merchantOrderNo: `PROC-${process.pid}-${++seq}`,
      instrument,
      payer: { ip: '198.51.100.9', deviceId: 'dev-process-1' },
    });

  beforeAll(async () => {
    simulator = await startSimulatorProcess(['--seed', SEED]);
    ledger = await startLedgerOnSimulatorProcess(simulator, SEED);
    shop = await createCaller(ledger.service, 'merchant', 'Process shop');
    shopAccount = (
      await post(
        '/v1/accounts',
        { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
        ledger.operator,
      )
    ).json<{ accountId: string }>().accountId;
  }, 30_000);

  afterAll(async () => {
    await ledger?.close();
    await simulator?.stop();
  });

  it('a quick pay with a card bound at the bank completes at once; a platform pay by the callback over HTTP', async () => {
    const holder = testCardholders[0]!;
    const contractNo = await bindCard(
      ledger.service.channels.gateway.port(SIMULATED_BANK)!,
      simulator,
      testCardholderElements(holder),
      `bind-${Date.now()}`,
    );
    const card = {
      bankCode: holder.bankCode,
      cardKind: holder.cardKind,
      contracts: [{ channelId: SIMULATED_BANK, contractNo }],
    };
    const quick = await pay({ method: 'quick_pay', card }, '100.00');
    expect(quick.statusCode, quick.body).toBe(201);
    expect(quick.json()).toMatchObject({ status: 'completed', channel: SIMULATED_BANK, channelFee: '0.20' });

    const platform = await pay({ method: 'platform_pay', platform: 'alipay', returnUrl: null }, '66.00');
    expect(platform.statusCode, platform.body).toBe(201);
    const { paymentId, status } = platform.json<{ paymentId: string; status: string }>();
    expect(status).toBe('pending');
    const done = await eventually(async () => {
      const { payment } = await ledger.service.channelPayments.get(paymentId);
      return payment.status === 'completed' ? payment : undefined;
    });
    expect(done.learntBy).toBe('notification');
    const records = await simulator.control('GET', `/channels/${SIMULATED_PLATFORM}/records`);
    expect(
      (records.callbacks as { orderNo: string; statusCode: number | null }[]).some(
        (c) => c.orderNo === paymentId && c.statusCode === 200,
      ),
    ).toBe(true);
  }, 30_000);

  it('refunds over HTTP: at the bank at once, at the platform by its signed refund callback', async () => {
    const holder = testCardholders[0]!;
    const contractNo = await bindCard(
      ledger.service.channels.gateway.port(SIMULATED_BANK)!,
      simulator,
      testCardholderElements(holder),
      `bind-refund-${Date.now()}`,
    );
    const card = {
      bankCode: holder.bankCode,
      cardKind: holder.cardKind,
      contracts: [{ channelId: SIMULATED_BANK, contractNo }],
    };
    const quick = (await pay({ method: 'quick_pay', card }, '50.00')).json<{ paymentId: string }>();
    const refund = (paymentId: string, amount: string) =>
      post(`/v1/channel-payments/${paymentId}/refunds`, { refundNo: 'RF-1', amount, currency: 'CNY' });
    const atBank = await refund(quick.paymentId, '20.00');
    expect(atBank.statusCode, atBank.body).toBe(201);
    expect(atBank.json()).toMatchObject({ status: 'completed', learntBy: 'answer', channel: SIMULATED_BANK });

    const platform = (await pay({ method: 'platform_pay', platform: 'alipay', returnUrl: null }, '30.00')).json<{
      paymentId: string;
    }>();
    await eventually(async () => {
      const { payment } = await ledger.service.channelPayments.get(platform.paymentId);
      return payment.status === 'completed' ? payment : undefined;
    });
    const atPlatform = await refund(platform.paymentId, '30.00');
    expect(atPlatform.statusCode, atPlatform.body).toBe(202);
    const refunded = await eventually(async () => {
      const { payment } = await ledger.service.channelPayments.get(platform.paymentId);
      const found = payment.refunds.get('RF-1');
      return found?.status === 'completed' ? found : undefined;
    });
    expect(refunded.learntBy).toBe('notification');
  }, 30_000);
});
