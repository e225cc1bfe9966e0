import { createPrivateKey, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { extraFigure, log, minimumFigure, nowMs, withTempDir, type BenchmarkOptions, type Figure } from './harness.js';
import { openAccountEvent, rechargeEvent } from './ledger-fixtures.js';
import { openFundedWallets, registerMerchants, startListeningLedger } from './payment-ledger.js';
import { openRawAppender } from './raw-appends.js';
import { signedRequest } from './recharge-requests.js';
import { MAX_TRANSFER_BATCH_ITEMS } from '../src/domain/transfers/transfer-batch-decider.js';

/**
 * Batch transfers over HTTP: signed POST /v1/transfer-batches of 1,000 wallet-to-wallet transfers each
 * (quick: 200), `independent`, a few in flight, every one durable (answered after its one commit: the
 * batch record, 4,000 transfer and account events and the idempotency answer). Target: at least 20,000
 * transfers/s (value >= target). The service runs as deployed, live projections included.
 *
 * Baseline, same run, same disk: raw better-sqlite3 transactions of 1,000 rows each (WAL +
 * synchronous=FULL, bench/raw-appends.ts), in rows/s. A transfer is four events, so the ratio reported
 * is transfers/s against rows/s: 0.25 would be the raw store's rate of whole transfers.
 */
export const name = 'batch-transfers';

const SIZES = {
  full: { items: MAX_TRANSFER_BATCH_ITEMS, batches: 40, inFlight: 2, wallets: 400, rawSeconds: 5 },
  quick: { items: 200, batches: 10, inFlight: 2, wallets: 100, rawSeconds: 1 },
} as const;
const TARGET_TRANSFERS_PER_SECOND = 20_000;
const RAW_ROWS_PER_TRANSACTION = 1_000;
const RAW_STREAMS = 64;

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const size = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir(name, async (dir) => {
    const templates = await Promise.all(
      Array.from({ length: RAW_STREAMS }, async (_, i) => {
        const account = openAccountEvent(i);
        return { streamId: account.streamId, template: await rechargeEvent(account, i) };
      }),
    );
    const raw = openRawAppender(join(dir, 'raw.sqlite'), templates, RAW_ROWS_PER_TRANSACTION);
    let rawRowsPerSecond: number;
    try {
      const inserted = raw.insertFor(size.rawSeconds);
      rawRowsPerSecond = inserted.count / inserted.seconds;
    } finally {
      raw.close();
    }
    log(name, `raw ${RAW_ROWS_PER_TRANSACTION}-row transactions: ${Math.round(rawRowsPerSecond)} rows/s`);

    const ledger = await startListeningLedger(join(dir, 'ledger'));
    try {
      const [cashier] = await registerMerchants(ledger.service, 1);
      const wallets = await openFundedWallets(ledger.service, size.wallets, 10_000_000n);
      const key = createPrivateKey(cashier!.signer.privateKeyPem);
      let sequence = 0;
      const post = async (): Promise<number> => {
        const items = Array.from({ length: size.items }, () => {
          sequence += 1;
          return {
            fromAccountId: wallets[sequence % wallets.length]!,
            toAccountId: wallets[(sequence * 7 + 1) % wallets.length]!,
            amount: `0.${String(1 + (sequence % 98)).padStart(2, '0')}`,
            currency: 'CNY',
            memo: 'bench',
          };
        });
        // A wallet never sends to itself: (7s + 1) mod n differs from s mod n for the sizes above.
        const body = JSON.stringify({ mode: 'independent', items });
        const { spec } = signedRequest({
          method: 'POST',
          path: '/v1/transfer-batches',
          body,
          keyId: cashier!.signer.keyId,
          key,
          idempotencyKey: randomUUID(),
        });
        const response = await fetch(`${ledger.baseUrl}${spec.path}`, {
          method: 'POST',
          headers: spec.headers,
          body: spec.body,
        });
        const answer = (await response.json()) as {
          appliedCount?: number;
          items?: Array<{ failure: { code: string; reason: string } | null }>;
        };
        const refused = answer.items?.find((item) => item.failure !== null);
        if (refused) log(name, `an item was refused: ${JSON.stringify(refused)}`);
        if (response.status !== 201) throw new Error(`a batch answered ${response.status}: ${JSON.stringify(answer)}`);
        return answer.appliedCount ?? 0;
      };
      await post(); // warm-up: first-request costs stay out of the figure
      const started = nowMs();
      let applied = 0;
      let sent = 0;
      await Promise.all(
        Array.from({ length: size.inFlight }, async () => {
          while (sent < size.batches) {
            sent += 1;
            const moved = await post();
            applied += moved;
          }
        }),
      );
      const seconds = (nowMs() - started) / 1000;
      const transfersPerSecond = applied / seconds;
      log(name, `${applied} transfers in ${size.batches} batches of ${size.items} in ${seconds.toFixed(2)} s`);
      if (applied !== size.batches * size.items) throw new Error(`only ${applied} transfers were applied`);
      return [
        minimumFigure({
          name,
          value: transfersPerSecond,
          unit: 'transfers/s',
          minimum: TARGET_TRANSFERS_PER_SECOND,
          baseline: `raw better-sqlite3 transactions of ${RAW_ROWS_PER_TRANSACTION} rows (WAL, synchronous=FULL), rows/s; a transfer is 4 events; batches of ${size.items}${options.quick ? ' (quick mode; the full run sends 1,000)' : ''}`,
          baselineValue: rawRowsPerSecond,
        }),
        extraFigure({ name: `${name}-batch-ms`, value: (seconds * 1000) / size.batches, unit: 'ms per batch' }),
      ];
    } finally {
      await ledger.close();
    }
  });
}
