import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { TEST_PERSON_ZHANG } from '../../src/adapters/identity/simulator/identity-simulator-config.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';
import { registerPayingUser, TEST_PAYMENT_PASSWORD } from '../support/binding-fixtures.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

const PASSWORD = TEST_PAYMENT_PASSWORD;
const holder = testCardholders[0]!;
const networkHolder = testCardholders[2]!;

/**
 * The identity, erasure and contract-list routes, against the identity simulator as its own process
 * (`ledger identity simulate`, reached over HTTP by the service's adapter): who may call what, the
 * distinct refusals, failure injection through the simulator's control endpoint, nothing echoed in clear.
 */
describe('identity, erasure and contract-list routes (identity simulator process)', () => {
  let identity: SimulatorProcess;
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const newUser = () => registerPayingUser(ledger.service, '+8613900000019', 'Id user');
  const person = (overrides: object = {}) => ({
    paymentPassword: PASSWORD,
    name: TEST_PERSON_ZHANG.name,
    idNumber: TEST_PERSON_ZHANG.idNumber,
    phone: TEST_PERSON_ZHANG.phone,
    cardNumber: null,
    ...overrides,
  });

  beforeAll(async () => {
    identity = await startSimulatorProcess([], ['identity', 'simulate']);
    ledger = await startTestLedger(undefined, { IDENTITY_URL: identity.url, BINDING_EXPIRY_SWEEP_INTERVAL_MS: '0' });
    shop = await createCaller(ledger.service, 'merchant', 'Identity shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival shop');
  }, 40_000);
  afterAll(async () => {
    await ledger?.close();
    await identity?.stop();
  });

  it('verifies a user over the network: 201, masked; the entity shows `*三`; its merchant reads it, another does not', async () => {
    const userId = await newUser();
    const url = `/v1/users/${userId}/identity-verifications`;
    const verified = await post(url, person());
    expect(verified.statusCode, verified.body).toBe(201);
    expect(verified.json()).toMatchObject({
      status: 'verified',
      maskedName: '*三',
      elements: ['name', 'id_number', 'phone'],
    });
    for (const clear of [TEST_PERSON_ZHANG.name, TEST_PERSON_ZHANG.idNumber, TEST_PERSON_ZHANG.phone])
      expect(verified.body).not.toContain(clear);
    const { verificationId } = verified.json<{ verificationId: string }>();
    expect((await ledger.inject({ method: 'GET', url: `${url}/${verificationId}` }, shop)).statusCode).toBe(200);
    expect((await ledger.inject({ method: 'GET', url: `${url}/${verificationId}` }, rival)).statusCode).toBe(404);
    const entity = await ledger.inject({ method: 'GET', url: `/v1/entities/${userId}` });
    expect(entity.json()).toMatchObject({
      identity: { verified: true, maskedName: '*三', source: 'identity_service' },
    });
    // What the simulator kept of the query is masked too.
    const { queries } = await identity.control('GET', '/identity/queries');
    expect(JSON.stringify(queries)).not.toContain(TEST_PERSON_ZHANG.idNumber);
  });

  it('answers each four-element failure with its own code', async () => {
    const userId = await newUser();
    const url = `/v1/users/${userId}/identity-verifications`;
    const mismatch = await post(url, person({ phone: '10000000077' }));
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json()).toMatchObject({ code: 'identity_mismatch', details: { mismatched: 'phone' } });
    const card = await post(url, person({ cardNumber: holder.cardNumber }));
    expect(card.json()).toMatchObject({ code: 'identity_mismatch', details: { mismatched: 'card_number' } });
    expect(card.body).not.toContain(holder.cardNumber);
    const none = await post(url, person({ idNumber: 'TEST00000000000555' }));
    expect(none.statusCode).toBe(422);
    expect(none.json().code).toBe('identity_no_record');
    const password = await post(url, person({ paymentPassword: '740261' }));
    expect(password.json().code).toBe('payment_password_mismatch');
    expect((await post('/v1/users/u-nobody/identity-verifications', person())).statusCode).toBe(404);
  });

  it('the service failing (5xx injected at its control endpoint): 503, then the same request settles it', async () => {
    const userId = await newUser();
    const url = `/v1/users/${userId}/identity-verifications`;
    await identity.control('PUT', '/identity/failures', { serverErrorRatePpm: 1_000_000 });
    const key = randomUUID();
    const failing = await ledger.inject(
      { method: 'POST', url, payload: person(), headers: { 'idempotency-key': key } },
      shop,
    );
    expect(failing.statusCode).toBe(503);
    expect(failing.json().code).toBe('identity_service_unavailable');
    await identity.control('PUT', '/identity/failures', { serverErrorRatePpm: 0 });
    const settled = await ledger.inject(
      { method: 'POST', url, payload: person(), headers: { 'idempotency-key': key } },
      shop,
    );
    expect(settled.statusCode, settled.body).toBe(201);
    expect(settled.json().verificationId).toBe(failing.json().details.verificationId);
  });

  it("lists a user's contracts masked and paged; erasure is for operators only and ends them", async () => {
    const userId = await newUser();
    const bindingOf = (card: typeof holder) => ({
      userId,
      paymentPassword: PASSWORD,
      cardNumber: card.cardNumber,
      holderName: card.holderName,
      idNumber: card.idNumber,
      phone: card.phone,
      expiry: null,
      cvn2: null,
    });
    const first = await post('/v1/card-contracts', bindingOf(networkHolder));
    expect(first.statusCode, first.body).toBe(201);
    const started = await post('/v1/card-contracts', bindingOf(holder));
    expect(started.statusCode, started.body).toBe(201);
    const head = await ledger.inject({ method: 'GET', url: '/v1/log/head' });
    const position = head.json<{ position: string }>().position;
    const list = `/v1/users/${userId}/card-contracts?limit=1&minPosition=${position}`;
    const mine = await ledger.inject({ method: 'GET', url: list }, shop);
    expect(mine.statusCode, mine.body).toBe(200);
    // Newest first, one a page: the bank card, then (next page) the card network's pre-binding.
    expect(mine.json()).toMatchObject({
      items: [
        { status: 'awaiting_bank_code', maskedCard: `000000******${holder.cardNumber.slice(-4)}`, bankCode: 'CITY' },
      ],
    });
    const cursor = mine.json<{ nextCursor: string }>().nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const next = await ledger.inject({ method: 'GET', url: `${list}&cursor=${cursor}` }, shop);
    expect(next.json()).toMatchObject({ items: [{ status: 'pre_bound', bankCode: 'ICBC' }], nextCursor: null });
    expect(mine.body).not.toContain(holder.cardNumber);
    expect((await ledger.inject({ method: 'GET', url: list }, rival)).json().items).toEqual([]);
    expect((await ledger.inject({ method: 'GET', url: list })).json().items).toHaveLength(1);
    expect(
      (await ledger.inject({ method: 'GET', url: `/v1/users/${userId}/card-contracts` })).json().items,
    ).toHaveLength(2);

    const erasure = `/v1/users/${userId}/erasure`;
    expect((await post(erasure, { reason: 'user request' }, shop)).statusCode).toBe(403);
    expect((await ledger.inject({ method: 'GET', url: erasure })).statusCode).toBe(404);
    expect((await post(erasure, {}, ledger.operator)).statusCode).toBe(400);
    const erased = await post(erasure, { reason: 'user request' }, ledger.operator);
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json()).toMatchObject({
      status: 'erased',
      requestedBy: ledger.operator.entityId,
      reason: 'user request',
    });
    expect((await ledger.inject({ method: 'GET', url: erasure })).json()).toEqual(erased.json());
    const again = await post(`/v1/users/${userId}/identity-verifications`, person());
    expect(again.statusCode).toBe(410);
    expect(again.json().code).toBe('user_erased');
  });
});
