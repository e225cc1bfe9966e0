import { randomUUID } from 'node:crypto';
import { bindCardAtSimulatorProcess } from '../support/test-channels.js';
import { openWallet, signedInject, startTestLedger } from '../support/test-ledger.js';

/**
 * Child process of recharge-crash.test.ts: a ledger over DATA_DIR (argv[2]) charging at the channel
 * simulator process (argv[3], CHANNELS_URL), RECHARGES_IN_FLIGHT recharges at a time by quick pay. Prints
 * "ready", then "ack <rechargeId>" for every recharge answered 201, until the parent kills it (SIGKILL):
 * wherever a recharge is then (requested, charged and not yet credited, credited and not completed).
 */
const RECHARGES_IN_FLIGHT = 6;
const WALLETS = 3;
const [dataDir, channelsUrl] = process.argv.slice(2);
if (dataDir === undefined || channelsUrl === undefined) throw new Error('usage: <dataDir> <channelsUrl>');
const ledger = await startTestLedger(dataDir, { CHANNELS_URL: channelsUrl });
const payer = { method: 'quick_pay', card: await bindCardAtSimulatorProcess(channelsUrl) };
const wallets: string[] = [];
for (let i = 0; i < WALLETS; i += 1) wallets.push((await openWallet(ledger.app)).accountId);
console.log('ready');
let seq = 0;
async function rechargeForever(): Promise<never> {
  for (;;) {
    seq += 1;
    const response = await signedInject(ledger.app, {
      method: 'POST',
      url: '/v1/recharges',
      headers: { 'idempotency-key': randomUUID() },
      payload: { accountId: wallets[seq % WALLETS], amount: '1.00', currency: 'CNY', payer },
    });
    if (response.statusCode !== 201) throw new Error(`recharge: ${response.statusCode} ${response.body}`);
    console.log(`ack ${response.json<{ rechargeId: string }>().rechargeId}`);
  }
}
await Promise.all(Array.from({ length: RECHARGES_IN_FLIGHT }, rechargeForever));
