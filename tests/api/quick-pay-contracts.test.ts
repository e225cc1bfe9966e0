import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_BANK, testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import {
  channelPaymentIdOf,
  channelPaymentStreamId,
} from '../../src/commands/channel-payments/channel-payment-process.js';
import { bindingBodyOf, bindingUser } from '../support/card-binding-fixtures.js';
import { collect } from '../support/events.js';
import { whileChannelsDecline } from '../support/test-channels.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

/**
 * Quick pay naming a bind-card contract (issue 11, item 6): channel payments, recharges and withdrawals
 * take `{ contractId }`, resolved from the contract's stream to the card at its channel; another user's,
 * another merchant's, an unfinished and a terminated contract are refused with their own codes before
 * anything is recorded. Bind-and-pay: a confirm carrying the payment makes it once the card is bound,
 * none when the binding fails, never two.
 */
describe('quick pay by contract', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let shopAccount: string;
  let rivalAccount: string;
  let alice: string;
  let bob: string;
  let aliceWallet: string;
  let bobWallet: string;
  let seq = 0;

  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const simulator = () => ledger.service.channels.simulator!;
  const orderNo = () => `QP-${process.pid}-${++seq}`;
  const payment = (overrides: { payerId?: string; payeeAccountId?: string; merchantOrderNo?: string } = {}) => ({
    payeeAccountId: overrides.payeeAccountId ?? shopAccount,
    amount: '25.00',
    currency: 'CNY',
    merchantOrderNo: overrides.merchantOrderNo ?? orderNo(),
    payer: {
      ip: '198.51.100.21',
      deviceId: 'dev-quick-1',
      ...(overrides.payerId === undefined ? {} : { payerId: overrides.payerId }),
    },
  });
  const payWith = (contractId: string, payerId: string | undefined, as: Credentials = shop, payeeAccountId?: string) =>
    post(
      '/v1/channel-payments',
      {
        ...payment({ ...(payerId === undefined ? {} : { payerId }), ...(payeeAccountId ? { payeeAccountId } : {}) }),
        instrument: { method: 'quick_pay', contractId },
      },
      as,
    );

  const user = (name: string) => bindingUser(ledger.service.entities, name, '+8613900000019');

  async function account(ownerId: string, type: 'wallet' | 'merchant_settlement'): Promise<string> {
    const opened = await post('/v1/accounts', { ownerId, type, currency: 'CNY' }, ledger.operator);
    expect(opened.statusCode, opened.body).toBe(201);
    return opened.json<{ accountId: string }>().accountId;
  }

  /** Starts a binding of a test cardholder's card for a user (the shop acting). */
  async function start(userId: string, holderIndex: number) {
    const started = await post('/v1/card-contracts', bindingBodyOf(userId, testCardholders[holderIndex]!));
    expect(started.statusCode, started.body).toBe(201);
    return started.json<{ contractId: string; status: string; maskedPhone: string }>();
  }

  const lastCodeTo = (maskedPhone: string) =>
    simulator()
      .smsOutbox()
      .filter((m) => m.maskedPhone === maskedPhone)
      .at(-1)!.code;

  /** A bank-path binding confirmed: the bank's code from the simulator's outbox. */
  async function bind(userId: string, holderIndex: number): Promise<string> {
    const started = await start(userId, holderIndex);
    expect(started.status).toBe('awaiting_bank_code');
    const bound = await post(`/v1/card-contracts/${started.contractId}/confirm`, {
      code: lastCodeTo(started.maskedPhone),
    });
    expect(bound.json(), bound.body).toMatchObject({ status: 'bound' });
    return started.contractId;
  }

  beforeAll(async () => {
    ledger = await startTestLedger();
    shop = await createCaller(ledger.service, 'merchant', 'Quick shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival shop');
    shopAccount = await account(shop.entityId, 'merchant_settlement');
    rivalAccount = await account(rival.entityId, 'merchant_settlement');
    alice = await user('Alice');
    bob = await user('Bob');
    aliceWallet = await account(alice, 'wallet');
    bobWallet = await account(bob, 'wallet');
  }, 30_000);
  afterAll(async () => {
    await ledger?.close();
  });

  it('pays, recharges and withdraws by contract id, recording the card resolved and the contract', async () => {
    const contractId = await bind(alice, 0);
    const paid = await payWith(contractId, alice);
    expect(paid.statusCode, paid.body).toBe(201);
    expect(paid.json()).toMatchObject({ status: 'completed', channel: SIMULATED_BANK, method: 'quick_pay' });
    const paymentId = paid.json<{ paymentId: string }>().paymentId;
    const [created] = await collect(ledger.service.eventStore.readStream(channelPaymentStreamId(paymentId)));
    const contractNo = (await ledger.service.cardBindings.get(contractId))!.contractNo;
    expect(created!.data).toMatchObject({
      instrument: {
        method: 'quick_pay',
        card: {
          bankCode: 'CITY',
          cardKind: 'debit',
          contractId,
          contracts: [{ channelId: SIMULATED_BANK, contractNo }],
        },
      },
    });

    // Recharges and withdrawals move a user's wallet: an operator acts; the wallet's holder is the payer.
    const recharged = await post(
      '/v1/recharges',
      { accountId: aliceWallet, amount: '100.00', currency: 'CNY', payer: { method: 'quick_pay', contractId } },
      ledger.operator,
    );
    expect(recharged.statusCode, recharged.body).toBe(201);
    expect(recharged.json()).toMatchObject({ status: 'completed', channel: SIMULATED_BANK });
    const withdrawn = await post(
      '/v1/withdrawals',
      { accountId: aliceWallet, amount: '40.00', currency: 'CNY', payee: { contractId } },
      ledger.operator,
    );
    expect(withdrawn.statusCode, withdrawn.body).toBe(201);
    expect(withdrawn.json()).toMatchObject({
      status: 'completed',
      channel: SIMULATED_BANK,
      payeeReference: contractNo,
    });
    expect((await post(`/v1/card-contracts/${contractId}/unbind`, {})).statusCode).toBe(200);
  });

  it("refuses another user's contract, another merchant's, and a payment that names no payer", async () => {
    const contractId = await bind(bob, 1);
    const other = await payWith(contractId, alice);
    expect(other.statusCode, other.body).toBe(403);
    expect(other.json()).toMatchObject({ code: 'card_contract_other_user' });
    const unnamed = await payWith(contractId, undefined);
    expect(unnamed.statusCode, unnamed.body).toBe(400);
    expect(unnamed.json()).toMatchObject({ code: 'validation_failed' });
    // The rival never saw this contract: answered as an unknown one, no existence oracle.
    const rivals = await payWith(contractId, bob, rival, rivalAccount);
    expect(rivals.statusCode, rivals.body).toBe(404);
    expect(rivals.json()).toMatchObject({ code: 'card_contract_not_found' });
    expect((await payWith(randomUUID(), bob)).json()).toMatchObject({ code: 'card_contract_not_found' });
    const intoAnother = await post(
      '/v1/recharges',
      { accountId: aliceWallet, amount: '10.00', currency: 'CNY', payer: { method: 'quick_pay', contractId } },
      ledger.operator,
    );
    expect(intoAnother.json(), intoAnother.body).toMatchObject({ code: 'card_contract_other_user' });
    const toAnother = await post(
      '/v1/withdrawals',
      { accountId: aliceWallet, amount: '10.00', currency: 'CNY', payee: { contractId } },
      ledger.operator,
    );
    expect(toAnother.json(), toAnother.body).toMatchObject({ code: 'card_contract_other_user' });
    // Bob's own wallet takes it.
    const own = await post(
      '/v1/recharges',
      { accountId: bobWallet, amount: '10.00', currency: 'CNY', payer: { method: 'quick_pay', contractId } },
      ledger.operator,
    );
    expect(own.statusCode, own.body).toBe(201);
    expect((await post(`/v1/card-contracts/${contractId}/unbind`, {})).statusCode).toBe(200);
  });

  it('refuses a pre-bound contract and a terminated one; the explicit card form still pays', async () => {
    // Holder 3's bank (ICBC) is signed at the card network: pre-bound until our code is confirmed.
    const preBound = await start(alice, 2);
    expect(preBound.status).toBe('pre_bound');
    const early = await payWith(preBound.contractId, alice);
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json()).toMatchObject({ code: 'card_contract_not_bound', details: { status: 'pre_bound' } });
    const bound = await post(`/v1/card-contracts/${preBound.contractId}/confirm`, {
      code: lastCodeTo(preBound.maskedPhone),
    });
    expect(bound.json(), bound.body).toMatchObject({ status: 'bound' });
    const view = (await ledger.service.cardBindings.get(preBound.contractId))!;
    const card = {
      bankCode: view.bankCode,
      cardKind: view.cardKind,
      contracts: [{ channelId: view.channelId, contractNo: view.contractNo }],
    };
    const explicit = await post('/v1/channel-payments', { ...payment(), instrument: { method: 'quick_pay', card } });
    expect(explicit.statusCode, explicit.body).toBe(201);
    expect(explicit.json()).toMatchObject({ status: 'completed', channel: view.channelId });
    // A caller cannot slip a contract id beside a card named by hand: the explicit form takes none.
    const slipped = await post('/v1/channel-payments', {
      ...payment({ payerId: alice }),
      instrument: { method: 'quick_pay', card: { ...card, contractId: preBound.contractId } },
    });
    expect(slipped.statusCode, slipped.body).toBe(400);

    const unbound = await post(`/v1/card-contracts/${preBound.contractId}/unbind`, {});
    expect(unbound.json(), unbound.body).toMatchObject({ status: 'terminated' });
    const late = await payWith(preBound.contractId, alice);
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json()).toMatchObject({ code: 'card_contract_terminated' });
  });

  describe('bind-and-pay', () => {
    const chargesAt = (channelId: string, paymentId: string) =>
      simulator().records(channelId).attempts.get(`charge:charge:${paymentId}`) ?? 0;

    it('a wrong code makes no payment; the right one binds and pays once, a retried confirm answers the same', async () => {
      const carol = await user('Carol');
      const started = await start(carol, 0);
      expect(started.status).toBe('awaiting_bank_code');
      const order = payment({ merchantOrderNo: orderNo() });
      const confirmUrl = `/v1/card-contracts/${started.contractId}/confirm`;
      const code = lastCodeTo(started.maskedPhone);
      const wrong = await post(confirmUrl, { code: code === '000000' ? '111111' : '000000', payment: order });
      expect(wrong.statusCode, wrong.body).toBe(422);
      expect(wrong.json()).toMatchObject({ code: 'verification_code_invalid' });
      const paymentId = channelPaymentIdOf(shop.entityId, order.merchantOrderNo);
      await expect(ledger.service.channelPayments.get(paymentId)).rejects.toMatchObject({
        code: 'operation_not_found',
      });

      const paid = await post(confirmUrl, { code, payment: order });
      expect(paid.statusCode, paid.body).toBe(200);
      expect(paid.json()).toMatchObject({
        status: 'bound',
        payment: { paymentId, status: 'completed', method: 'quick_pay', channel: SIMULATED_BANK },
      });
      const again = await post(confirmUrl, { code, payment: order });
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json()).toMatchObject({ status: 'bound', payment: { paymentId, status: 'completed' } });
      expect(chargesAt(SIMULATED_BANK, paymentId)).toBe(1);
      const [created] = await collect(ledger.service.eventStore.readStream(channelPaymentStreamId(paymentId)));
      expect(created!.data).toMatchObject({
        instrument: { card: { contractId: started.contractId } },
        payer: { payerId: carol },
      });
    });

    it("a binding that fails makes no payment; a payer other than the contract's user is refused before the code is spent", async () => {
      const dave = await user('Dave');
      const started = await start(dave, 1);
      const confirmUrl = `/v1/card-contracts/${started.contractId}/confirm`;
      const code = lastCodeTo(started.maskedPhone);
      const other = await post(confirmUrl, { code, payment: payment({ payerId: alice }) });
      expect(other.statusCode, other.body).toBe(403);
      expect(other.json()).toMatchObject({ code: 'card_contract_other_user' });
      expect((await ledger.service.cardBindings.get(started.contractId))!.status).toBe('awaiting_bank_code');

      const orders = [payment(), payment(), payment()];
      const answers = [];
      for (const order of orders) answers.push(await post(confirmUrl, { code: '999999', payment: order }));
      // The limit of wrong codes fails the binding: no payment for any of the orders.
      for (const answer of answers) expect(answer.statusCode, answer.body).toBe(422);
      expect((await ledger.service.cardBindings.get(started.contractId))!.status).toBe('failed');
      for (const order of orders)
        await expect(
          ledger.service.channelPayments.get(channelPaymentIdOf(shop.entityId, order.merchantOrderNo)),
        ).rejects.toMatchObject({ code: 'operation_not_found' });
    });

    it('on the pre-bind path our code binds and pays; a payment the channel refuses leaves the contract bound', async () => {
      const erin = await user('Erin');
      const preBound = await start(erin, 2);
      expect(preBound.status).toBe('pre_bound');
      const order = payment();
      const paid = await post(`/v1/card-contracts/${preBound.contractId}/confirm`, {
        code: lastCodeTo(preBound.maskedPhone),
        payment: order,
      });
      expect(paid.statusCode, paid.body).toBe(200);
      expect(paid.json()).toMatchObject({ status: 'bound', payment: { status: 'completed', method: 'quick_pay' } });

      // The network declines every charge meanwhile: the binding stands and the payment says why.
      const declined = await start(erin, 3);
      const refused = await whileChannelsDecline(ledger.service.channels, () =>
        post(`/v1/card-contracts/${declined.contractId}/confirm`, {
          code: lastCodeTo(declined.maskedPhone),
          payment: payment(),
        }),
      );
      expect(refused.statusCode, refused.body).toBe(200);
      expect(refused.json()).toMatchObject({
        status: 'bound',
        payment: { status: 'failed', failure: { code: 'channel_declined' } },
      });
      expect((await ledger.service.cardBindings.get(declined.contractId))!.status).toBe('bound');
    });
  });
});
