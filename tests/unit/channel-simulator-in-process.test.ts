import { afterEach, describe, expect, it } from 'vitest';
import { injectTransport } from '../../src/adapters/channels/channel-transport.js';
import { simulatedChannelAdapters } from '../../src/adapters/channels/simulated-channel-adapters.js';
import { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import {
  defaultSimulatorConfig,
  SIMULATED_BANK,
  SIMULATED_PLATFORM,
  testCardholders,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { buildSimulatorServer } from '../../src/adapters/channels/simulator/simulator-server.js';
import {
  parseSimulatorConfig,
  simulatorConfig,
  type SimulatorConfig,
} from '../../src/adapters/channels/simulator/simulator-config.js';
import { signatureHeaders } from '../../src/adapters/channels/wire/wire-signing.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { cardNumber, idNumber, personName, phoneNumber, secretText } from '../../src/domain/shared/sensitive-text.js';
import { isChannelFailure, type ChannelPort } from '../../src/ports/channel-port.js';

const CNY = parseCurrency('CNY');
const quick = { timeoutMs: 2_000 };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The simulator in-process: the same server and adapters, reached through Fastify inject (no socket). */
function inProcess(config: SimulatorConfig) {
  const posted: { url: string; body: string }[] = [];
  const simulator = new ChannelSimulator(config, {
    post: async (url, _headers, body) => {
      posted.push({ url, body });
      return 200;
    },
  });
  const app = buildSimulatorServer(simulator);
  closers.push(() => app.close());
  const channels = simulatedChannelAdapters(config, () => injectTransport(app));
  return { simulator, app, channels, posted };
}

async function bind(channel: ChannelPort, simulator: ChannelSimulator, requestNo: string): Promise<string> {
  const holder = testCardholders[0]!;
  const verified = await channel.verifyElements(
    {
      requestNo,
      elements: {
        cardNumber: cardNumber(holder.cardNumber),
        holderName: personName(holder.holderName),
        idNumber: idNumber(holder.idNumber),
        phone: phoneNumber(holder.phone),
        expiry: null,
        cvn2: null,
      },
    },
    quick,
  );
  if (verified.status !== 'succeeded' || verified.step !== 'code_sent') throw new Error(JSON.stringify(verified));
  const code = simulator.smsOutbox().find((sms) => sms.verificationId === verified.verificationId)!.code;
  const signed = await channel.sign(
    { requestNo, verificationId: verified.verificationId, code: secretText(code) },
    quick,
  );
  if (signed.status !== 'succeeded') throw new Error(JSON.stringify(signed));
  return signed.contractNo;
}

async function run(seed: string): Promise<string[]> {
  const config = defaultSimulatorConfig(seed);
  const { simulator, channels } = inProcess(config);
  simulator.setFailures(SIMULATED_BANK, {
    declineRatePpm: 300_000,
    declineWith: ['insufficient_funds', 'card_restricted'],
  });
  const bank = channels.get(SIMULATED_BANK)!;
  const contractNo = await bind(bank, simulator, 'bind-1');
  // Concurrent, so arrival order varies: the draws are keyed by order number, not by arrival.
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      bank.charge(
        {
          orderNo: `order-${i}`,
          amount: { amountMinor: 1_000n + BigInt(i), currency: CNY },
          instrument: { method: 'quick_pay', contractNo },
          notifyUrl: null,
          description: 'x',
        },
        quick,
      ),
    ),
  );
  return outcomes.map((outcome) => (outcome.status === 'declined' ? outcome.code : outcome.status));
}

describe('the channel simulator in-process', () => {
  it('repeats a run with the same seed, whatever the arrival order; another seed draws differently', async () => {
    const first = await run('seed-a');
    expect(await run('seed-a')).toEqual(first);
    expect(first.filter((status) => status !== 'succeeded').length).toBeGreaterThan(3);
    expect(await run('seed-b')).not.toEqual(first);
  });

  it('refuses a request signed with another key, or replayed after five minutes, as the channel would', async () => {
    const config = defaultSimulatorConfig('keys');
    const { app } = inProcess(config);
    const body = JSON.stringify({ ver: '1', mch_id: config.merchantId, data: { ccy: 'CNY' } });
    const path = `/${SIMULATED_BANK}/v1/balance`;
    const send = (secret: Buffer, timestampMs: number) =>
      app.inject({
        method: 'POST',
        url: path,
        headers: {
          'content-type': 'application/json',
          ...signatureHeaders(
            { keyId: `${SIMULATED_BANK}-key-1`, secret },
            { kind: 'POST', path, timestampMs, nonce: 'n1', body },
          ),
        },
        payload: body,
      });
    const right = Buffer.from(config.channels[SIMULATED_BANK]!.secretBase64, 'base64');
    expect((await send(right, Date.now())).json()).toMatchObject({ ret_code: '0000' });
    expect((await send(Buffer.alloc(32, 7), Date.now())).json()).toMatchObject({ ret_code: 'E4003' });
    expect((await send(right, Date.now() - 6 * 60_000)).json()).toMatchObject({ ret_code: 'E4003' });
  });

  it('keeps no card number, ID number or name in its records, answers or callbacks', async () => {
    const config = defaultSimulatorConfig('privacy');
    const { simulator, app, channels, posted } = inProcess(config);
    const contractNo = await bind(channels.get(SIMULATED_BANK)!, simulator, 'bind-1');
    await channels.get(SIMULATED_BANK)!.charge(
      {
        orderNo: 'o-1',
        amount: { amountMinor: 500n, currency: CNY },
        instrument: { method: 'quick_pay', contractNo },
        notifyUrl: null,
        description: 'x',
      },
      quick,
    );
    await channels.get(SIMULATED_PLATFORM)!.charge(
      {
        orderNo: 'o-2',
        amount: { amountMinor: 500n, currency: CNY },
        instrument: { method: 'platform_pay', platform: 'alipay' },
        notifyUrl: 'http://127.0.0.1:9/n',
        description: 'x',
      },
      quick,
    );
    await new Promise((done) => setTimeout(done, 400));
    const kept = JSON.stringify([
      (await app.inject({ method: 'GET', url: `/control/channels/${SIMULATED_BANK}/records` })).body,
      (await app.inject({ method: 'GET', url: '/control/sms-outbox' })).body,
      posted,
    ]);
    const holder = testCardholders[0]!;
    for (const secret of [holder.cardNumber, holder.idNumber, holder.holderName, holder.phone])
      expect(kept).not.toContain(secret);
    expect(posted.map((post) => JSON.parse(post.body).seq)).toEqual([1, 2]);
  });

  it("enforces the channel's per-transaction and daily limits", async () => {
    const config = defaultSimulatorConfig('limits');
    const { simulator, channels } = inProcess(config);
    const wallet = channels.get(SIMULATED_PLATFORM)!;
    const pay = (orderNo: string, amountMinor: bigint) =>
      wallet.charge(
        {
          orderNo,
          amount: { amountMinor, currency: CNY },
          instrument: { method: 'platform_pay', platform: 'wechat' },
          notifyUrl: null,
          description: 'x',
        },
        quick,
      );
    expect(await pay('big', 5_000_001n)).toMatchObject({
      status: 'declined',
      code: 'limit_exceeded',
      channelCode: 'AMOUNT_LIMIT',
    });
    // 200,000,000 a day: forty orders of the per-transaction maximum fill it, the forty-first is refused.
    for (let i = 0; i < 40; i++) expect(await pay(`day-${i}`, 5_000_000n)).toMatchObject({ status: 'pending' });
    expect(await pay('day-40', 1n)).toMatchObject({ status: 'declined', code: 'limit_exceeded' });
    // The next day (the channel's clock) starts afresh.
    simulator.setNow(Date.now() + 86_400_000);
    expect(await pay('next-day', 1n)).toMatchObject({ status: 'pending' });
  });

  it('counts only no-answer, busy and system errors as the channel failing', () => {
    expect(
      ['succeeded', 'pending', 'declined', 'unknown', 'unavailable'].map((status) =>
        isChannelFailure({ status: status as 'unknown' }),
      ),
    ).toEqual([false, false, false, true, true]);
  });

  it('a configuration file is checked: keys long enough, profiles named as their channel', () => {
    const json = JSON.parse(JSON.stringify(simulatorConfig.encode(defaultSimulatorConfig('file'))));
    expect(parseSimulatorConfig(json).channels[SIMULATED_BANK]!.profile.limits.perTransactionMaxMinor).toBe(5_000_000n);
    json.channels[SIMULATED_BANK].secretBase64 = Buffer.alloc(31).toString('base64').padEnd(44, '=');
    expect(() => parseSimulatorConfig(json)).toThrow(/shorter than 32 bytes/);
  });
});

describe('sensitive text', () => {
  it('shows only its masked form to strings, JSON and inspection', async () => {
    const { inspect } = await import('node:util');
    const card = cardNumber('6222021234567890123');
    expect(String(card)).toBe('622202*********0123');
    expect(JSON.stringify({ card })).toBe('{"card":"622202*********0123"}');
    expect(inspect({ card })).not.toContain('1234567890');
    expect(card.reveal()).toBe('6222021234567890123');
    expect(phoneNumber('13800138000').masked).toBe('138****8000');
    expect(secretText('123').masked).toBe('***');
  });
});
