import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountStreamId } from '../../src/commands/accounts/open-account-handler.js';
import { stepContext } from '../../src/commands/operations/operation-steps.js';
import { scanIdOf, transitStreamId } from '../../src/commands/transit/transit-commands.js';
import type { CurrencyCode } from '../../src/domain/money/currency.js';
import { createCaller, openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { issueTestCredential, openSettlementAccount, testContext } from '../support/transit-fixtures.js';

/**
 * A process that died between a scan's steps: the debt sweep finds the scan unpaid and takes it to its
 * end, never crediting the operator or charging the payer twice, however often it runs.
 */
describe('transit: a half-done scan is resumed once', () => {
  let ledger: TestLedger;
  let busAccount: string;
  let busId: string;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, { TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0' });
    const bus = await createCaller(ledger.service, 'merchant', 'Tram');
    busId = bus.entityId;
    busAccount = await openSettlementAccount(ledger, bus);
  });
  afterAll(async () => {
    await ledger.close();
  });

  const context = testContext;
  const fareEvents = async (accountId: string, kind: string) =>
    (await ledger.service.commands.getAccountEvents(accountId)).filter(
      (e) => (e.type === 'FundsCredited' || e.type === 'FundsDebited') && e.data.kind === kind,
    );

  /** Records what a died upload left: the acceptance, and (`credited`) the operator's credit too. */
  async function halfDone(credited: boolean) {
    const wallet = await openWallet(ledger.app);
    expect((await recharge(ledger.app, wallet.accountId, '10.00')).statusCode).toBe(201);
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const scanId = scanIdOf(device.credentialId, 'tram-1', '0123456789abcdef0123456789abcdef');
    const ctx = context();
    const accepted = await ledger.service.transit.transit.handle(
      transitStreamId(wallet.ownerId),
      {
        type: 'AcceptFare',
        fare: {
          userId: wallet.ownerId,
          scanId,
          credentialId: device.credentialId,
          batchId: randomUUID(),
          operatorId: busId,
          operatorAccountId: busAccount,
          terminalId: 'tram-1',
          scannedAt: new Date().toISOString(),
          fareMinor: 300n,
          currency: 'CNY' as CurrencyCode,
        },
        maxScanAgeMs: 86_400_000,
        now: ctx.occurredAt,
      },
      stepContext(ctx, scanId, 'accept'),
    );
    if (credited) {
      // The operator's credit, as TransitCommands.settle records it (same derived ids), then the crash.
      await ledger.service.commands.accountHandler.handle(
        accountStreamId(busAccount),
        {
          type: 'CreditAccount',
          accountId: busAccount,
          amount: { amountMinor: 300n, currency: 'CNY' as CurrencyCode },
          kind: 'transit_fare',
          operationId: scanId,
          merchantOrderNo: null,
          counterparty: { accountId: wallet.accountId, ownerId: wallet.ownerId, name: null, channel: null },
          memo: 'transit fare, terminal tram-1',
        },
        stepContext(context(), scanId, 'credit-operator'),
      );
    }
    await ledger.service.projections.waitForPosition('transit', accepted.position, 5000);
    await ledger.service.projections.waitForPosition('balances', accepted.position, 5000);
    return { wallet, scanId };
  }

  it.each([false, true])('books and charges a scan left accepted (operator credited: %s), once', async (credited) => {
    const { wallet, scanId } = await halfDone(credited);
    const sweep = ledger.service.transitDebtSweep;
    // The sweep pages through every debtor: a few passes reach this one whatever came before.
    for (let pass = 0; pass < 3; pass++) await sweep.sweep(new Date().toISOString());
    const operatorCredits = (await fareEvents(busAccount, 'transit_fare')).filter(
      (e) => (e.data as { operationId: string }).operationId === scanId,
    );
    const payerCharges = await fareEvents(wallet.accountId, 'transit_charge');
    expect(operatorCredits).toHaveLength(1);
    expect(payerCharges).toHaveLength(1);
    const { state } = await ledger.service.transit.load(wallet.ownerId);
    expect(state.scans.get(scanId)?.stage).toBe('charged');
    expect(state.outstandingMinor).toBe(0n);
    expect(await ledger.service.transit.chargeDebt(wallet.ownerId, context())).toBe(0);
  });
});
