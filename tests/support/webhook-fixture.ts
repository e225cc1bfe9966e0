import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createCaller, recharge, type Credentials, type TestLedger } from './test-ledger.js';

/** Environment for a ledger whose webhooks reach a loopback receiver on a short schedule. */
export const WEBHOOK_TEST_ENV: Record<string, string> = {
  WEBHOOK_ALLOW_PRIVATE: '1',
  WEBHOOK_ALLOW_HTTP: '1',
  WEBHOOK_POLL_INTERVAL_MS: '20',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_RETRY_INITIAL_DELAY_MS: '100',
  WEBHOOK_RETRY_FACTOR: '2',
  WEBHOOK_RETRY_MAX_DELAY_MS: '2000',
  WEBHOOK_MAX_ATTEMPTS: '4',
};

/**
 * For the kill -9 test: its first process answers nothing until it is killed, after 20 payments, which
 * takes longer than four 1 s timeouts on a loaded machine. A message that ran out of attempts then would
 * be `failed` before the restart is ever tested, so this test's messages get attempts to spare.
 */
export const RESTART_TEST_ENV: Record<string, string> = { ...WEBHOOK_TEST_ENV, WEBHOOK_MAX_ATTEMPTS: '20' };

export const PAYER_PASSWORD = '739184';

/** A merchant with a settlement account, and a funded payer wallet it can charge. */
export interface PayingMerchant {
  readonly merchant: Credentials;
  pay(orderNo: string, amount: string): Promise<{ paymentId: string; position: string }>;
}

export async function payingMerchant(ledger: TestLedger, name = 'Shop'): Promise<PayingMerchant> {
  const post = (url: string, payload: object, as?: Credentials) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const merchant = await createCaller(ledger.service, 'merchant', name);
  const payer = (await post('/v1/entities', { kind: 'user', displayName: 'Payer' })).json<{ entityId: string }>();
  expect(
    (await post(`/v1/entities/${payer.entityId}/payment-password`, { newPassword: PAYER_PASSWORD })).statusCode,
  ).toBe(200);
  const wallet = (await post('/v1/accounts', { ownerId: payer.entityId, type: 'wallet', currency: 'CNY' })).json()
    .accountId as string;
  const shopAccount = (
    await post('/v1/accounts', { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'CNY' })
  ).json().accountId as string;
  // Within the channels' per-transaction limit; enough for every test's payments.
  for (let i = 0; i < 2; i += 1) {
    const funded = await recharge(ledger.app, wallet, '500.00');
    expect(funded.statusCode, funded.body).toBe(201);
  }
  return {
    merchant,
    async pay(orderNo, amount) {
      const paid = await post(
        '/v1/payments',
        {
          payerAccountId: wallet,
          payeeAccountId: shopAccount,
          amount,
          currency: 'CNY',
          merchantOrderNo: orderNo,
          description: 'webhook test order',
          payerPassword: PAYER_PASSWORD,
        },
        merchant,
      );
      expect(paid.statusCode, paid.body).toBe(201);
      return paid.json<{ paymentId: string; position: string }>();
    },
  };
}

/** Registers an endpoint for `merchant`; its view with the secret. */
export async function registerEndpoint(
  ledger: TestLedger,
  merchant: Credentials,
  body: { url: string; eventTypes?: string[]; description?: string },
) {
  const response = await ledger.inject(
    { method: 'POST', url: '/v1/webhook-endpoints', payload: body, headers: { 'idempotency-key': randomUUID() } },
    merchant,
  );
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ endpointId: string; secret: string; position: string; secretVersion: number }>();
}
