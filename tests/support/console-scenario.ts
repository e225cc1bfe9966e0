import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createCaller, payerOf, startTestLedger, type Credentials, type TestLedger } from './test-ledger.js';

/**
 * A small ledger for the console's tests: a user with a hostile display name and a wallet (hostile name
 * too), recharged, and a merchant paid from it with a hostile description. The hostile strings would run
 * script if any page inserted them unescaped.
 */
export const HOSTILE = `<script>alert(1)</script><img src=x onerror="alert(2)">"'&`;
export const PAYER_PASSWORD = '739184';

export interface ConsoleScenario {
  readonly ledger: TestLedger;
  readonly shop: Credentials;
  readonly userId: string;
  readonly wallet: string;
  readonly shopAccount: string;
  readonly paymentId: string;
  readonly merchantOrderNo: string;
  readonly position: string;
  readonly accountingDate: string;
}

export async function startConsoleScenario(): Promise<ConsoleScenario> {
  const ledger = await startTestLedger();
  const post = async (url: string, payload: object, as?: Credentials) => {
    const answer = await ledger.inject(
      { method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } },
      as,
    );
    expect(answer.statusCode, `${url}: ${answer.body}`).toBeLessThan(300);
    return answer.json();
  };
  const shop = await createCaller(ledger.service, 'merchant', 'Shop');
  const user = await post('/v1/entities', { kind: 'user', displayName: `Payer ${HOSTILE}` });
  await post(`/v1/entities/${user.entityId}/payment-password`, { newPassword: PAYER_PASSWORD });
  const wallet = (
    await post('/v1/accounts', {
      ownerId: user.entityId,
      type: 'wallet',
      currency: 'CNY',
      displayName: `Wallet ${HOSTILE}`,
    })
  ).accountId as string;
  const shopAccount = (
    await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' })
  ).accountId as string;
  await post('/v1/recharges', {
    accountId: wallet,
    amount: '500.00',
    currency: 'CNY',
    payer: await payerOf(ledger.app),
  });
  const merchantOrderNo = `SO-${randomUUID().slice(0, 8)}`;
  const paid = await post(
    '/v1/payments',
    {
      payerAccountId: wallet,
      payeeAccountId: shopAccount,
      amount: '12.50',
      currency: 'CNY',
      merchantOrderNo,
      description: `Tea ${HOSTILE}`,
      payerPassword: PAYER_PASSWORD,
    },
    shop,
  );
  // Every read model has the payment before a page is asked for (the console reads without minPosition).
  for (const projection of ledger.service.readModelProjections)
    await ledger.service.projections.waitForPosition(projection.name, BigInt(paid.position), 10_000);
  const accountingDate = ledger.service.clock.now().setZone(ledger.service.config.accountingTimeZone).toISODate()!;
  return {
    ledger,
    shop,
    userId: user.entityId,
    wallet,
    shopAccount,
    paymentId: paid.paymentId,
    merchantOrderNo,
    position: paid.position,
    accountingDate,
  };
}

/** Grants a one-time console link as the test operator (or `as`): the path to open. */
export async function grantConsoleLink(
  ledger: TestLedger,
  role: 'operator' | 'auditor' = 'operator',
  as?: Credentials,
): Promise<{ path: string; sessionId: string; token: string }> {
  const answer = await ledger.inject({ method: 'POST', url: '/v1/console/links', payload: { role } }, as);
  expect(answer.statusCode, answer.body).toBe(201);
  const { path, sessionId } = answer.json<{ path: string; sessionId: string }>();
  return { path, sessionId, token: new URL(path, 'http://x').searchParams.get('token')! };
}
