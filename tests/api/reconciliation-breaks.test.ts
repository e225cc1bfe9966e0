import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_BANK } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { ChannelSimulator } from '../../src/adapters/channels/simulator/channel-simulator.js';
import { noFailures } from '../../src/adapters/channels/simulator/simulator-config.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import { BREAKS_FILE, matchDay } from '../../src/commands/reconciliation/match-day.js';
import { readBreaksFile, recordRunBreaks } from '../../src/commands/reconciliation/record-breaks.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { CHANNEL_ORDERS_COLLECTION, type ChannelOrderDocument } from '../../src/projections/channel-orders.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

/**
 * Issue 13's breaks end to end, on a whole ledger with the in-process simulator: payments and a refund
 * the channel really made while we hold them unknown (a timeout), a payment whose statement amount
 * differs, one whose statement fee differs, and one that matches. A run records the breaks and resolves
 * the automatic ones through the channel payments' own flow (the payee credited once); the day run again
 * changes nothing; operators work the rest through the review queue's routes, the books balanced after
 * each resolution.
 */
const ZONE = 'Asia/Shanghai';

interface BreakView {
  breakId: string;
  matchClass: string;
  status: string;
  resolution: string | null;
  automatic: boolean | null;
  resolvedBy: string | null;
  posted: { amount: string; currency: string; account: string } | null;
  statement: { amount: string } | null;
  ours: { amount: string; status: string } | null;
}

describe('reconciliation breaks: recorded, resolved automatically where the channel is right, worked by operators', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let card: BoundCard;
  let simulator: ChannelSimulator;
  let seq = 0;
  const today = DateTime.utc().setZone(ZONE).toISODate()!;
  const planted: Record<string, string> = {};
  /** Per order id, what its statement line changes from what we recorded. */
  const lineChanges = new Map<string, Partial<StatementRecord>>();

  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const get = (url: string, as: Credentials = ledger.operator) => ledger.inject({ method: 'GET', url }, as);
  const pay = async (amount: string) => {
    const response = await post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount,
      currency: 'CNY',
      merchantOrderNo: `RB-${process.pid}-${++seq}`,
      instrument: { method: 'quick_pay', card },
      payer: { ip: '198.51.100.9', deviceId: 'dev-recon', payerId: 'customer-recon' },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ paymentId: string; status: string }>();
  };
  const withTimeouts = async <T>(work: () => Promise<T>): Promise<T> => {
    simulator.setFailures(SIMULATED_BANK, { timeoutRatePpm: 1_000_000 });
    try {
      return await work();
    } finally {
      simulator.setFailures(SIMULATED_BANK, noFailures);
    }
  };
  async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const orderDoc = async (id: string) =>
    (await ledger.service.readModels.get<ChannelOrderDocument>(CHANNEL_ORDERS_COLLECTION, id))?.data;
  const orderStatus = (id: string, status: string) =>
    eventually(async () => ((await orderDoc(id))?.status === status ? true : undefined), `order ${id} ${status}`);
  const creditsOf = async (paymentId: string) =>
    (await ledger.service.commands.getAccountEvents(shopAccount)).filter(
      (e) => e.type === 'FundsCredited' && e.data.operationId === paymentId,
    ).length;

  /** The channel's statement of the day: a settled line for every order it really made, as it made it. */
  async function storeStatement(): Promise<void> {
    const lines: StatementRecord[] = [];
    const docs = await ledger.service.readModels.find<ChannelOrderDocument>(CHANNEL_ORDERS_COLLECTION, {
      range: { field: 'dayMatchKey', gte: `${SIMULATED_BANK}|${today}|`, lt: `${SIMULATED_BANK}|${today}}` },
      limit: 1_000,
    });
    for (const { data: doc } of docs.items) {
      const id = doc.refundNo ?? doc.merchantOrderNo;
      const channelOrder = simulator.records(SIMULATED_BANK).orders.get(doc.merchantOrderNo);
      lines.push({
        channel: SIMULATED_BANK,
        accountingDate: today,
        kind: doc.kind,
        status: 'settled',
        channelOrderNo: doc.channelOrderNo ?? channelOrder?.channelOrderNo ?? `SIM-${id.slice(0, 8)}`,
        merchantOrderNo: doc.merchantOrderNo,
        refundNo: doc.refundNo,
        channelRefundNo: doc.refundNo === null ? null : `SIM-R-${id.slice(0, 8)}`,
        amountMinor: BigInt(doc.amountMinor),
        feeMinor: BigInt(doc.feeMinor ?? doc.scheduledFeeMinor ?? '0'),
        currency: parseCurrency(doc.currency),
        channelTime: doc.channelTime ?? doc.ourTime,
        sourceLine: lines.length + 1,
        ...lineChanges.get(id),
      });
    }
    async function* each() {
      yield* lines;
    }
    await ledger.service.statements.replaceDay(
      { channel: SIMULATED_BANK, accountingDate: today, format: 'ledger-normalised/1' },
      each(),
    );
  }

  /** One reconciliation run of the bank's day: matchDay, then its breaks recorded (and resolved). */
  async function runDay() {
    const matched = await matchDay(
      {
        statements: ledger.service.statements,
        readModels: ledger.service.readModels,
        resultsDir: join(ledger.dataDir, 'recon-results'),
      },
      { channel: SIMULATED_BANK, accountingDate: today, accountingTimeZone: ZONE, cutOffWindowMs: 0 },
    );
    return recordRunBreaks(
      {
        breaks: ledger.service.reconciliationBreaks,
        readModels: ledger.service.readModels,
        headPosition: () => ledger.service.eventStore.headPosition(),
        waitForPosition: (projection, position, timeoutMs) =>
          ledger.service.projections.waitForPosition(projection, position, timeoutMs),
        channelPayments: ledger.service.channelPayments,
      },
      {
        runId: randomUUID(),
        channel: SIMULATED_BANK,
        accountingDate: today,
        breaks: readBreaksFile(join(matched.directory, BREAKS_FILE)),
        complete: matched.breaksListed === matched.breaks,
        ranBy: 'test-run',
        at: DateTime.utc().toISO(),
      },
    );
  }
  const listBreaks = async (query = '') =>
    (await get(`/v1/reconciliation/breaks?channel=${SIMULATED_BANK}&limit=200${query}`)).json<{ items: BreakView[] }>()
      .items;
  const breakOf = async (matchClass: string) => {
    const found = (await listBreaks()).find((item) => item.matchClass === matchClass);
    if (!found) throw new Error(`no ${matchClass} break`);
    return found;
  };
  const trialBalanced = async (position: string) =>
    (await get(`/v1/books/trial-balance?date=${today}&currency=CNY&minPosition=${position}`)).json<{
      balanced: boolean;
    }>().balanced;
  const journalOf = async (operationId: string, position: string) =>
    (await get(`/v1/books/journal?operationId=${encodeURIComponent(operationId)}&minPosition=${position}`))
      .json<{ entries: { lines: { code: string; side: string; amount: string }[] }[] }>()
      .entries.map((e) => e.lines.map((l) => `${l.side} ${l.code} ${l.amount}`).sort());

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, {
      CHANNEL_CALL_TIMEOUT_MS: '500',
      CHANNEL_POLL_INTERVAL_MS: '0',
      CHANNEL_EXPLORATION_PPM: '0',
    });
    simulator = ledger.service.channels.simulator!;
    shop = await createCaller(ledger.service, 'merchant', 'Reconciled shop');
    shopAccount = (
      await post(
        '/v1/accounts',
        { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
        ledger.operator,
      )
    ).json<{ accountId: string }>().accountId;
    card = await bindTestCard(ledger.service.channels);

    // The channel charged it, but its answer never came: unknown with us.
    const unknown = await withTimeouts(() => pay('80.00'));
    expect(unknown.status).toBe('unknown');
    planted['we_not_paid_channel_paid'] = unknown.paymentId;
    // The channel settled another amount; and another fee than it told us.
    planted['amount_differs'] = (await pay('100.00')).paymentId;
    lineChanges.set(planted['amount_differs'], { amountMinor: 9_000n });
    planted['fee_differs_from_recorded'] = (await pay('50.00')).paymentId;
    lineChanges.set(planted['fee_differs_from_recorded'], { feeMinor: 20n });
    planted['matched'] = (await pay('12.00')).paymentId;
    // A refund the channel made while its answer timed out: unknown with us.
    const refunded = (await pay('60.00')).paymentId;
    const refund = await withTimeouts(() =>
      post(`/v1/channel-payments/${refunded}/refunds`, {
        refundNo: 'RF-1',
        amount: '60.00',
        currency: 'CNY',
        reason: 'returned',
      }),
    );
    expect(refund.statusCode, refund.body).toBe(202);
    planted['we_not_refunded_channel_refunded'] = refunded;
    planted['refundId'] = refund.json<{ refundId: string }>().refundId;
    await orderStatus(planted['refundId'], 'unknown');
    await orderStatus(unknown.paymentId, 'unknown');
    await storeStatement();
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('a run records every break and resolves the ones the channel is right about, paying the payee once', async () => {
    const creditsBefore = await creditsOf(planted['we_not_paid_channel_paid']!);
    expect(creditsBefore).toBe(0);
    const first = await runDay();
    expect(first).toMatchObject({ recorded: 4, found: 4, markedPaid: 1, markedRefunded: 1, leftForReview: 0 });

    const paid = (await ledger.service.channelPayments.get(planted['we_not_paid_channel_paid']!)).payment;
    expect(paid).toMatchObject({ status: 'completed', learntBy: 'statement' });
    expect(await creditsOf(planted['we_not_paid_channel_paid']!)).toBe(1);
    const refunded = await ledger.service.channelPayments.getRefund(
      planted['we_not_refunded_channel_refunded']!,
      planted['refundId']!,
    );
    expect(refunded.refund).toMatchObject({ status: 'completed', learntBy: 'statement' });
    // Refunded once at the channel (the timed-out call); the merchant's money held once, not again.
    expect(simulator.records(SIMULATED_BANK).attempts.get(`refund:refund:${planted['refundId']}`)).toBe(1);
    const debits = (await ledger.service.commands.getAccountEvents(shopAccount)).filter(
      (e) => e.type === 'FundsDebited' && e.data.operationId === planted['refundId'],
    );
    expect(debits).toHaveLength(1);
    // The channel charged the card once, and was never asked to charge it again.
    const charges = [...simulator.records(SIMULATED_BANK).orders.values()].filter(
      (order) => order.orderNo === planted['we_not_paid_channel_paid'],
    );
    expect(charges).toHaveLength(1);

    const breaks = await listBreaks(`&minPosition=${first.position}`);
    expect(breaks.map((b) => [b.matchClass, b.status, b.resolution]).sort()).toEqual(
      [
        ['amount_differs', 'open', null],
        ['fee_differs_from_recorded', 'open', null],
        ['we_not_paid_channel_paid', 'resolved', 'marked_paid'],
        ['we_not_refunded_channel_refunded', 'resolved', 'marked_refunded'],
      ].sort(),
    );
    const auto = breaks.find((b) => b.matchClass === 'we_not_paid_channel_paid')!;
    expect(auto).toMatchObject({ automatic: true, resolvedBy: 'ledger', posted: null });
    expect(await trialBalanced(first.position.toString())).toBe(true);
  });

  it('the day run again records nothing new and pays no one twice', async () => {
    // Our side now shows the payment and the refund succeeded: they match; their breaks stay resolved.
    await orderStatus(planted['we_not_paid_channel_paid']!, 'succeeded');
    await orderStatus(planted['refundId']!, 'succeeded');
    const again = await runDay();
    expect(again).toMatchObject({ recorded: 2, found: 0, seenAgain: 0, unchanged: 2, cleared: 0, markedPaid: 0 });
    expect(await creditsOf(planted['we_not_paid_channel_paid']!)).toBe(1);
    // Completed once: the merchant's webhook (sent for the completion) goes out once.
    const completions: string[] = [];
    for await (const event of ledger.service.eventStore.readStream(`chanpay-${planted['we_not_paid_channel_paid']}`))
      if (event.type === 'ChannelPaymentCompleted') completions.push(event.type);
    expect(completions).toHaveLength(1);
    const auto = await breakOf('we_not_paid_channel_paid');
    expect(auto).toMatchObject({ status: 'resolved', resolution: 'marked_paid' });
  });

  it("an operator accepts the channel's amount: the difference goes to suspense, the books balanced", async () => {
    const differs = await breakOf('amount_differs');
    const path = `/v1/reconciliation/breaks/${differs.breakId}/resolve`;
    expect((await post(path, { reason: 'checked' }, shop)).statusCode).toBe(403);
    const refused = await post(path, { reason: '' }, ledger.operator);
    expect(refused.statusCode).toBe(400);
    const resolved = await post(
      path,
      { reason: 'the channel settled 90.00: confirmed by its support' },
      ledger.operator,
    );
    expect(resolved.statusCode, resolved.body).toBe(200);
    const body = resolved.json<{ break: BreakView; history: { type: string; actor: string }[]; position: string }>();
    expect(body.break).toMatchObject({
      status: 'resolved',
      resolution: 'accepted_channel_amount',
      resolvedBy: ledger.operator.entityId,
      posted: { amount: '-10.00', currency: 'CNY', account: '2241' },
    });
    expect(body.history.map((entry) => entry.type)).toEqual(['BreakFound', 'BreakResolved']);
    // The channel holds 10.00 less than we booked: 1122 comes down to what it holds, suspense carries it.
    expect(await journalOf(differs.breakId, body.position)).toEqual([['credit 1122 10.00', 'debit 2241 10.00']]);
    expect(await trialBalanced(body.position)).toBe(true);
    const again = await post(path, { reason: 'twice' }, ledger.operator);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'break_already_resolved' });
  });

  it('investigated, cleared by a later run, reopened and written off; each with who and why', async () => {
    const fee = await breakOf('fee_differs_from_recorded');
    const base = `/v1/reconciliation/breaks/${fee.breakId}`;
    const noted = await post(`${base}/investigate`, { note: 'asked the bank about its fee' }, ledger.operator);
    expect(noted.statusCode, noted.body).toBe(200);
    expect(noted.json<{ break: BreakView }>().break.status).toBe('investigated');

    // The bank sends a corrected statement: the fee is what it told us. The next run clears the break.
    lineChanges.delete(planted['fee_differs_from_recorded']!);
    await storeStatement();
    const corrected = await runDay();
    expect(corrected).toMatchObject({ found: 0, cleared: 1 });
    const cleared = await get(`${base}`);
    expect(cleared.json<{ break: BreakView }>().break.status).toBe('cleared');
    expect((await post(`${base}/investigate`, { note: 'again' }, ledger.operator)).json()).toMatchObject({
      code: 'break_not_open',
    });

    const reopened = await post(`${base}/reopen`, { reason: 'the bank took the fee after all' }, ledger.operator);
    expect(reopened.statusCode, reopened.body).toBe(200);
    const written = await post(`${base}/write-off`, { reason: 'too small to pursue' }, ledger.operator);
    expect(written.statusCode, written.body).toBe(200);
    const detail = written.json<{ break: BreakView; history: { type: string; actor: string }[]; position: string }>();
    expect(detail.break).toMatchObject({ status: 'resolved', resolution: 'written_off' });
    expect(detail.history.map((entry) => entry.type)).toEqual([
      'BreakFound',
      'BreakInvestigated',
      'BreakCleared',
      'BreakReopened',
      'BreakResolved',
    ]);
    expect(await trialBalanced(detail.position)).toBe(true);
    expect((await post(`${base}/reopen`, { reason: 'x' }, ledger.operator)).statusCode).toBe(200);
    expect((await post(`${base}/reopen`, { reason: 'x' }, ledger.operator)).json()).toMatchObject({
      code: 'break_already_open',
    });
  });

  it('lists by status and class, refuses merchants, exports CSV, answers 404 for an unknown break', async () => {
    const resolved = await listBreaks('&status=resolved');
    expect(resolved.map((b) => b.matchClass).sort()).toEqual(
      ['amount_differs', 'we_not_paid_channel_paid', 'we_not_refunded_channel_refunded'].sort(),
    );
    const byClass = await listBreaks('&matchClass=amount_differs');
    expect(byClass).toHaveLength(1);
    expect(await listBreaks(`&fromDate=${today}&toDate=${today}`)).toHaveLength(4);
    expect((await get('/v1/reconciliation/breaks', shop)).statusCode).toBe(403);
    expect((await get('/v1/reconciliation/breaks.csv', shop)).statusCode).toBe(403);

    const csv = await get(`/v1/reconciliation/breaks.csv?channel=${SIMULATED_BANK}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = csv.body.split('\r\n').filter((row) => row.length > 0);
    expect(rows[0]!.startsWith('breakId,channel,originDate,runDate,matchClass,status')).toBe(true);
    expect(rows).toHaveLength(5);
    expect(rows.some((row) => row.includes('accepted_channel_amount') && row.includes('-10.00'))).toBe(true);

    const unknown = await get(`/v1/reconciliation/breaks/${SIMULATED_BANK}:${today}:${'0'.repeat(32)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'break_not_found' });
  });
});
