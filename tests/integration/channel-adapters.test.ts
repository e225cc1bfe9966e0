import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchTransport } from '../../src/adapters/channels/channel-transport.js';
import { simulatedChannelAdapters } from '../../src/adapters/channels/simulated-channel-adapters.js';
import {
  defaultSimulatorConfig,
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  SIMULATED_PLATFORM,
  simulatedProfiles,
  testCardholders,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { noFailures } from '../../src/adapters/channels/simulator/simulator-config.js';
import { feeMinor } from '../../src/domain/channels/fee-schedule.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { cardNumber, idNumber, personName, phoneNumber, secretText } from '../../src/domain/shared/sensitive-text.js';
import type { CardholderElements, ChannelPort, ChannelNotification } from '../../src/ports/channel-port.js';
import {
  bindCard,
  eventually,
  startNotifyReceiver,
  startSimulatorProcess,
  type NotifyReceiver,
  type SimulatorProcess,
} from '../support/channel-simulator-process.js';

const SEED = 'adapter-tests';
const CNY = parseCurrency('CNY');
const cny = (amountMinor: bigint) => ({ amountMinor, currency: CNY });
const quick = { timeoutMs: 5_000 };

function elementsOf(index: number): CardholderElements {
  const holder = testCardholders[index]!;
  return {
    cardNumber: cardNumber(holder.cardNumber),
    holderName: personName(holder.holderName),
    idNumber: idNumber(holder.idNumber),
    phone: phoneNumber(holder.phone),
    expiry: holder.cardKind === 'credit' ? secretText('1230') : null,
    cvn2: holder.cardKind === 'credit' ? secretText('123') : null,
  };
}

/**
 * The HTTP channel adapters against the simulator PROCESS (`ledger channels simulate` on a free loopback
 * port): real sockets, real signatures, the channels' own codes, timeouts, outages and callbacks.
 */
describe('channel adapters against the simulator process', () => {
  let simulator: SimulatorProcess;
  let receiver: NotifyReceiver;
  let channels: Map<string, ChannelPort>;
  let serial = 0;
  const orderNo = (what: string) => `${what}-${Date.now()}-${++serial}`;
  const channel = (id: string) => channels.get(id)!;
  const notifications = (channelId: string, orderNoWanted: string): ChannelNotification[] =>
    receiver.received
      .map((callback) => channel(channelId).verifyNotification(callback.message, Date.now()))
      .flatMap((check) => (check.ok && check.notification.orderNo === orderNoWanted ? [check.notification] : []));

  beforeAll(async () => {
    simulator = await startSimulatorProcess(['--seed', SEED]);
    receiver = await startNotifyReceiver();
    channels = simulatedChannelAdapters(defaultSimulatorConfig(SEED), () => fetchTransport(simulator.url));
  }, 30_000);
  afterAll(async () => {
    await simulator?.stop();
    await receiver?.close();
  });
  beforeEach(async () => {
    for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM])
      await simulator.control('PUT', `/channels/${id}/failures`, noFailures);
    await simulator.control('PUT', '/clock', { now: null });
    receiver.statusFor = () => 200;
  });

  describe('a bank, answering at once', () => {
    it('binds a card with the SMS code it sent, charges it with the fee of its schedule, and answers a repeat alike', async () => {
      const bank = channel(SIMULATED_BANK);
      const contractNo = await bindCard(bank, simulator, elementsOf(0), orderNo('bind'));
      const no = orderNo('pay');
      const request = {
        orderNo: no,
        amount: cny(12_345n),
        instrument: { method: 'quick_pay' as const, contractNo },
        notifyUrl: null,
        description: 'test',
      };
      const first = await bank.charge(request, quick);
      const schedule = simulatedProfiles[SIMULATED_BANK]!.capabilities.charges[0]!.fee;
      expect(first).toMatchObject({ status: 'succeeded', feeMinor: feeMinor(schedule, 12_345n) });
      expect(await bank.charge(request, quick)).toEqual(first);
      expect(await bank.charge({ ...request, amount: cny(1n) }, quick)).toMatchObject({
        status: 'declined',
        code: 'order_conflict',
        channelCode: 'E2001',
      });
      const queried = await bank.queryOrder(no, quick);
      expect(queried).toMatchObject({
        status: 'succeeded',
        order: { state: 'succeeded', amount: cny(12_345n), refundedMinor: 0n },
      });
    });

    it('refuses a wrong SMS code and mismatched elements with distinct codes, and unsigns', async () => {
      const bank = channel(SIMULATED_BANK);
      const mismatch = { ...elementsOf(0), idNumber: idNumber('TEST99999999999999') };
      expect(await bank.verifyElements({ requestNo: orderNo('bind'), elements: mismatch }, quick)).toMatchObject({
        status: 'declined',
        code: 'elements_mismatch',
        channelCode: 'E1101',
      });
      const requestNo = orderNo('bind');
      const verified = await bank.verifyElements({ requestNo, elements: elementsOf(1) }, quick);
      expect(verified).toMatchObject({ status: 'succeeded', step: 'code_sent', maskedPhone: '100****0002' });
      if (verified.status !== 'succeeded' || verified.step !== 'code_sent') throw new Error('no code sent');
      const outbox: { verificationId: string; code: string }[] = await simulator.control('GET', '/sms-outbox');
      const code = outbox.find((sms) => sms.verificationId === verified.verificationId)!.code;
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      expect(
        await bank.sign({ requestNo, verificationId: verified.verificationId, code: secretText(wrong) }, quick),
      ).toMatchObject({ status: 'declined', code: 'verification_code_invalid' });
      const signed = await bank.sign(
        { requestNo, verificationId: verified.verificationId, code: secretText(code) },
        quick,
      );
      expect(signed).toMatchObject({
        status: 'succeeded',
        maskedCard: `000000******${testCardholders[1]!.cardNumber.slice(-4)}`,
      });
      if (signed.status !== 'succeeded') throw new Error('not signed');
      expect(await bank.contractStatus(signed.contractNo, quick)).toMatchObject({
        status: 'succeeded',
        state: 'active',
      });
      expect(await bank.unsign(signed.contractNo, quick)).toMatchObject({ status: 'succeeded' });
      expect(await bank.contractStatus(signed.contractNo, quick)).toMatchObject({
        status: 'succeeded',
        state: 'terminated',
      });
      const charge = await bank.charge(
        {
          orderNo: orderNo('pay'),
          amount: cny(100n),
          instrument: { method: 'quick_pay', contractNo: signed.contractNo },
          notifyUrl: null,
          description: 'x',
        },
        quick,
      );
      expect(charge).toMatchObject({ status: 'declined', code: 'contract_invalid', channelCode: 'E1104' });
    });

    it('voids a same-day charge in full, refunds another in part but never beyond it, pays out, and reports our balance', async () => {
      const bank = channel(SIMULATED_BANK);
      const contractNo = await bindCard(bank, simulator, elementsOf(0), orderNo('bind'));
      const charge = (no: string, amountMinor: bigint) =>
        bank.charge(
          {
            orderNo: no,
            amount: cny(amountMinor),
            instrument: { method: 'quick_pay', contractNo },
            notifyUrl: null,
            description: 'x',
          },
          quick,
        );
      const voided = orderNo('pay');
      await charge(voided, 5_000n);
      expect(await bank.cancel({ orderNo: voided }, quick)).toMatchObject({ status: 'succeeded' });
      expect(await bank.queryOrder(voided, quick)).toMatchObject({ order: { state: 'cancelled', feeMinor: 0n } });
      expect(
        await bank.refund({ refundNo: orderNo('refund'), orderNo: voided, amount: cny(1n), notifyUrl: null }, quick),
      ).toMatchObject({ code: 'order_closed' });

      const refunded = orderNo('pay');
      await charge(refunded, 10_000n);
      const refundNo = orderNo('refund');
      expect(
        await bank.refund({ refundNo, orderNo: refunded, amount: cny(4_000n), notifyUrl: null }, quick),
      ).toMatchObject({ status: 'succeeded' });
      expect(
        await bank.refund(
          { refundNo: orderNo('refund'), orderNo: refunded, amount: cny(6_001n), notifyUrl: null },
          quick,
        ),
      ).toMatchObject({ status: 'declined', code: 'refund_exceeds_payment', channelCode: 'E2004' });
      expect(await bank.queryRefund(refundNo, quick)).toMatchObject({
        status: 'succeeded',
        refund: { state: 'succeeded', amount: cny(4_000n) },
      });
      expect(await bank.cancel({ orderNo: refunded }, quick)).toMatchObject({
        status: 'declined',
        code: 'cancel_not_allowed',
      });

      expect(await bank.payout({ orderNo: orderNo('payout'), amount: cny(2_000n), contractNo }, quick)).toMatchObject({
        status: 'succeeded',
        feeMinor: 100n,
      });
      const balance = await bank.balance(CNY, quick);
      expect(balance).toMatchObject({ status: 'succeeded', available: { currency: CNY } });
    });

    it("maps the channels' own decline codes to ours", async () => {
      await simulator.control('PUT', `/channels/${SIMULATED_BANK}/failures`, {
        declineRatePpm: 1_000_000,
        declineWith: ['card_restricted'],
      });
      await simulator.control('PUT', `/channels/${SIMULATED_CARD_NETWORK}/failures`, {
        declineRatePpm: 1_000_000,
        declineWith: ['limit_exceeded'],
      });
      const bankContract = await bindCard(channel(SIMULATED_BANK), simulator, elementsOf(0), orderNo('bind'));
      const networkContract = await bindCard(
        channel(SIMULATED_CARD_NETWORK),
        simulator,
        elementsOf(2),
        orderNo('bind'),
      );
      const pay = (id: string, contractNo: string) =>
        channel(id).charge(
          {
            orderNo: orderNo('pay'),
            amount: cny(500n),
            instrument: { method: 'quick_pay', contractNo },
            notifyUrl: null,
            description: 'x',
          },
          quick,
        );
      expect(await pay(SIMULATED_BANK, bankContract)).toEqual({
        status: 'declined',
        code: 'card_restricted',
        message: 'the card is frozen or restricted',
        channelCode: 'E1003',
        channelMessage: 'card frozen or restricted',
      });
      expect(await pay(SIMULATED_CARD_NETWORK, networkContract)).toMatchObject({
        status: 'declined',
        code: 'limit_exceeded',
        channelCode: '61',
      });
      await simulator.control('PUT', `/channels/${SIMULATED_CARD_NETWORK}/failures`, noFailures);
      // The fourth test cardholder has 1.00 on the card: the issuer refuses 2.00 as not sufficient funds.
      const poorContract = await bindCard(channel(SIMULATED_CARD_NETWORK), simulator, elementsOf(3), orderNo('bind'));
      const poor = await channel(SIMULATED_CARD_NETWORK).charge(
        {
          orderNo: orderNo('pay'),
          amount: cny(200n),
          instrument: { method: 'quick_pay', contractNo: poorContract },
          notifyUrl: null,
          description: 'x',
        },
        quick,
      );
      expect(poor).toMatchObject({ status: 'declined', code: 'insufficient_funds', channelCode: '51' });
    });

    it('a timeout is unknown, and the order query then shows what the channel did', async () => {
      const bank = channel(SIMULATED_BANK);
      const contractNo = await bindCard(bank, simulator, elementsOf(0), orderNo('bind'));
      await simulator.control('PUT', `/channels/${SIMULATED_BANK}/failures`, { timeoutRatePpm: 1_000_000 });
      const no = orderNo('pay');
      const startedMs = Date.now();
      const outcome = await bank.charge(
        {
          orderNo: no,
          amount: cny(700n),
          instrument: { method: 'quick_pay', contractNo },
          notifyUrl: null,
          description: 'x',
        },
        { timeoutMs: 300 },
      );
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'timeout' });
      expect(Date.now() - startedMs).toBeLessThan(3_000);
      await simulator.control('PUT', `/channels/${SIMULATED_BANK}/failures`, { timeoutRatePpm: 0 });
      expect(await bank.queryOrder(no, quick)).toMatchObject({
        status: 'succeeded',
        order: { state: 'succeeded', amount: cny(700n) },
      });
    });

    it('an outage is unavailable and records nothing; so is a refused connection', async () => {
      const bank = channel(SIMULATED_BANK);
      const contractNo = await bindCard(bank, simulator, elementsOf(0), orderNo('bind'));
      const now = Date.now();
      await simulator.control('PUT', `/channels/${SIMULATED_BANK}/failures`, {
        outageWindows: [{ from: new Date(now - 60_000).toISOString(), to: new Date(now + 60_000).toISOString() }],
      });
      const no = orderNo('pay');
      expect(
        await bank.charge(
          {
            orderNo: no,
            amount: cny(700n),
            instrument: { method: 'quick_pay', contractNo },
            notifyUrl: null,
            description: 'x',
          },
          quick,
        ),
      ).toMatchObject({ status: 'unavailable', reason: 'outage' });
      const records = await simulator.control('GET', `/channels/${SIMULATED_BANK}/records`);
      expect(records.orders.some((order: { orderNo: string }) => order.orderNo === no)).toBe(false);
      await simulator.control('PUT', `/channels/${SIMULATED_BANK}/failures`, { outageWindows: [] });
      expect(await bank.queryOrder(no, quick)).toMatchObject({ status: 'declined', code: 'order_not_found' });

      const port = await freePort();
      const closedPort = simulatedChannelAdapters(defaultSimulatorConfig(SEED), () =>
        fetchTransport(`http://127.0.0.1:${port}`),
      ).get(SIMULATED_BANK)!;
      expect(await closedPort.queryOrder(no, quick)).toMatchObject({
        status: 'unavailable',
        reason: 'connection_refused',
      });
    });

    it('a call outside the capabilities is declined unsent', async () => {
      const wallet = channel(SIMULATED_PLATFORM);
      expect(
        await wallet.payout({ orderNo: orderNo('payout'), amount: cny(1n), contractNo: 'x' }, quick),
      ).toMatchObject({ status: 'declined', code: 'not_supported', channelCode: '' });
      await expect(wallet.balance(CNY, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    });
  });

  describe('a card network: at once, then a settlement notice', () => {
    it('signs at the verify step, answers the charge at once and posts a signed settlement notice', async () => {
      const network = channel(SIMULATED_CARD_NETWORK);
      const verified = await network.verifyElements({ requestNo: orderNo('bind'), elements: elementsOf(2) }, quick);
      expect(verified).toMatchObject({ status: 'succeeded', step: 'signed' });
      if (verified.status !== 'succeeded' || verified.step !== 'signed') throw new Error('not signed');
      const no = orderNo('pay');
      const charged = await network.charge(
        {
          orderNo: no,
          amount: cny(10_000n),
          instrument: { method: 'quick_pay', contractNo: verified.contractNo },
          notifyUrl: receiver.url(SIMULATED_CARD_NETWORK),
          description: 'x',
        },
        quick,
      );
      expect(charged).toMatchObject({ status: 'succeeded', feeMinor: 38n });
      const [settled] = await eventually(
        () => notifications(SIMULATED_CARD_NETWORK, no).length > 0 && notifications(SIMULATED_CARD_NETWORK, no),
      );
      expect(settled).toMatchObject({
        kind: 'settlement',
        state: 'succeeded',
        amount: cny(10_000n),
        feeMinor: 38n,
        sequence: 1,
      });
      expect(await network.cancel({ orderNo: no }, quick)).toMatchObject({
        status: 'declined',
        code: 'cancel_not_allowed',
        channelCode: 'Y5',
      });
    });
  });

  describe('a wallet platform: the result by signed callback', () => {
    const payByWallet = (no: string) =>
      channel(SIMULATED_PLATFORM).charge(
        {
          orderNo: no,
          amount: cny(2_000n),
          instrument: { method: 'platform_pay', platform: 'wechat' },
          notifyUrl: receiver.url(SIMULATED_PLATFORM),
          description: 'x',
        },
        quick,
      );

    it('answers pending with a pay page, then posts progress and result; a tampered or stale callback is refused', async () => {
      const no = orderNo('pay');
      const accepted = await payByWallet(no);
      expect(accepted).toMatchObject({
        status: 'pending',
        payerActionUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:[0-9]+\/pay\//),
      });
      const received = await eventually(
        () => notifications(SIMULATED_PLATFORM, no).length === 2 && notifications(SIMULATED_PLATFORM, no),
      );
      expect(received.map((n) => [n.sequence, n.state])).toEqual([
        [1, 'pending'],
        [2, 'succeeded'],
      ]);
      expect(received[1]).toMatchObject({ kind: 'payment', feeMinor: 12n, amount: cny(2_000n) });
      expect(await channel(SIMULATED_PLATFORM).queryOrder(no, quick)).toMatchObject({
        order: { state: 'succeeded', feeMinor: 12n },
      });

      const original = receiver.received.find(
        (callback) => callback.message.rawBody.includes(`"seq":2`) && callback.message.rawBody.includes(no),
      )!;
      const check = (message: typeof original.message, nowMs = Date.now()) =>
        channel(SIMULATED_PLATFORM).verifyNotification(message, nowMs);
      expect(check(original.message)).toMatchObject({
        ok: true,
        acknowledgement: { statusCode: 200, body: '{"code":"SUCCESS","message":"OK"}' },
      });
      const tampered = Buffer.from(original.message.rawBody.toString().replace('"amt":"2000"', '"amt":"200000"'));
      expect(check({ ...original.message, rawBody: tampered })).toEqual({ ok: false, reason: 'bad_signature' });
      expect(check({ ...original.message, path: '/v1/channel-notifications/other' })).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
      expect(check(original.message, Date.now() + 10 * 60_000)).toEqual({ ok: false, reason: 'stale_timestamp' });
      expect(channel(SIMULATED_BANK).verifyNotification(original.message, Date.now())).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    });

    it('delivers duplicates and out-of-order callbacks as configured, and loses them when told', async () => {
      await simulator.control('PUT', `/channels/${SIMULATED_PLATFORM}/failures`, {
        duplicateCallbackRatePpm: 1_000_000,
        outOfOrderCallbackRatePpm: 1_000_000,
      });
      const no = orderNo('pay');
      await payByWallet(no);
      const received = await eventually(
        () => notifications(SIMULATED_PLATFORM, no).length === 4 && notifications(SIMULATED_PLATFORM, no),
      );
      expect(received.map((n) => n.sequence)).toEqual([2, 2, 1, 1]);
      expect(new Set(received.map((n) => n.notificationId)).size).toBe(2);

      await simulator.control('PUT', `/channels/${SIMULATED_PLATFORM}/failures`, {
        ...noFailures,
        lostCallbackRatePpm: 1_000_000,
      });
      const lost = orderNo('pay');
      await payByWallet(lost);
      const logged = await eventuallyAsync(async () => {
        const { callbacks } = await simulator.control('GET', `/channels/${SIMULATED_PLATFORM}/records`);
        const mine = callbacks.filter((attempt: { orderNo: string }) => attempt.orderNo === lost);
        return mine.length === 2 ? mine : undefined;
      });
      expect(logged.map((attempt: { result: string }) => attempt.result)).toEqual(['lost', 'lost']);
      expect(notifications(SIMULATED_PLATFORM, lost)).toEqual([]);
      // The poller's way out: the order query knows.
      expect(await channel(SIMULATED_PLATFORM).queryOrder(lost, quick)).toMatchObject({
        order: { state: 'succeeded' },
      });
    });

    it('resends a callback the receiver did not acknowledge, re-signed, on the schedule', async () => {
      const no = orderNo('pay');
      const before = receiver.received.length;
      // The first callback of this order is refused, every later one acknowledged.
      receiver.statusFor = (count) => (count - before <= 1 ? 503 : 200);
      await payByWallet(no);
      const attempts = await eventuallyAsync(async () => {
        const { callbacks } = await simulator.control('GET', `/channels/${SIMULATED_PLATFORM}/records`);
        const mine = callbacks.filter(
          (attempt: { orderNo: string; seq: number }) => attempt.orderNo === no && attempt.seq === 1,
        );
        return mine.some((attempt: { result: string }) => attempt.result === 'acknowledged') ? mine : undefined;
      });
      expect(attempts.map((attempt: { attempt: number; result: string }) => [attempt.attempt, attempt.result])).toEqual(
        [
          [1, 'refused'],
          [2, 'acknowledged'],
        ],
      );
      const deliveries = receiver.received.filter(
        (callback) => callback.message.rawBody.includes(no) && callback.message.rawBody.includes('"seq":1'),
      );
      expect(deliveries).toHaveLength(2);
      expect(deliveries[0]!.message.headers['x-channel-nonce']).not.toBe(
        deliveries[1]!.message.headers['x-channel-nonce'],
      );
      expect(deliveries[1]!.receivedAtMs - deliveries[0]!.receivedAtMs).toBeGreaterThanOrEqual(150);
    });

    it('refunds later, by callback', async () => {
      const no = orderNo('pay');
      await payByWallet(no);
      await eventually(() => notifications(SIMULATED_PLATFORM, no).length === 2);
      const refundNo = orderNo('refund');
      const accepted = await channel(SIMULATED_PLATFORM).refund(
        { refundNo, orderNo: no, amount: cny(500n), notifyUrl: receiver.url(SIMULATED_PLATFORM) },
        quick,
      );
      expect(accepted).toMatchObject({ status: 'pending' });
      const [refunded] = await eventually(() => {
        const found = notifications(SIMULATED_PLATFORM, no).filter((n) => n.kind === 'refund');
        return found.length > 0 && found;
      });
      expect(refunded).toMatchObject({ refundNo, state: 'succeeded', amount: cny(500n), sequence: 3 });
      expect(await channel(SIMULATED_PLATFORM).queryRefund(refundNo, quick)).toMatchObject({
        refund: { state: 'succeeded' },
      });
    });
  });

  it("downloads a day's statement once the day is over, listing what the channel did", async () => {
    const bank = channel(SIMULATED_BANK);
    await simulator.control('PUT', '/clock', { now: '2026-03-10T02:00:00.000Z' });
    const contractNo = await bindCard(bank, simulator, elementsOf(0), orderNo('bind'));
    const paid = orderNo('pay');
    await bank.charge(
      {
        orderNo: paid,
        amount: cny(99_999n),
        instrument: { method: 'quick_pay', contractNo },
        notifyUrl: null,
        description: 'x',
      },
      quick,
    );
    const refundNo = orderNo('refund');
    await bank.refund({ refundNo, orderNo: paid, amount: cny(1_000n), notifyUrl: null }, quick);
    expect(await bank.statement('2026-03-10', quick)).toMatchObject({
      status: 'declined',
      code: 'statement_not_ready',
    });
    await simulator.control('PUT', '/clock', { now: '2026-03-10T16:00:00.000Z' });
    const downloaded = await bank.statement('2026-03-10', quick);
    if (downloaded.status !== 'succeeded') throw new Error(JSON.stringify(downloaded));
    expect(downloaded.statement).toMatchObject({
      format: 'sim-statement-csv/1',
      fileName: `${SIMULATED_BANK}-LEDGER0001-2026-03-10.csv`,
    });
    const rows: Record<string, string>[] = parse(downloaded.statement.content, { columns: true });
    const mine = rows.filter((row) => row.out_trade_no === paid);
    expect(mine.map((row) => [row.type, row.amount, row.fee, row.out_refund_no, row.state])).toEqual([
      ['PAY', '999.99', '2.00', '', 'SUCCESS'],
      ['REFUND', '10.00', '0.00', refundNo, 'SUCCESS'],
    ]);
    expect(mine[0]!.trade_time).toBe('2026-03-10T10:00:00.000+08:00');
    expect(downloaded.statement.content).not.toContain(testCardholders[0]!.cardNumber);
  });
});

/** A loopback port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function eventuallyAsync<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 50));
  }
}
