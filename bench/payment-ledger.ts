import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { bootstrapEntity } from '../src/adapters/entity-bootstrap.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import {
  projectionsFor,
  startLedgerService,
  type LedgerService,
  type LedgerServiceOptions,
} from '../src/adapters/ledger-service.js';
import { loadConfig } from '../src/config.js';
import { listenLocal, mapConcurrent } from './harness.js';
import { BENCH_CURRENCY, benchContext } from './ledger-fixtures.js';
import type { RequestSigner } from './recharge-requests.js';
import { DEFAULT_ACCOUNTING_TIME_ZONE } from '../src/projections/accounting-zone.js';
import type { ChannelSetupOptions } from '../src/adapters/channels/channel-setup.js';
import { simulatorConfigForLoad } from '../src/adapters/channels/simulator/default-simulator-config.js';
import type { PayerInstrument } from '../src/domain/channels/payer-instrument.js';
import { bindTestCard } from '../src/adapters/channels/simulator/test-card-binding.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor(DEFAULT_ACCOUNTING_TIME_ZONE);

/**
 * Setting up the payment benchmarks through the real service: merchants registered with signing keys
 * (as the CLI and the tests' createCaller do), their settlement accounts and funded wallets opened through
 * the command layer (service.commands, as the HTTP routes would, minus HTTP: setup time is not measured).
 */

/** Commands in flight while setting up: enough to share group commits, few enough not to queue long. */
const SETUP_IN_FLIGHT = 256;

export interface BenchMerchant {
  readonly entityId: string;
  readonly signer: RequestSigner;
}

export interface RunningLedger {
  readonly service: LedgerService;
  readonly app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * The channels of a benchmark's service: the in-process simulator with no latency, and balances and limits
 * no run reaches, so a figure measures the ledger's side of a channel call (signing, the simulator's
 * handling through inject, verification), not a bank's latency.
 */
export const BENCH_CHANNELS: ChannelSetupOptions = {
  simulatorConfig: simulatorConfigForLoad('ledger', { raiseLimits: true }),
};

const payers = new WeakMap<LedgerService, Promise<PayerInstrument>>();

/** Quick pay with a test card bound at the service's channels (once per service): what bench recharges pay with. */
export function benchPayer(service: LedgerService): Promise<PayerInstrument> {
  let payer = payers.get(service);
  if (!payer) {
    payer = bindTestCard(service.channels).then((card) => ({ method: 'quick_pay' as const, card }));
    payers.set(service, payer);
  }
  return payer;
}

/** The real service on the embedded engines in `dir` (new or existing), listening on 127.0.0.1. */
export async function startListeningLedger(dir: string, options: LedgerServiceOptions = {}): Promise<RunningLedger> {
  const service = await startLedgerService(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), {
    channels: BENCH_CHANNELS,
    ...options,
  });
  let app: FastifyInstance | undefined;
  const close = async () => {
    await app?.close();
    await service.close();
  };
  try {
    app = await buildHttpServer(service, { logger: false });
    return { service, app, baseUrl: await listenLocal(app), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `count` merchants registered through service.entities. Their payments are posted by the platform's
 * cashier (an operator): a merchant taking money from a user's wallet must send the user's payment
 * password, whose scrypt check (deliberately slow) would be what this benchmark measured. The cashier
 * collected consent itself, so the ledger's own work is what is measured.
 */
export async function registerMerchants(service: LedgerService, count: number): Promise<BenchMerchant[]> {
  const cashier = await bootstrapEntity(service.entities, service.clock, {
    kind: 'operator',
    displayName: 'Bench cashier',
    actor: 'bench',
  });
  const signer = { keyId: cashier.keyId, privateKeyPem: cashier.privateKeyPem };
  const indexes = Array.from({ length: count }, (_, index) => index);
  return mapConcurrent(indexes, 16, async (index) => {
    const created = await bootstrapEntity(service.entities, service.clock, {
      kind: 'merchant',
      displayName: `Bench shop ${index}`,
      actor: 'bench',
    });
    return { entityId: created.entityId, signer };
  });
}

/** A merchant settlement account owned by `merchant`; its account id. */
export async function openMerchantAccount(
  service: LedgerService,
  merchant: BenchMerchant,
  label: string,
): Promise<string> {
  const opened = await service.commands.openAccount(
    {
      ownerId: merchant.entityId,
      accountType: 'merchant_settlement',
      currency: BENCH_CURRENCY,
      displayName: `Bench shop account ${label}`,
    },
    benchContext(`open-merchant-${randomUUID()}`),
  );
  return opened.accountId;
}

/** `count` wallets, each recharged once with `fundsMinor` through the simulated channels; their account ids. */
export async function openFundedWallets(service: LedgerService, count: number, fundsMinor: bigint): Promise<string[]> {
  const run = randomUUID();
  const indexes = Array.from({ length: count }, (_, index) => index);
  return mapConcurrent(indexes, SETUP_IN_FLIGHT, async (index) => {
    const opened = await service.commands.openAccount(
      {
        ownerId: `u-bench-${index}`,
        accountType: 'wallet',
        currency: BENCH_CURRENCY,
        displayName: `Bench payer ${index}`,
      },
      benchContext(`open-wallet-${run}-${index}`),
    );
    await service.commands.recharge(
      {
        accountId: opened.accountId,
        amount: { amountMinor: fundsMinor, currency: BENCH_CURRENCY },
        payer: await benchPayer(service),
      },
      benchContext(`fund-wallet-${run}-${index}`),
    );
    return opened.accountId;
  });
}

/** The prefix of one load run's Idempotency-Keys and order numbers (see PaymentRequestArgs.keyPrefix). */
export function freshKeyPrefix(): string {
  return `b${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** How long the live projections may take to catch up with a setup before the benchmark gives up. */
const PROJECTION_CATCH_UP_TIMEOUT_MS = 300_000;

/** Resolves once every live projection has applied everything in the log now (setup must not overlap a measurement). */
export async function waitForProjections(service: LedgerService): Promise<void> {
  const head = await service.eventStore.headPosition();
  if (head === 'start') return;
  for (const projection of PROJECTIONS)
    await service.projections.waitForPosition(projection.name, head, PROJECTION_CATCH_UP_TIMEOUT_MS);
}
