import { readFileSync } from 'node:fs';
import { LedgerClient, ProblemError } from 'ledger-core/client';

// The same settings as scripts/signed-curl.sh.
const keyId = process.env['LEDGER_KEY_ID'] ?? 'op-3a272dbb-a2a3-5d24-bc58-0e47901d0e87/1';
const keyFile = process.env['LEDGER_KEY_FILE'] ?? `./data/keys/${keyId.split('/')[0]}.pem`;
const ledger = new LedgerClient({
  baseUrl: process.env['LEDGER_URL'] ?? 'http://127.0.0.1:3000',
  keyId,
  privateKeyPem: readFileSync(keyFile, 'utf8'),
});

// A wallet belongs to a registered user.
const user = await ledger.registerEntity({ kind: 'user', displayName: 'Zhāng Wěi' });
const wallet = await ledger.openAccount({ ownerId: user.entityId, type: 'wallet', currency: 'CNY' });
// Paid in a wallet app (platform pay): `requested` until the platform has the money, then completed.
const payer = { method: 'platform_pay', platform: 'wechat', returnUrl: null } as const;
let topUp = await ledger.recharge({ accountId: wallet.accountId, amount: '100.00', currency: 'CNY', payer });
while (topUp.status === 'requested') {
  await new Promise((resolve) => setTimeout(resolve, 100));
  topUp = await ledger.getRecharge(topUp.rechargeId);
}
const account = await ledger.getAccount(wallet.accountId, { minPosition: topUp.position });
console.log(account.accountId, account.balance);

try {
  await ledger.recharge({ accountId: wallet.accountId, amount: '0.001', currency: 'CNY', payer });
} catch (error) {
  if (!(error instanceof ProblemError)) throw error;
  console.log(error.status, error.code, error.problem.detail); // 400 invalid_amount ...
}
