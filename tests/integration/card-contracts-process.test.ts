import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  testCardholders,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';
import { bindingBodyOf, bindingUser } from '../support/card-binding-fixtures.js';
import { startLedgerOnSimulatorProcess } from '../support/ledger-on-simulator-process.js';
import { createCaller, type Credentials, type TestLedger } from '../support/test-ledger.js';

const SEED = 'card-contracts-process';

interface OutboxMessage {
  readonly channelId: string;
  readonly maskedPhone: string;
  readonly code: string;
}

/**
 * Bind-card contracts against the simulator PROCESS (`ledger channels simulate` on a free loopback port,
 * the service's channels and SMS gateway wired to it over HTTP by CHANNELS_URL): a binding on the bank
 * path (the bank's code) and one on the pre-bind path (the card network signs at verify; our code through
 * the simulator's SMS gateway), both codes read from the simulator's SMS outbox endpoint; quick payments
 * naming each contract by id; unbinding at the channel; a four-element refusal's own problem code.
 */
describe('card contracts against the simulator process', () => {
  let simulator: SimulatorProcess;
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let userId: string;
  let seq = 0;
  const post = (url: string, payload: object) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, shop);
  const start = (holderIndex: number, overrides: object = {}) =>
    post('/v1/card-contracts', bindingBodyOf(userId, testCardholders[holderIndex]!, overrides));
  /** The newest code the simulator texted to this phone from this sender, read over its control endpoint. */
  async function codeFrom(sender: string, maskedPhone: string): Promise<string> {
    const outbox = (await simulator.control('GET', '/sms-outbox')) as OutboxMessage[];
    const message = outbox.filter((m) => m.channelId === sender && m.maskedPhone === maskedPhone).at(-1);
    expect(message, `an SMS from ${sender} to ${maskedPhone}`).toBeDefined();
    return message!.code;
  }
  const payWith = (contractId: string, amount: string) =>
    post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount,
      currency: 'CNY',
      merchantOrderNo: `CP-${process.pid}-${++seq}`,
      instrument: { method: 'quick_pay', contractId },
      payer: { ip: '198.51.100.31', deviceId: 'dev-process-bind', payerId: userId },
    });

  beforeAll(async () => {
    simulator = await startSimulatorProcess(['--seed', SEED]);
    ledger = await startLedgerOnSimulatorProcess(simulator, SEED);
    expect(ledger.service.channels.simulator, 'no simulator inside the service').toBeNull();
    shop = await createCaller(ledger.service, 'merchant', 'Process binding shop');
    const opened = await ledger.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
    });
    shopAccount = opened.json<{ accountId: string }>().accountId;
    userId = await bindingUser(ledger.service.entities, 'Process user', '+8613900000029');
  }, 30_000);

  afterAll(async () => {
    await ledger?.close();
    await simulator?.stop();
  });

  it("binds on the bank path with the bank's code, pays by contract id, unbinds at the bank", async () => {
    const started = await start(0);
    expect(started.statusCode, started.body).toBe(201);
    const contract = started.json<{ contractId: string; status: string; channelId: string; maskedPhone: string }>();
    expect(contract).toMatchObject({ status: 'awaiting_bank_code', channelId: SIMULATED_BANK });
    const url = `/v1/card-contracts/${contract.contractId}`;
    const bound = await post(`${url}/confirm`, { code: await codeFrom(SIMULATED_BANK, contract.maskedPhone) });
    expect(bound.statusCode, bound.body).toBe(200);
    const contractNo = bound.json<{ status: string; contractNo: string }>().contractNo;
    expect(bound.json()).toMatchObject({ status: 'bound' });
    const records = await simulator.control('GET', `/channels/${SIMULATED_BANK}/records`);
    expect(JSON.stringify(records.contracts)).toContain(contractNo);

    const paid = await payWith(contract.contractId, '120.00');
    expect(paid.statusCode, paid.body).toBe(201);
    expect(paid.json()).toMatchObject({ status: 'completed', channel: SIMULATED_BANK, channelFee: '0.24' });

    const unbound = await post(`${url}/unbind`, {});
    expect(unbound.json(), unbound.body).toMatchObject({ status: 'terminated' });
    const status = await ledger.inject({ method: 'GET', url }, shop);
    expect(status.json()).toMatchObject({ contract: { status: 'terminated' }, channel: { state: 'terminated' } });
    expect((await payWith(contract.contractId, '1.00')).json()).toMatchObject({ code: 'card_contract_terminated' });
  }, 30_000);

  it('binds on the pre-bind path with our code through the SMS gateway, pays by contract id, unbinds', async () => {
    const started = await start(2);
    expect(started.statusCode, started.body).toBe(201);
    const contract = started.json<{ contractId: string; status: string; channelId: string; maskedPhone: string }>();
    expect(contract).toMatchObject({ status: 'pre_bound', channelId: SIMULATED_CARD_NETWORK });
    expect((await payWith(contract.contractId, '1.00')).json()).toMatchObject({
      code: 'card_contract_not_bound',
      details: { status: 'pre_bound' },
    });
    const url = `/v1/card-contracts/${contract.contractId}`;
    const bound = await post(`${url}/confirm`, { code: await codeFrom('sms-gateway', contract.maskedPhone) });
    expect(bound.json(), bound.body).toMatchObject({ status: 'bound' });

    const paid = await payWith(contract.contractId, '80.00');
    expect(paid.statusCode, paid.body).toBe(201);
    expect(paid.json()).toMatchObject({ status: 'completed', channel: SIMULATED_CARD_NETWORK });

    const unbound = await post(`${url}/unbind`, {});
    expect(unbound.json(), unbound.body).toMatchObject({ status: 'terminated' });
    const status = await ledger.inject({ method: 'GET', url }, shop);
    expect(status.json()).toMatchObject({ channel: { state: 'terminated' } });
  }, 30_000);

  it('a wrong ID number is refused by the channel with its own code; the card stays free to bind', async () => {
    const refused = await start(3, { idNumber: 'TEST99999999999999' });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'card_elements_mismatch', details: { reason: 'elements_mismatch' } });
    expect(refused.body).not.toContain(testCardholders[3]!.cardNumber);
    const again = await start(3);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json()).toMatchObject({ status: 'pre_bound' });
  }, 30_000);
});
