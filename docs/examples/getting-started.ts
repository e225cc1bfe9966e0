import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerClient } from 'ledger-core/client';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (see docs/getting-started.md)`);
  return value;
}

const baseUrl = process.env['LEDGER_URL'] ?? 'http://127.0.0.1:3000';
// A key id is "<entityId>/<keyNo>"; the CLI wrote each private key to DATA_DIR/keys/<entityId>.pem.
const keysDir = join(process.env['DATA_DIR'] ?? 'data', 'keys');
function clientFor(keyId: string): LedgerClient {
  const entityId = keyId.split('/')[0]!;
  return new LedgerClient({ baseUrl, keyId, privateKeyPem: readFileSync(join(keysDir, `${entityId}.pem`), 'utf8') });
}
const operator = clientFor(required('OPERATOR_KEY_ID'));
const merchant = clientFor(required('MERCHANT_KEY_ID'));
const merchantId = required('MERCHANT_KEY_ID').split('/')[0]!;

const user = await operator.registerEntity({
  kind: 'user',
  displayName: 'Wáng Fāng 王芳',
  phone: '+8613800138000',
});
console.log('user', user.entityId);

await operator.setPaymentPassword(user.entityId, { newPassword: '583920' });

const wallet = await operator.openAccount({
  ownerId: user.entityId,
  type: 'wallet',
  currency: 'CNY',
  displayName: 'Wáng Fāng',
});
const till = await operator.openAccount({
  ownerId: merchantId,
  type: 'merchant_settlement',
  currency: 'CNY',
  displayName: 'Blue Lantern Tea House',
});
console.log('wallet', wallet.accountId, 'till', till.accountId);

// The payer pays in a wallet app (platform pay): the recharge answers `requested` with the pay page,
// and completes once the platform has the money (the simulated one pays a moment later).
let topUp = await operator.recharge({
  accountId: wallet.accountId,
  amount: '100.00',
  currency: 'CNY',
  payer: { method: 'platform_pay', platform: 'wechat', returnUrl: null },
});
while (topUp.status === 'requested') {
  await new Promise((resolve) => setTimeout(resolve, 100));
  topUp = await operator.getRecharge(topUp.rechargeId); // asks the platform when the answer is pending
}
const topped = await operator.getAccount(wallet.accountId, { minPosition: topUp.position });
console.log('wallet balance', topped.balance);

const orderNo = `TEA-${Date.now()}`;
const payment = await merchant.pay({
  payerAccountId: wallet.accountId,
  payeeAccountId: till.accountId,
  amount: '38.50',
  currency: 'CNY',
  merchantOrderNo: orderNo,
  description: 'Oolong, 250 g',
  payerPassword: '583920',
});
console.log('payment', payment.paymentId, payment.status, payment.amount);

const refunded = await merchant.refundPayment(payment.paymentId, {
  refundNo: `${orderNo}-R1`,
  amount: '38.50',
  currency: 'CNY',
  reason: 'out of stock',
});
console.log('refunded', refunded.refundedAmount, 'of', refunded.amount);

for await (const line of operator.statementLines(wallet.accountId, { minPosition: refunded.position })) {
  console.log(
    'statement',
    line.sequence,
    line.operationKind,
    line.direction,
    line.amount,
    'balance',
    line.balanceAfter,
  );
}

const trial = await operator.trialBalance({
  date: payment.accountingDate,
  currency: 'CNY',
  minPosition: refunded.position,
});
console.log('trial balance', trial.accountingDate, 'debit', trial.totalDebit, 'credit', trial.totalCredit);
console.log('balanced', trial.balanced);
