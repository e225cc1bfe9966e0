import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import { loadConfig } from '../src/config.js';
import { parseAmount } from '../src/domain/money/money.js';
import {
  extraFigure,
  log,
  mapConcurrent,
  nowMs,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import { BENCH_CURRENCY, benchContext } from './ledger-fixtures.js';
import { BENCH_CHANNELS, openFundedWallets, openMerchantAccount, registerMerchants } from './payment-ledger.js';

/**
 * Webhook deliveries/s to a local receiver (node:http on 127.0.0.1 answering 204 at once). Payments are
 * made first with webhooks off; then a service starts with them on and delivers everything the log owes
 * (the outbox subscription making the messages, the dispatcher claiming, signing, POSTing, settling each),
 * timed from its start to the last message delivered.
 *
 * Baseline, same run, same receiver: raw signed POSTs (standardwebhooks' sign, node:http, a new connection
 * each, as the dispatcher does), with the dispatcher's in-flight bound, from one loop: what sending alone
 * costs, without the outbox's durable bookkeeping (claim and settle, each a synchronous=FULL commit).
 */
export const name = 'webhook-deliveries';

const SIZES = {
  full: { payments: 3_000, endpoints: 2 },
  quick: { payments: 400, endpoints: 2 },
} as const;
/** The dispatcher's in-flight bound in this benchmark, and the baseline's. */
const IN_FLIGHT = 64;
const TARGET_RATIO = 0.1;
const DELIVERY_TIMEOUT_MS = 300_000;

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE: '1',
  WEBHOOK_ALLOW_HTTP: '1',
  WEBHOOK_MAX_IN_FLIGHT: String(IN_FLIGHT),
  WEBHOOK_ENDPOINT_CONCURRENCY: String(IN_FLIGHT),
  WEBHOOK_POLL_INTERVAL_MS: '10',
  LOG_LEVEL: 'silent',
};

async function startReceiver(): Promise<{ server: Server; url: string; count: () => number }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, count: () => received };
}

function rawSignedPost(url: URL, webhook: Webhook, id: string, body: string): Promise<void> {
  const now = new Date();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1_000)),
          'webhook-signature': webhook.sign(id, now, body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function makePayments(service: LedgerService, payments: number, endpoints: number, url: string): Promise<void> {
  const [merchant] = await registerMerchants(service, 1);
  const payee = await openMerchantAccount(service, merchant!, 'webhooks');
  const wallets = await openFundedWallets(service, 50, 10_000_000n);
  for (let i = 0; i < endpoints; i += 1)
    await service.webhookEndpoints.register(
      merchant!.entityId,
      { url, eventTypes: null, description: `bench ${i}` },
      benchContext(`endpoint-${randomUUID()}`),
    );
  const indexes = Array.from({ length: payments }, (_, i) => i);
  await mapConcurrent(indexes, 32, (i) =>
    service.commands.pay(
      {
        merchantId: merchant!.entityId,
        merchantOrderNo: `wh-${i}`,
        description: '',
        payerAccountId: wallets[i % wallets.length]!,
        payeeAccountId: payee,
        amount: parseAmount('1.00', BENCH_CURRENCY),
        payerIp: null,
        payerPlatform: null,
      },
      benchContext(`pay-${randomUUID()}`),
    ),
  );
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const size = options.quick ? SIZES.quick : SIZES.full;
  // created + succeeded per payment, to every endpoint.
  const messages = size.payments * 2 * size.endpoints;
  return withTempDir(name, async (dir) => {
    const receiver = await startReceiver();
    try {
      const dataDir = join(dir, 'ledger');
      // The bench channels: balances and limits no setup reaches (the default test cards would run dry).
      const setup = await startLedgerService(
        loadConfig({ DATA_DIR: dataDir, ...WEBHOOK_ENV, WEBHOOK_POLL_INTERVAL_MS: '0' }),
        { channels: BENCH_CHANNELS },
      );
      try {
        await makePayments(setup, size.payments, size.endpoints, receiver.url);
      } finally {
        await setup.close();
      }
      log(name, `${size.payments} payments to ${size.endpoints} endpoints: ${messages} messages owed`);

      const started = nowMs();
      const service = await startLedgerService(loadConfig({ DATA_DIR: dataDir, ...WEBHOOK_ENV }), {
        channels: BENCH_CHANNELS,
      });
      log(name, `service started in ${Math.round(nowMs() - started)} ms`);
      try {
        const deadline = started + DELIVERY_TIMEOUT_MS;
        while (receiver.count() < messages) {
          if (nowMs() > deadline) throw new Error(`only ${receiver.count()} of ${messages} delivered in time`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        await service.close();
      }
      const deliveredPerSecond = messages / ((nowMs() - started) / 1_000);
      log(name, `delivered ${messages} in ${Math.round(nowMs() - started)} ms: ${Math.round(deliveredPerSecond)}/s`);

      const before = receiver.count();
      const webhook = new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`);
      const body = JSON.stringify({ type: 'payment.succeeded', timestamp: new Date().toISOString(), data: { n: 1 } });
      const url = new URL(receiver.url);
      const rawStarted = nowMs();
      await mapConcurrent(
        Array.from({ length: messages }, (_, i) => i),
        IN_FLIGHT,
        (i) => rawSignedPost(url, webhook, `msg_${i}`, body),
      );
      const rawPerSecond = messages / ((nowMs() - rawStarted) / 1_000);
      if (receiver.count() - before !== messages) throw new Error('the baseline lost requests');
      log(name, `raw signed POSTs: ${Math.round(rawPerSecond)}/s`);
      return [
        targetFigure({
          name,
          value: deliveredPerSecond,
          unit: 'deliveries/s',
          baseline: `raw signed POSTs, ${IN_FLIGHT} in flight, deliveries/s`,
          baselineValue: rawPerSecond,
          target: TARGET_RATIO,
        }),
        extraFigure({ name: `${name}-messages`, value: messages, unit: 'messages' }),
      ];
    } finally {
      receiver.server.closeAllConnections();
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });
}
