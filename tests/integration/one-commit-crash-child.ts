import { randomUUID } from 'node:crypto';
import { openWallet, recharge, signedInject, startTestLedger } from '../support/test-ledger.js';

/**
 * Child process of one-commit-crash.test.ts: a ledger over DATA_DIR (argv[2]) paying from a few wallets
 * into one merchant account, PAYMENTS_IN_FLIGHT at a time, each payment in one commit. Prints "ready",
 * then "ack <paymentId>" for every payment answered 201, until the parent kills it (SIGKILL).
 */
const PAYMENTS_IN_FLIGHT = 8;
const WALLETS = 4;
const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: <dataDir>');
const ledger = await startTestLedger(dataDir);
const setup = async (url: string, payload: object) => {
  const response = await signedInject(ledger.app, { method: 'POST', url, payload });
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return response.json<{ entityId: string; accountId: string }>();
};
const merchant = await setup('/v1/entities', { kind: 'merchant', displayName: 'Shop' });
const shop = await setup('/v1/accounts', { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'CNY' });
const wallets: string[] = [];
for (let i = 0; i < WALLETS; i += 1) {
  const { accountId } = await openWallet(ledger.app);
  const funded = await recharge(ledger.app, accountId, '1000.00');
  if (funded.statusCode !== 201) throw new Error(`recharge: ${funded.statusCode} ${funded.body}`);
  wallets.push(accountId);
}
console.log('ready');
let seq = 0;
async function payForever(): Promise<never> {
  for (;;) {
    seq += 1;
    const response = await signedInject(ledger.app, {
      method: 'POST',
      url: '/v1/payments',
      headers: { 'idempotency-key': randomUUID() },
      payload: {
        payerAccountId: wallets[seq % WALLETS],
        payeeAccountId: shop.accountId,
        amount: '0.10',
        currency: 'CNY',
        merchantOrderNo: `crash-${seq}`,
      },
    });
    if (response.statusCode !== 201) throw new Error(`payment: ${response.statusCode} ${response.body}`);
    console.log(`ack ${response.json<{ paymentId: string }>().paymentId}`);
  }
}
await Promise.all(Array.from({ length: PAYMENTS_IN_FLIGHT }, payForever));
