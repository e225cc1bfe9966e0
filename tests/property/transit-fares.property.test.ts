import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAmount } from '../../src/domain/money/money.js';
import type { CurrencyCode } from '../../src/domain/money/currency.js';
import {
  createCaller,
  openWallet,
  recharge,
  startTestLedger,
  type Credentials,
  type TestLedger,
} from '../support/test-ledger.js';
import { issueTestCredential, openSettlementAccount, tap, type TestDevice } from '../support/transit-fixtures.js';

const CNY = 'CNY' as CurrencyCode;

/**
 * Random payers, top-ups, batches (with repeated scans and replayed batches) and debt sweeps through the
 * API: whatever happens, each payer's debt is the fares accepted minus the fares charged, the wallet
 * never goes below zero, the operator is credited every accepted fare exactly once, and the books
 * balance with the fares receivable (1123) holding exactly the payers' debts.
 */
describe('transit fares (property)', () => {
  let ledger: TestLedger;
  let busCo: Credentials;
  let busAccount: string;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, { TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0' });
    busCo = await createCaller(ledger.service, 'merchant', 'Metro');
    busAccount = await openSettlementAccount(ledger, busCo);
    // Something on the books from the start: every run has a trial balance to check.
    expect((await recharge(ledger.app, (await openWallet(ledger.app)).accountId, '1.00')).statusCode).toBe(201);
  });
  afterAll(async () => {
    await ledger.close();
  });

  const minorOf = (amount: string) => BigInt(amount.replace('.', ''));
  const head = async () => (await ledger.inject({ method: 'GET', url: '/v1/log/head' })).json().position as string;
  const balanceMinor = async (accountId: string, minPosition: string) =>
    minorOf(
      (await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}?minPosition=${minPosition}` })).json()
        .balance,
    );

  const step = fc.oneof(
    fc.record({ kind: fc.constant('topUp' as const), payer: fc.nat(2), cents: fc.integer({ min: 1, max: 800 }) }),
    fc.record({
      kind: fc.constant('batch' as const),
      scans: fc.array(fc.record({ payer: fc.nat(2), cents: fc.integer({ min: 1, max: 500 }), repeat: fc.boolean() }), {
        minLength: 1,
        maxLength: 6,
      }),
      replay: fc.boolean(),
    }),
    fc.constant({ kind: 'sweep' as const }),
  );

  it('keeps debt = accepted - charged, and the books balanced with the receivable', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const payers = await Promise.all(
          [0, 1, 2].map(async () => {
            const wallet = await openWallet(ledger.app);
            const device: TestDevice = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId, {
              debtLimit: '8.00',
            });
            return { wallet, device, toppedUpMinor: 0n, acceptedMinor: 0n };
          }),
        );
        const busBefore = await balanceMinor(busAccount, await head());
        let acceptedTotal = 0n;
        for (const s of steps) {
          if (s.kind === 'topUp') {
            const payer = payers[s.payer]!;
            const amount = formatAmount(BigInt(s.cents), CNY);
            expect((await recharge(ledger.app, payer.wallet.accountId, amount)).statusCode).toBe(201);
            payer.toppedUpMinor += BigInt(s.cents);
          } else if (s.kind === 'sweep') {
            // The sweep skips wallets its balances read model shows empty: let it see the top-ups first.
            await ledger.service.projections.waitForPosition('balances', BigInt(await head()), 5000);
            await ledger.service.transitDebtSweep.sweep(new Date().toISOString());
          } else {
            const scans = s.scans.flatMap(({ payer, cents, repeat }) => {
              const one = { payer, body: tap(payers[payer]!.device, { fare: formatAmount(BigInt(cents), CNY) }) };
              return repeat ? [one, one] : [one];
            });
            const payload = { batchId: randomUUID(), operatorAccountId: busAccount, scans: scans.map((x) => x.body) };
            const answer = (
              await ledger.inject({ method: 'POST', url: '/v1/transit/scan-batches', payload }, busCo)
            ).json();
            answer.results.forEach((result: { status: string }, index: number) => {
              if (result.status === 'refused') return;
              const { payer, body } = scans[index]!;
              payers[payer]!.acceptedMinor += minorOf(body.fare);
              acceptedTotal += minorOf(body.fare);
            });
            if (s.replay) {
              const again = await ledger.inject({ method: 'POST', url: '/v1/transit/scan-batches', payload }, busCo);
              expect(again.json().results).toEqual(answer.results);
            }
          }
        }
        const position = await head();
        // The operator got every accepted fare once, at acceptance.
        expect((await balanceMinor(busAccount, position)) - busBefore).toBe(acceptedTotal);
        for (const payer of payers) {
          const { state } = await ledger.service.transit.load(payer.wallet.ownerId);
          const charges = (await ledger.service.commands.getAccountEvents(payer.wallet.accountId)).filter(
            (e) => e.type === 'FundsDebited' && e.data.kind === 'transit_charge',
          );
          const chargedMinor = charges.reduce((sum, e) => sum + (e.data as { amountMinor: bigint }).amountMinor, 0n);
          expect(new Set(charges.map((e) => (e.data as { operationId: string }).operationId)).size).toBe(
            charges.length,
          );
          expect(state.outstandingMinor).toBe(payer.acceptedMinor - chargedMinor);
          const balance = await balanceMinor(payer.wallet.accountId, position);
          expect(balance).toBe(payer.toppedUpMinor - chargedMinor);
          expect(balance >= 0n).toBe(true);
        }
        await checkBooks(position);
      }),
      { numRuns: 6 },
    );
  });

  async function checkBooks(position: string): Promise<void> {
    const trialDates = (
      await ledger.inject({ method: 'GET', url: `/v1/books/accounting-dates?minPosition=${position}` })
    ).json().items as Array<{ accountingDate: string }>;
    expect(trialDates.length).toBeGreaterThan(0);
    for (const { accountingDate } of trialDates) {
      const trial = (
        await ledger.inject({ method: 'GET', url: `/v1/books/trial-balance?date=${accountingDate}&currency=CNY` })
      ).json();
      expect(trial.balanced).toBe(true);
    }
    // The receivable's balance is every payer's unpaid fares, in this ledger, and nothing else.
    const receivable = (
      await ledger.inject({
        method: 'GET',
        url: `/v1/books/accounts/1123/balances?currency=CNY&minPosition=${position}`,
      })
    ).json();
    await ledger.service.projections.waitForPosition('transit', BigInt(position), 5000);
    const debts = await ledger.service.readModels.find('transit_debts', { where: { inDebt: true }, limit: 500 });
    const owedMinor = debts.items.reduce((sum, doc) => sum + BigInt(doc.data['outstandingMinor'] as string), 0n);
    const receivableMinor = receivable.totals.length === 0 ? 0n : minorOf(receivable.totals[0].balance);
    expect(receivableMinor).toBe(owedMinor);
  }
});
