import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchTransport } from '../../src/adapters/channels/channel-transport.js';
import { simulatedChannelSecret } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { OneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { HttpSmsGateway } from '../../src/adapters/sms/http-sms-gateway.js';
import { stepUpDecider } from '../../src/domain/risk/step-up-decider.js';
import type { StepUpEvent } from '../../src/domain/risk/step-up-events.js';
import { phoneNumber, secretText } from '../../src/domain/shared/sensitive-text.js';
import type { SmsRequest } from '../../src/ports/sms-gateway.js';
import { freePort } from '../support/built-cli.js';
import { eventually, startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';

const SEED = 'sms-tests';
const PHONE = '13800000001';
const key = { keyId: 'sim-sms-key-1', secret: simulatedChannelSecret(SEED, 'sim-sms') };
const quick = { timeoutMs: 5_000 };

interface OutboxEntry {
  channelId: string;
  verificationId: string;
  maskedPhone: string;
  code: string;
}

let simulator: SimulatorProcess;
let gateway: HttpSmsGateway;

const outbox = async (messageId: string): Promise<OutboxEntry[]> =>
  ((await simulator.control('GET', '/sms-outbox')) as OutboxEntry[]).filter((sms) => sms.verificationId === messageId);
const request = (code = '123456', messageId = randomUUID()): SmsRequest => ({
  messageId,
  phone: phoneNumber(PHONE),
  template: 'payment_step_up',
  code: secretText(code),
});

beforeAll(async () => {
  simulator = await startSimulatorProcess(['--seed', SEED]);
  gateway = new HttpSmsGateway({ key, accountId: 'LEDGER0001', transport: fetchTransport(simulator.url) });
});
afterAll(() => simulator.stop());
beforeEach(() =>
  simulator.control('PUT', '/sms/failures', { dropRatePpm: 0, delayMs: { min: 0, max: 0 }, outage: false }),
);

describe('SMS gateway adapter against the simulator process', () => {
  it('sends a templated code once per message id; the outbox keeps the phone masked', async () => {
    const message = request('482913');
    const sent = await gateway.send(message, quick);
    expect(sent).toMatchObject({ outcome: 'sent', messageId: message.messageId });
    expect(await gateway.send(message, quick)).toEqual(sent);
    const delivered = await outbox(message.messageId);
    expect(delivered).toEqual([
      expect.objectContaining({ channelId: 'sms-gateway', maskedPhone: '138****0001', code: '482913' }),
    ]);
    expect(JSON.stringify(await simulator.control('GET', '/sms-outbox'))).not.toContain(PHONE);
  });

  it('declines another message under a used id, a phone it cannot text and an unknown template', async () => {
    const message = request('111111');
    await gateway.send(message, quick);
    expect(await gateway.send({ ...message, code: secretText('222222') }, quick)).toMatchObject({
      outcome: 'declined',
      code: 'message_conflict',
    });
    expect(await gateway.send({ ...request(), phone: phoneNumber('12') }, quick)).toMatchObject({
      outcome: 'declined',
      code: 'phone_invalid',
    });
    expect(await outbox(message.messageId)).toHaveLength(1);
  });

  it('takes a timeout as unknown; the same id sent again does not text twice', async () => {
    await simulator.control('PUT', '/sms/failures', { delayMs: { min: 400, max: 400 } });
    const message = request('333333');
    expect(await gateway.send(message, { timeoutMs: 100 })).toMatchObject({ outcome: 'unknown' });
    // It went out all the same: the provider accepted it before its answer was late.
    await eventually(async () => (await outbox(message.messageId)).length === 1);
    await simulator.control('PUT', '/sms/failures', { delayMs: { min: 0, max: 0 } });
    expect(await gateway.send(message, quick)).toMatchObject({ outcome: 'sent' });
    expect(await outbox(message.messageId)).toHaveLength(1);
  });

  it('answers sent for a dropped message, which never reaches the outbox', async () => {
    await simulator.control('PUT', '/sms/failures', { dropRatePpm: 1_000_000 });
    const message = request();
    expect(await gateway.send(message, quick)).toMatchObject({ outcome: 'sent' });
    expect(await outbox(message.messageId)).toEqual([]);
  });

  it('is unavailable in an outage and when nothing listens; unknown when the answer does not verify', async () => {
    await simulator.control('PUT', '/sms/failures', { outage: true });
    const busy = request();
    expect(await gateway.send(busy, quick)).toMatchObject({ outcome: 'unavailable' });
    expect(await outbox(busy.messageId)).toEqual([]);
    await simulator.control('PUT', '/sms/failures', { outage: false });

    const closed = new HttpSmsGateway({
      key,
      accountId: 'LEDGER0001',
      transport: fetchTransport(`http://127.0.0.1:${await freePort()}`),
    });
    expect(await closed.send(request(), quick)).toMatchObject({ outcome: 'unavailable' });

    const wrongKey = new HttpSmsGateway({
      key: { keyId: key.keyId, secret: randomBytes(32) },
      accountId: 'LEDGER0001',
      transport: fetchTransport(simulator.url),
    });
    const refused = request();
    expect(await wrongKey.send(refused, quick)).toMatchObject({ outcome: 'unknown' });
    expect(await outbox(refused.messageId)).toEqual([]);
    await expect(gateway.send(request(), { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });

  it('carries a step-up round trip: the code hashed into the event, texted, read by the payer, verified', async () => {
    const codes = new OneTimeCodes(randomBytes(32));
    const challengeId = randomUUID();
    const code = codes.issue();
    const issuedAt = new Date().toISOString();
    const events: StepUpEvent[] = stepUpDecider.decide(
      {
        type: 'IssueChallenge',
        challengeId,
        paymentId: randomUUID(),
        maskedPhone: phoneNumber(PHONE).masked,
        codeHmac: codes.hmacOf(challengeId, code),
        policy: {
          codeTtlMs: 300_000,
          challengeTtlMs: 600_000,
          maxAttempts: 3,
          maxSends: 3,
          minResendIntervalMs: 60_000,
        },
        at: issuedAt,
      },
      stepUpDecider.initialState(),
    );
    expect(JSON.stringify(events)).not.toContain(code.reveal());
    expect(JSON.stringify(events)).not.toContain(PHONE);
    const sent = await gateway.send(
      { messageId: challengeId, phone: phoneNumber(PHONE), template: 'payment_step_up', code },
      quick,
    );
    expect(sent.outcome).toBe('sent');
    const [sms] = await outbox(challengeId);
    const state = events.reduce(stepUpDecider.evolve, stepUpDecider.initialState());
    const verified = stepUpDecider.decide(
      { type: 'VerifyCode', challengeId, codeHmac: codes.hmacOf(challengeId, secretText(sms!.code)), at: issuedAt },
      state,
    );
    expect(verified.map((event) => event.type)).toEqual(['StepUpVerified']);
  });
});
