import { randomUUID } from 'node:crypto';
import { startTestLedger } from '../support/test-ledger.js';
import { payingMerchant, registerEndpoint, RESTART_TEST_ENV } from '../support/webhook-fixture.js';

/**
 * Child process of webhooks-restart.test.ts: a ledger over DATA_DIR (argv[2]) whose merchant has an
 * endpoint at the receiver's URL (argv[3]). Prints "endpoint <id> <secret> <merchant key id> <pem as
 * base64>", then "paid <paymentId>" for every payment answered 201, until the parent kills it (SIGKILL).
 */
const [dataDir, url] = process.argv.slice(2);
if (dataDir === undefined || url === undefined) throw new Error('usage: <dataDir> <receiver url>');
const ledger = await startTestLedger(dataDir, RESTART_TEST_ENV);
const shop = await payingMerchant(ledger);
const endpoint = await registerEndpoint(ledger, shop.merchant, { url, eventTypes: ['payment.succeeded'] });
console.log(`endpoint ${endpoint.endpointId} ${endpoint.secret}`);
for (;;) {
  const paid = await shop.pay(`RS-${randomUUID()}`, '1.00');
  console.log(`paid ${paid.paymentId}`);
}
