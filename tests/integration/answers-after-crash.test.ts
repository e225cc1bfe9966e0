import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer } from '../../src/adapters/http/server.js';
import { IdempotencyKeeper } from '../../src/commands/idempotency.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import { EventStoreUnavailableError, type EventStore } from '../../src/ports/event-store.js';
import type { Clock } from '../../src/ports/clock.js';
import {
  signedInject,
  startTestLedger,
  type SignedInjectOptions,
  type TestLedger,
  payerOf,
  payeeOf,
} from '../support/test-ledger.js';

/**
 * A process that dies after an operation's last event but before its answer is recorded: the store is the
 * real embedded one and only the appends of `dropped` event types fail, as if the process had died then.
 * Without the multi-stream append, so operations run as processes of separate appends: the one-commit
 * path has no such in-between state (tests/integration/one-commit-crash.test.ts).
 */
function losing(store: EventStore, dropped: (type: string, streamId: string) => boolean): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'appendToStreams') return undefined;
      if (property === 'appendToStream') {
        return (...args: Parameters<EventStore['appendToStream']>) => {
          const [streamId, events] = args;
          if (events.some((event) => dropped(event.type, streamId)))
            return Promise.reject(new EventStoreUnavailableError('the process died'));
          return target.appendToStream(...args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/** The restarted process's clock: past the dead request's claim lease (30 s), so a retry takes the key over. */
const afterTheLease = (clock: Clock): Clock => ({ now: () => clock.now().plus({ minutes: 1 }) });

describe('an operation whose answer was never recorded (a crash) answers its retry from its stream', () => {
  let ledger: TestLedger;
  /** Serves requests, but its process dies just before recording any answer. */
  let dying: FastifyInstance;
  /** The process that comes back after the crash, on the same storage. */
  let restarted: FastifyInstance;
  let wallet: string;
  let shopAccount: string;
  let otherWallet: string;

  const send = (app: FastifyInstance, options: SignedInjectOptions) => signedInject(app, options, ledger.operator);
  const setup = async (options: Omit<SignedInjectOptions, 'headers'>) => {
    const response = await send(ledger.app, { ...options, headers: { 'idempotency-key': randomUUID() } });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };

  beforeAll(async () => {
    ledger = await startTestLedger();
    const answerLost = (type: string) => type === 'IdempotentResponseRecorded';
    dying = await buildHttpServer({
      ...ledger.service,
      idempotency: new IdempotencyKeeper(losing(ledger.service.eventStore, answerLost), ledger.service.clock),
    });
    restarted = await buildHttpServer({
      ...ledger.service,
      idempotency: new IdempotencyKeeper(ledger.service.eventStore, afterTheLease(ledger.service.clock)),
    });
    const user = await setup({ method: 'POST', url: '/v1/entities', payload: { kind: 'user', displayName: 'Payer' } });
    const merchant = await setup({
      method: 'POST',
      url: '/v1/entities',
      payload: { kind: 'merchant', displayName: 'Shop' },
    });
    const open = async (ownerId: string, type: string) =>
      (await setup({ method: 'POST', url: '/v1/accounts', payload: { ownerId, type, currency: 'CNY' } })).accountId;
    wallet = await open(user.entityId, 'wallet');
    otherWallet = await open(user.entityId, 'wallet');
    shopAccount = await open(merchant.entityId, 'merchant_settlement');
    await setup({
      method: 'POST',
      url: '/v1/recharges',
      payload: { accountId: wallet, amount: '1000.00', currency: 'CNY', payer: await payerOf(ledger.app) },
    });
  });
  afterAll(async () => {
    await Promise.all([dying.close(), restarted.close()]);
    await ledger.close();
  });

  /**
   * The first request runs the operation to its end and dies before recording the answer (503 to a client
   * that never sees it); the retry after the restart answers what happened, with a position, and that
   * answer replays.
   */
  async function crashThenRetry(request: Omit<SignedInjectOptions, 'headers'>, expectedStatus: number) {
    const headers = { 'idempotency-key': randomUUID() };
    const first = await send(dying, { ...request, headers });
    expect(first.statusCode, first.body).toBe(503);
    const retry = await send(restarted, { ...request, headers });
    expect(retry.statusCode, retry.body).toBe(expectedStatus);
    const body = retry.json();
    expect(body.position).toMatch(/^[0-9]+$/);
    const again = await send(restarted, { ...request, headers });
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
      expectedStatus,
      'true',
      body,
    ]);
    // The position answers a read-your-writes wait at once: it is one the log has.
    const read = await send(restarted, { method: 'GET', url: `/v1/accounts/${wallet}?minPosition=${body.position}` });
    expect(read.statusCode, read.body).toBe(200);
    return body;
  }

  it('a recharge', async () => {
    const body = await crashThenRetry(
      {
        method: 'POST',
        url: '/v1/recharges',
        payload: { accountId: wallet, amount: '10.00', currency: 'CNY', payer: await payerOf(ledger.app) },
      },
      201,
    );
    expect(body).toMatchObject({ status: 'completed', amount: '10.00' });
  });

  it('a payment, its refund and a cancellation', async () => {
    const pay = (orderNo: string) => ({
      method: 'POST' as const,
      url: '/v1/payments',
      payload: {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '20.00',
        currency: 'CNY',
        merchantOrderNo: orderNo,
        description: 'crash test',
      },
    });
    const paid = await crashThenRetry(pay(`crash-${randomUUID()}`), 201);
    expect(paid).toMatchObject({ status: 'completed' });
    const refunded = await crashThenRetry(
      {
        method: 'POST',
        url: `/v1/payments/${paid.paymentId}/refunds`,
        payload: { refundNo: 'RF-1', amount: '5.00', currency: 'CNY', reason: 'damaged' },
      },
      201,
    );
    expect(refunded).toMatchObject({ refundedAmount: '5.00' });
    const other = await setup(pay(`crash-${randomUUID()}`));
    const cancelled = await crashThenRetry(
      { method: 'POST', url: `/v1/payments/${other.paymentId}/cancel`, payload: { reason: 'mistake' } },
      200,
    );
    expect(cancelled).toMatchObject({ status: 'cancelled' });
  });

  it('a transfer and a withdrawal', async () => {
    const transferred = await crashThenRetry(
      {
        method: 'POST',
        url: '/v1/transfers',
        payload: { fromAccountId: wallet, toAccountId: otherWallet, amount: '3.00', currency: 'CNY' },
      },
      201,
    );
    expect(transferred).toMatchObject({ status: 'completed' });
    const withdrawn = await crashThenRetry(
      {
        method: 'POST',
        url: '/v1/withdrawals',
        payload: { accountId: wallet, amount: '4.00', currency: 'CNY', payee: await payeeOf(ledger.app) },
      },
      201,
    );
    expect(withdrawn).toMatchObject({ status: 'completed' });
  });

  it('a freeze, its release and a deduction', async () => {
    const frozen = await crashThenRetry(
      {
        method: 'POST',
        url: `/v1/accounts/${wallet}/freezes`,
        payload: { amount: '30.00', currency: 'CNY', reason: 'order' },
      },
      201,
    );
    expect(frozen).toMatchObject({ status: 'placed' });
    const released = await crashThenRetry(
      {
        method: 'POST',
        url: `/v1/freezes/${frozen.freezeId}/release`,
        payload: { amount: '10.00', currency: 'CNY', reason: 'partial' },
      },
      200,
    );
    expect(released).toMatchObject({ released: '10.00' });
    const deducted = await crashThenRetry(
      {
        method: 'POST',
        url: `/v1/freezes/${frozen.freezeId}/deduct`,
        payload: { amount: '5.00', currency: 'CNY', payeeAccountId: shopAccount },
      },
      201,
    );
    expect(deducted.deductions).toEqual([expect.objectContaining({ status: 'completed' })]);
  });

  it('a pre-authorisation, its completion, the completion cancelled, and a cancellation', async () => {
    const authorise = () => ({
      method: 'POST' as const,
      url: '/v1/preauths',
      payload: {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '40.00',
        currency: 'CNY',
        merchantOrderNo: `hold-${randomUUID()}`,
      },
    });
    const held = await crashThenRetry(authorise(), 201);
    expect(held).toMatchObject({ status: 'authorised' });
    const completed = await crashThenRetry(
      {
        method: 'POST',
        url: `/v1/preauths/${held.preauthId}/complete`,
        payload: { amount: '30.00', currency: 'CNY' },
      },
      200,
    );
    expect(completed).toMatchObject({ status: 'completed' });
    const uncompleted = await crashThenRetry(
      { method: 'POST', url: `/v1/preauths/${held.preauthId}/completion/cancel` },
      200,
    );
    expect(uncompleted).toMatchObject({ status: 'authorised' });
    const cancelled = await crashThenRetry({ method: 'POST', url: `/v1/preauths/${held.preauthId}/cancel` }, 200);
    expect(cancelled).toMatchObject({ status: 'cancelled' });
  });

  it('a recharge cut short by the crash and finished by the recovery sweep', async () => {
    // This process dies after the card is charged, before the credit: the recharge stays in flight.
    const dyingCommands = new LedgerCommands(
      losing(ledger.service.eventStore, (_type, streamId) => streamId.startsWith('account-')),
      ledger.service.channels.gateway,
      ledger.service.config.accountingTimeZone,
    );
    const crashing = await buildHttpServer({ ...ledger.service, commands: dyingCommands });
    const request = {
      method: 'POST' as const,
      url: '/v1/recharges',
      payload: { accountId: wallet, amount: '7.00', currency: 'CNY', payer: await payerOf(ledger.app) },
      headers: { 'idempotency-key': randomUUID() },
    };
    const first = await send(crashing, request);
    expect(first.statusCode, first.body).toBe(503);
    await crashing.close();

    // The sweep finds the recharge once the operations read model shows it in flight.
    const later = afterTheLease(ledger.service.clock).now().plus({ minutes: 5 }).toISO()!;
    let resumed = 0;
    for (let attempt = 0; attempt < 100 && resumed === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      resumed = await resumeStalledOperations(ledger.service.commands, ledger.service.readModels, later, 60_000);
    }
    expect(resumed).toBe(1);
    const retry = await send(restarted, request);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json()).toMatchObject({
      status: 'completed',
      amount: '7.00',
      position: expect.stringMatching(/^[0-9]+$/),
    });
    // Charged once: one order at one channel under the recharge id (the resume sent the same order
    // number, which the channel answers as before), and one credit.
    const rechargeId = retry.json().rechargeId;
    const simulator = ledger.service.channels.simulator!;
    const orders = ledger.service.channels.gateway.channelIds.map((id) => simulator.records(id).orders.get(rechargeId));
    expect(orders.filter((order) => order !== undefined).map((order) => order.state)).toEqual(['SUCCESS']);
    const credits = (await ledger.service.commands.getAccountEvents(wallet)).filter(
      (e) => e.type === 'FundsRecharged' && e.data.rechargeId === rechargeId,
    );
    expect(credits).toHaveLength(1);
  });
});
