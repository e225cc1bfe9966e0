import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { context } from '../support/command-fixtures.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

const PASSWORD = '583920';
const holder = testCardholders[0]!;

/** The bind-card routes in-process: who may act, the flow's answers, nothing of the card echoed. */
describe('card contract routes', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let userId: string;
  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const body = (overrides: object = {}) => ({
    userId,
    paymentPassword: PASSWORD,
    cardNumber: holder.cardNumber,
    holderName: holder.holderName,
    idNumber: holder.idNumber,
    phone: holder.phone,
    expiry: null,
    cvn2: null,
    ...overrides,
  });

  beforeAll(async () => {
    ledger = await startTestLedger();
    shop = await createCaller(ledger.service, 'merchant', 'Binding shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival shop');
    const entities = ledger.service.entities;
    userId = (await entities.register({ kind: 'user', displayName: 'Card user', phone: '+8613900000009' }, context()))
      .entityId;
    await entities.setPaymentPassword(userId, { newPassword: PASSWORD, currentPassword: null }, context(), {
      takeover: false,
    });
  }, 30_000);
  afterAll(async () => {
    await ledger.close();
  });

  it('a wrong name is its own code, and nothing of the card comes back', async () => {
    const refused = await post('/v1/card-contracts', body({ holderName: 'Not The Holder' }));
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'card_elements_mismatch' });
    expect(refused.body).not.toContain(holder.cardNumber);
    expect(refused.body).not.toContain(holder.idNumber);
  });

  it('starts, confirms with the bank code, shows the contract to its merchant only, unbinds', async () => {
    const started = await post('/v1/card-contracts', body());
    expect(started.statusCode, started.body).toBe(201);
    const contract = started.json<{ contractId: string; status: string; maskedPhone: string; maskedCard: string }>();
    expect(contract.status).toBe('awaiting_bank_code');
    expect(started.body).not.toContain(holder.cardNumber);
    const url = `/v1/card-contracts/${contract.contractId}`;
    expect((await ledger.inject({ method: 'GET', url }, rival)).statusCode).toBe(404);
    const sms = ledger.service.channels
      .simulator!.smsOutbox()
      .filter((m) => m.maskedPhone === contract.maskedPhone)
      .at(-1)!;
    const bound = await post(`${url}/confirm`, { code: sms.code });
    expect(bound.statusCode, bound.body).toBe(200);
    expect(bound.json()).toMatchObject({ status: 'bound' });
    const status = await ledger.inject({ method: 'GET', url }, shop);
    expect(status.json()).toMatchObject({ contract: { status: 'bound' }, channel: { state: 'active' } });
    expect((await post(`${url}/unbind`, {}, rival)).statusCode).toBe(404);
    const unbound = await post(`${url}/unbind`, {});
    expect(unbound.statusCode, unbound.body).toBe(200);
    expect(unbound.json()).toMatchObject({ status: 'terminated' });
  });
});
