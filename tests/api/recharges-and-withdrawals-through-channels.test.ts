import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import { decodeRoutingDecision, encodeRoutingDecision } from '../../src/domain/channels/routing-record.js';
import { route } from '../../src/domain/channels/routing.js';
import { collect } from '../support/events.js';
import { whileChannelsDecline } from '../support/test-channels.js';
import { freshKey, openWallet, payeeOf, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Recharges and withdrawals on the channel path (issue 10): routed among the channels holding the card's
 * contract, the decision recorded and replayable, the channel's fee booked, a channel that accepted
 * nothing routed away from, an answer that is not final (a timeout: unknown) resolved by asking the
 * channel for the order, never by charging or paying out again. Both commit paths: one commit per part
 * where the store can (`auto`), and the per-stream process (`off`).
 */
describe.each(['auto', 'off'])('recharges and withdrawals through the channels (ONE_COMMIT=%s)', (oneCommit) => {
  let ledger: TestLedger;

  beforeAll(async () => {
    // A short call timeout, so an injected timeout is an `unknown` answer at once.
    ledger = await startTestLedger(undefined, { ONE_COMMIT: oneCommit, CHANNEL_CALL_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await ledger?.close();
  });

  const simulator = () => ledger.service.channels.simulator!;
  /** How many times the channel was sent this order (its own count of requests per operation and order number). */
  const requestsAt = (channelId: string, operation: 'charge' | 'payout', orderNo: string) =>
    simulator().records(channelId).attempts.get(`${operation}:${operation}:${orderNo}`) ?? 0;
  const chargesOf = (channelId: string, orderNo: string) => requestsAt(channelId, 'charge', orderNo);
  const payoutsOf = (channelId: string, orderNo: string) => requestsAt(channelId, 'payout', orderNo);

  async function eventsOf(streamId: string) {
    return (await collect(ledger.service.eventStore.readStream(streamId))).map((e) => ({ type: e.type, data: e.data }));
  }

  /** The balance as of `minPosition` (default: the head of the log, so every answer so far is in). */
  async function balanceOf(accountId: string, position?: string) {
    const minPosition = position ?? (await ledger.inject({ method: 'GET', url: '/v1/log/head' })).json().position;
    const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}?minPosition=${minPosition}` });
    return read.json().balance as string;
  }

  /**
   * The recovery sweep, run as of `minutesLater` from now, until it has resumed something (the read model
   * catches up). It may also look at operations this file finished whose read model lags: nothing to do.
   */
  async function sweepUntilResumed(minutesLater: number): Promise<number> {
    const later = DateTime.utc().plus({ minutes: minutesLater }).toISO();
    let resumed = 0;
    for (let attempt = 0; attempt < 100 && resumed === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      resumed = await resumeStalledOperations(ledger.service.commands, ledger.service.readModels, later, 60_000);
    }
    return resumed;
  }

  /** Runs `run` while every channel holds its answers past our call timeout (having carried the call out). */
  async function withTimeouts<T>(run: () => Promise<T>): Promise<T> {
    const ids = ledger.service.channels.gateway.channelIds;
    for (const id of ids) simulator().setFailures(id, { timeoutRatePpm: 1_000_000 });
    try {
      return await run();
    } finally {
      for (const id of ids) simulator().setFailures(id, { timeoutRatePpm: 0 });
    }
  }

  it('recharges by quick pay with a bound card: routed to the cheapest channel, the fee booked, the decision replaying', async () => {
    const wallet = await openWallet(ledger.app);
    const response = await recharge(ledger.app, wallet.accountId, '100.00');
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    // The bank's quick pay: 0.2 % of 100.00 = 0.20; the card network would take 0.38.
    expect(body).toMatchObject({
      status: 'completed',
      channel: SIMULATED_BANK,
      channelFee: '0.20',
      routingReason: 'cheapest_healthy',
      channelAnswer: null,
    });
    expect(body.channelOrderNo).toEqual(expect.any(String));
    expect(await balanceOf(wallet.accountId, body.position)).toBe('100.00');

    const [requested] = await eventsOf(`recharge-${body.rechargeId}`);
    expect(requested!.type).toBe('RechargeRequested');
    const recorded = decodeRoutingDecision(requested!.data['routing']);
    // An auditor replays the router on the recorded inputs and gets the same decision, byte for byte.
    expect(encodeRoutingDecision(route(recorded.inputs))).toEqual(requested!.data['routing']);
    expect(recorded.chosen).toBe(SIMULATED_BANK);
    expect(recorded.candidates.map((c) => c.channelId).sort()).toEqual([SIMULATED_CARD_NETWORK, SIMULATED_BANK].sort());

    const journal = await ledger.inject({
      method: 'GET',
      url: `/v1/books/journal?operationId=${body.rechargeId}&minPosition=${body.position}`,
    });
    const lines = journal.json().entries.flatMap((e: { lines: unknown[] }) => e.lines);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: '6603',
          side: 'debit',
          amount: '0.20',
          subLedger: { type: 'channel', id: SIMULATED_BANK },
        }),
      ]),
    );
    expect(chargesOf(SIMULATED_BANK, body.rechargeId)).toBe(1);
  });

  it('fails a declined charge and credits nothing', async () => {
    const wallet = await openWallet(ledger.app);
    const declined = await whileChannelsDecline(ledger.service.channels, () =>
      recharge(ledger.app, wallet.accountId, '5.00'),
    );
    expect(declined.statusCode).toBe(422);
    expect(declined.json()).toMatchObject({ code: 'channel_declined' });
    expect(await balanceOf(wallet.accountId)).toBe('0.00');
  });

  it('keeps a timed-out charge unknown, then the sweep resolves it by an order query: charged once', async () => {
    const wallet = await openWallet(ledger.app);
    const pending = await withTimeouts(() => recharge(ledger.app, wallet.accountId, '50.00'));
    expect(pending.statusCode, pending.body).toBe(202);
    const view = pending.json();
    expect(view).toMatchObject({ status: 'requested', channel: SIMULATED_BANK, channelAnswer: { outcome: 'unknown' } });
    // The channel did charge (its answer was held back past our timeout).
    expect(simulator().records(SIMULATED_BANK).orders.get(view.rechargeId)?.state).toBe('SUCCESS');

    expect(await sweepUntilResumed(10)).toBeGreaterThanOrEqual(1);
    const found = await ledger.inject({ method: 'GET', url: `/v1/recharges/${view.rechargeId}` });
    expect(found.json()).toMatchObject({ status: 'completed', channelFee: '0.10', channelAnswer: null });
    expect(await balanceOf(wallet.accountId, found.json().position)).toBe('50.00');
    // Asked, never charged again; the sweep has nothing more to do.
    expect(chargesOf(SIMULATED_BANK, view.rechargeId)).toBe(1);
    const types = (await eventsOf(`recharge-${view.rechargeId}`)).map((e) => e.type);
    expect(types).toEqual(['RechargeRequested', 'RechargeAwaitingChannel', 'RechargeCompleted']);
  });

  it('resolves an unknown recharge when a client looks at it (GET asks the channel once)', async () => {
    const wallet = await openWallet(ledger.app);
    const pending = await withTimeouts(() => recharge(ledger.app, wallet.accountId, '30.00'));
    expect(pending.statusCode, pending.body).toBe(202);
    const found = await ledger.inject({ method: 'GET', url: `/v1/recharges/${pending.json().rechargeId}` });
    expect(found.json()).toMatchObject({ status: 'completed', amount: '30.00', channel: SIMULATED_BANK });
    expect(chargesOf(SIMULATED_BANK, pending.json().rechargeId)).toBe(1);
  });

  it('routes away from the cheapest channel in an outage, recording the second decision', async () => {
    const wallet = await openWallet(ledger.app);
    simulator().setFailures(SIMULATED_BANK, { outage: true });
    let response;
    try {
      response = await recharge(ledger.app, wallet.accountId, '100.00');
    } finally {
      simulator().setFailures(SIMULATED_BANK, { outage: false });
    }
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ status: 'completed', channel: SIMULATED_CARD_NETWORK, channelFee: '0.38' });
    const events = await eventsOf(`recharge-${response.json().rechargeId}`);
    expect(events.map((e) => e.type)).toEqual(['RechargeRequested', 'RechargeRouted', 'RechargeCompleted']);
    expect(events[0]!.data['channel']).toBe(SIMULATED_BANK);
    const rerouted = events[1]!.data;
    expect(rerouted).toMatchObject({ fromChannel: SIMULATED_BANK, channel: SIMULATED_CARD_NETWORK });
    const decision = decodeRoutingDecision(rerouted['routing']);
    expect(decision.candidates.map((c) => c.channelId)).toEqual([SIMULATED_CARD_NETWORK]);
    expect(encodeRoutingDecision(route(decision.inputs))).toEqual(rerouted['routing']);
    expect(chargesOf(SIMULATED_CARD_NETWORK, response.json().rechargeId)).toBe(1);
  });

  it('fails channel_unavailable when no channel holding the card accepts anything', async () => {
    const wallet = await openWallet(ledger.app);
    for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK]) simulator().setFailures(id, { outage: true });
    let response;
    try {
      response = await recharge(ledger.app, wallet.accountId, '1.00');
    } finally {
      for (const id of [SIMULATED_BANK, SIMULATED_CARD_NETWORK]) simulator().setFailures(id, { outage: false });
    }
    expect(response.statusCode, response.body).toBe(503);
    expect(response.json().code).toBe('channel_unavailable');
    expect(await balanceOf(wallet.accountId)).toBe('0.00');
  });

  it('answers online banking 202 with the bank page, then completes once the payer has paid', async () => {
    const wallet = await openWallet(ledger.app);
    const response = await ledger.inject({
      method: 'POST',
      url: '/v1/recharges',
      headers: { 'idempotency-key': freshKey() },
      payload: {
        accountId: wallet.accountId,
        amount: '20.00',
        currency: 'CNY',
        payer: { method: 'online_banking', bankCode: 'CITY', returnUrl: 'https://shop.example/back' },
      },
    });
    expect(response.statusCode, response.body).toBe(202);
    const view = response.json();
    expect(view).toMatchObject({ status: 'requested', channel: SIMULATED_BANK, channelAnswer: { outcome: 'pending' } });
    // The bank's page for this order, where the payer signs in and pays.
    expect(view.channelAnswer.payerActionUrl).toContain(view.channelAnswer.channelOrderNo);
    // The simulated payer pays within 50 ms; a look at the recharge asks the bank.
    let found;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      found = (await ledger.inject({ method: 'GET', url: `/v1/recharges/${view.rechargeId}` })).json();
      if (found.status !== 'requested') break;
    }
    expect(found).toMatchObject({ status: 'completed', channelFee: '0.02' });
  });

  it('withdraws to a bound card, reverses a declined payout, and resolves an unknown payout by an order query', async () => {
    const wallet = await openWallet(ledger.app);
    await recharge(ledger.app, wallet.accountId, '50.00');
    const payee = await payeeOf(ledger.app);
    const withdraw = (amount: string) =>
      ledger.inject({
        method: 'POST',
        url: '/v1/withdrawals',
        headers: { 'idempotency-key': freshKey() },
        payload: { accountId: wallet.accountId, amount, currency: 'CNY', payee },
      });

    const paid = await withdraw('10.00');
    expect(paid.statusCode, paid.body).toBe(201);
    // Payouts: the bank 1.00 flat, the card network 2.00.
    expect(paid.json()).toMatchObject({ status: 'completed', channel: SIMULATED_BANK, channelFee: '1.00' });
    expect(paid.json().payeeReference).toBe(payee.contracts.find((c) => c.channelId === SIMULATED_BANK)!.contractNo);

    const declined = await whileChannelsDecline(ledger.service.channels, () => withdraw('5.00'));
    expect(declined.statusCode).toBe(422);
    expect(declined.json().code).toBe('channel_declined');
    expect(await balanceOf(wallet.accountId)).toBe('40.00');

    const unknown = await withTimeouts(() => withdraw('7.00'));
    expect(unknown.statusCode, unknown.body).toBe(202);
    const withdrawalId = unknown.json().withdrawalId;
    expect(unknown.json()).toMatchObject({ status: 'requested', channelAnswer: { outcome: 'unknown' } });
    // The wallet stays debited while the payout is unknown.
    expect(await balanceOf(wallet.accountId, unknown.json().position)).toBe('33.00');
    expect(await sweepUntilResumed(10)).toBeGreaterThanOrEqual(1);
    const found = await ledger.inject({ method: 'GET', url: `/v1/withdrawals/${withdrawalId}` });
    expect(found.json()).toMatchObject({ status: 'completed', channelFee: '1.00', channelAnswer: null });
    expect(payoutsOf(SIMULATED_BANK, withdrawalId)).toBe(1);
    expect(await balanceOf(wallet.accountId, found.json().position)).toBe('33.00');
  });

  it('keeps the trial balance of the day balanced', async () => {
    const date = DateTime.now().setZone(ledger.service.config.accountingTimeZone).toISODate();
    const head = (await ledger.inject({ method: 'GET', url: '/v1/log/head' })).json().position;
    const response = await ledger.inject({
      method: 'GET',
      url: `/v1/books/trial-balance?date=${date}&currency=CNY&minPosition=${head}`,
    });
    expect(response.json()).toMatchObject({ balanced: true });
  });
});
