import { join } from 'node:path';
import { startLedgerService } from '../src/adapters/ledger-service.js';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import { EVENTS_FILE } from '../src/adapters/storage.js';
import { accountStreamId } from '../src/commands/accounts/open-account-handler.js';
import { deriveId } from '../src/commands/command-context.js';
import { stepContext } from '../src/commands/operations/operation-steps.js';
import { toNewEvent } from '../src/commands/stream-command-handler.js';
import { loadConfig } from '../src/config.js';
import { accountDecider } from '../src/domain/accounts/account-decider.js';
import type { AccountState } from '../src/domain/accounts/account-state.js';
import { decodeEvent } from '../src/domain/event-catalogue.js';
import { MAX_EVENTS_PER_APPEND, type NewEvent } from '../src/ports/event-store.js';
import {
  extraFigure,
  log,
  mergeHttpLoadResults,
  nowMs,
  percentile,
  runHttpLoad,
  targetFigure,
  timed,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
  type HttpLoadResult,
} from './harness.js';
import { BENCH_CURRENCY, benchAmountMinor, benchContext } from './ledger-fixtures.js';
import {
  freshKeyPrefix,
  openFundedWallets,
  openMerchantAccount,
  registerMerchants,
  startListeningLedger,
  waitForProjections,
  type BenchMerchant,
  type RunningLedger,
  BENCH_CHANNELS,
} from './payment-ledger.js';
import { paymentRequests, type PaymentRequestArgs } from './payment-requests.js';

/**
 * A payment's latency must not grow with the payee account's history: p99 of POST /v1/payments into a
 * merchant account with 100,000 prior events (quick: 10,000), beside p99 of the same payments into a fresh
 * merchant account of the same merchant, measured in alternating rounds in the same run. Target: the long
 * account's p99 within 1.5x the fresh one's (the figure's targetRule is 'ratio <= target').
 *
 * How: the service records a merchant, its accounts and funded wallets; then, with the service stopped,
 * the prior events (FundsCredited, decided by the real account decider and encoded by toNewEvent) are
 * appended straight to the event store; then a NEW service starts on that data, so the long stream is read
 * cold, once, when a payment first touches it. That first payment is its own figure
 * (payment-first-on-long-stream-ms, beside the first payment into an untouched fresh account), and is not
 * among the p99 samples, which are taken after it, with 4 connections (lightly concurrent).
 */
export const name = 'payment-p99-long-stream';

const PRIOR_EVENTS = { full: 100_000, quick: 10_000 } as const;
const PAYERS = 1_000;
/** 10,000.00 per wallet: payments of at most 9.99 never exhaust it. */
const WALLET_FUNDS_MINOR = 1_000_000n;
const CONNECTIONS = 4;
const TARGET_MAX_RATIO = 1.5;
const SIZES = {
  full: { warmupSeconds: 2, durationSeconds: 16, rounds: 4 },
  quick: { warmupSeconds: 1, durationSeconds: 4, rounds: 2 },
} as const;
/** Appends in flight while the prior events are written (each of MAX_EVENTS_PER_APPEND events). */
const PRIOR_APPENDS_IN_FLIGHT = 20;
const CREATED = 201;

export interface Setup {
  readonly merchant: BenchMerchant;
  /** Gets the prior events. */
  readonly longAccountId: string;
  /** Takes the baseline's payments. */
  readonly freshAccountId: string;
  /** Untouched until its first payment, the baseline of the first payment on the long account. */
  readonly coldFreshAccountId: string;
  readonly payers: readonly string[];
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const priorEvents = options.quick ? PRIOR_EVENTS.quick : PRIOR_EVENTS.full;
  const { warmupSeconds, durationSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  const roundSeconds = durationSeconds / rounds;
  return withTempDir(name, async (dir) => {
    const setup = await prepareLongStream(name, dir, PAYERS, priorEvents);

    let ledger: RunningLedger | undefined;
    const runs: HttpLoadResult[] = [];
    const measured = { long: [] as HttpLoadResult[], fresh: [] as HttpLoadResult[] };
    let first: { longMs: number; coldFreshMs: number };
    try {
      // A new service: nothing of the long stream is in memory. Its live projections catch up with the
      // prior events (while it starts, and after) before anything is measured.
      const { seconds: startSeconds } = await timed(async () => {
        ledger = await startListeningLedger(dir);
        await waitForProjections(ledger.service);
      });
      if (ledger === undefined) throw new Error('the service did not start');
      log(
        name,
        `new service started and its projections caught up with the log in ${startSeconds.toFixed(1)} s (not measured)`,
      );
      const baseUrl = ledger.baseUrl;
      const loadOn = async (accountId: string, seconds: number) => {
        const result = await load(baseUrl, setup, accountId, seconds);
        runs.push(result);
        return result;
      };

      log(name, `warming up on the fresh account, ${warmupSeconds} s`);
      reportRun('warm-up fresh', await loadOn(setup.freshAccountId, warmupSeconds));
      // One untimed single request first, so the client's own first-request costs fall on neither figure.
      await singlePayment(baseUrl, setup, setup.freshAccountId);
      const coldFreshMs = await singlePayment(baseUrl, setup, setup.coldFreshAccountId);
      const longMs = await singlePayment(baseUrl, setup, setup.longAccountId);
      first = { longMs, coldFreshMs };
      log(
        name,
        `first payment on the long account (${priorEvents} prior events, read cold): ${longMs.toFixed(1)} ms; on an untouched fresh account: ${coldFreshMs.toFixed(1)} ms`,
      );

      log(
        name,
        `${rounds} rounds of ${roundSeconds} s each: long account, then fresh account; ${CONNECTIONS} connections`,
      );
      for (let round = 0; round < rounds; round += 1) {
        measured.long.push(await loadOn(setup.longAccountId, roundSeconds));
        measured.fresh.push(await loadOn(setup.freshAccountId, roundSeconds));
      }
    } finally {
      await ledger?.close();
    }
    const long = mergeHttpLoadResults(measured.long);
    const fresh = mergeHttpLoadResults(measured.fresh);
    reportRun('long account', long);
    reportRun('fresh account', fresh);
    const all = mergeHttpLoadResults(runs);
    const not201 = all.responses - (all.statusCounts[String(CREATED)] ?? 0);
    const latency = (result: HttpLoadResult, p: number) => percentile(result.latencySamplesMs, p);
    const sizeNote = options.quick
      ? `${priorEvents.toLocaleString('en-US')} prior events (quick mode; the full run uses ${PRIOR_EVENTS.full.toLocaleString('en-US')})`
      : `${priorEvents.toLocaleString('en-US')} prior events`;
    return [
      targetFigure({
        name,
        value: latency(long, 99),
        unit: 'ms',
        baseline: `p99 of the same payments into a fresh merchant account of the same merchant (ms); long account: ${sizeNote}; ${CONNECTIONS} connections, alternating rounds; met when long/fresh <= ${TARGET_MAX_RATIO}`,
        baselineValue: latency(fresh, 99),
        target: TARGET_MAX_RATIO,
        targetIsMaximum: true,
      }),
      extraFigure({
        name: 'payment-p50-long-stream',
        value: latency(long, 50),
        unit: 'ms',
        baseline: 'fresh account p50 (ms)',
        baselineValue: latency(fresh, 50),
      }),
      extraFigure({
        name: 'payment-long-stream-payments',
        value: long.responses,
        unit: 'payments sampled',
        baseline: 'fresh account payments sampled',
        baselineValue: fresh.responses,
      }),
      extraFigure({
        name: 'payment-first-on-long-stream-ms',
        value: first.longMs,
        unit: 'ms',
        baseline:
          'first payment into an untouched fresh account of the same service, measured the same way: one request, after warm-up (ms)',
        baselineValue: first.coldFreshMs,
      }),
      extraFigure({ name: 'payment-long-stream-prior-events', value: priorEvents, unit: 'events' }),
      // A healthy run has 0 in the next two (every run, warm-up and single requests included).
      extraFigure({ name: `${name}-non-201-responses`, value: not201, unit: 'responses' }),
      extraFigure({ name: `${name}-connection-errors`, value: all.errors, unit: 'errors' }),
    ];
  });
}

/**
 * The data of a long-stream benchmark in `dir`: setUp's merchant, accounts and `payers` wallets, then,
 * with the service stopped, `priorEvents` FundsCredited on the long account (appendPriorCredits).
 */
export async function prepareLongStream(
  benchmark: string,
  dir: string,
  payers: number,
  priorEvents: number,
): Promise<Setup> {
  log(benchmark, `setting up a merchant, its accounts and ${payers} funded wallets`);
  const setup = await setUp(dir, payers);
  log(
    benchmark,
    `appending ${priorEvents.toLocaleString('en-US')} prior FundsCredited events to the long account, service stopped`,
  );
  const { seconds: appendSeconds } = await timed(() => appendPriorCredits(join(dir, EVENTS_FILE), setup, priorEvents));
  log(benchmark, `appended in ${appendSeconds.toFixed(1)} s`);
  return setup;
}

/** With a first service: a merchant with three settlement accounts, and `payers` funded wallets. */
async function setUp(dir: string, payers: number): Promise<Setup> {
  const service = await startLedgerService(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), {
    channels: BENCH_CHANNELS,
  });
  try {
    const [merchant] = await registerMerchants(service, 1);
    return {
      merchant: merchant!,
      longAccountId: await openMerchantAccount(service, merchant!, 'long'),
      freshAccountId: await openMerchantAccount(service, merchant!, 'fresh'),
      coldFreshAccountId: await openMerchantAccount(service, merchant!, 'cold'),
      payers: await openFundedWallets(service, payers, WALLET_FUNDS_MINOR),
    };
  } finally {
    await service.close();
  }
}

/**
 * `count` FundsCredited events on the long account, as payments from the wallets would record them:
 * decided by the account decider against the evolving state, encoded by toNewEvent with derived ids,
 * appended through SqliteEventStore (hash chain and all) in appends of MAX_EVENTS_PER_APPEND events.
 */
async function appendPriorCredits(eventsFile: string, setup: Setup, count: number): Promise<void> {
  const store = new SqliteEventStore(eventsFile);
  try {
    const streamId = accountStreamId(setup.longAccountId);
    let state: AccountState = accountDecider.initialState();
    let revision = -1n;
    for await (const recorded of store.readStream(streamId)) {
      state = accountDecider.evolve(
        state,
        decodeEvent(recorded.type, recorded.data) as Parameters<typeof accountDecider.evolve>[1],
      );
      revision = recorded.revision;
    }
    let written = 0;
    while (written < count) {
      const appends: Promise<unknown>[] = [];
      for (let a = 0; a < PRIOR_APPENDS_IN_FLIGHT && written < count; a += 1) {
        const events: NewEvent[] = [];
        while (events.length < MAX_EVENTS_PER_APPEND && written < count) {
          const sequence = written;
          const payerIndex = sequence % setup.payers.length;
          const merchantOrderNo = `prior-${sequence}`;
          const paymentId = deriveId(`${setup.merchant.entityId}\u0000${merchantOrderNo}`, 'payment');
          const [credited] = accountDecider.decide(
            {
              type: 'CreditAccount',
              accountId: setup.longAccountId,
              amount: { amountMinor: benchAmountMinor(sequence), currency: BENCH_CURRENCY },
              kind: 'payment',
              operationId: paymentId,
              merchantOrderNo,
              counterparty: {
                accountId: setup.payers[payerIndex]!,
                ownerId: `u-bench-${payerIndex}`,
                name: `Bench payer ${payerIndex}`,
                channel: null,
              },
              memo: 'bench order',
            },
            state,
          );
          state = accountDecider.evolve(state, credited!);
          events.push(
            toNewEvent(
              credited!,
              0,
              streamId,
              stepContext(benchContext(`prior-${sequence}`), paymentId, 'credit-payee'),
            ),
          );
          written += 1;
        }
        appends.push(store.appendToStream(streamId, events, revision));
        revision += BigInt(events.length);
      }
      await Promise.all(appends);
    }
  } finally {
    await store.close();
  }
}

/** Payment load at `baseUrl` into `payeeAccountId`, with keys and order numbers no earlier run used. */
function load(baseUrl: string, setup: Setup, payeeAccountId: string, durationSeconds: number): Promise<HttpLoadResult> {
  return runHttpLoad({
    baseUrl,
    connections: CONNECTIONS,
    durationSeconds,
    requests: {
      moduleUrl: new URL('./payment-requests.js', import.meta.url).href,
      exportName: 'paymentRequests',
      args: requestArgs(setup, payeeAccountId),
    },
  });
}

function requestArgs(setup: Setup, payeeAccountId: string): PaymentRequestArgs {
  return {
    merchants: [{ signer: setup.merchant.signer, accountId: payeeAccountId }],
    payerAccountIds: setup.payers,
    keyPrefix: freshKeyPrefix(),
    signEachRequest: true,
  };
}

/** One signed payment into `payeeAccountId`, sent alone over HTTP; its latency in ms. */
export async function singlePayment(baseUrl: string, setup: Setup, payeeAccountId: string): Promise<number> {
  const spec = paymentRequests(requestArgs(setup, payeeAccountId))(0);
  const sent = nowMs();
  const response = await fetch(`${baseUrl}${spec.path}`, {
    method: spec.method,
    headers: spec.headers,
    body: spec.body ?? null,
  });
  const text = await response.text();
  const ms = nowMs() - sent;
  if (response.status !== CREATED)
    throw new Error(`a single payment into ${payeeAccountId} answered ${response.status}: ${text}`);
  return ms;
}

function reportRun(label: string, result: HttpLoadResult): void {
  const p = (q: number) => percentile(result.latencySamplesMs, q).toFixed(1);
  const not201 = result.responses - (result.statusCounts[String(CREATED)] ?? 0);
  log(
    name,
    `${label}: ${result.responses} responses in ${result.durationSeconds.toFixed(2)} s, p50 ${p(50)} ms, p99 ${p(99)} ms, max ${p(100)} ms`,
  );
  if (not201 > 0 || result.errors > 0) {
    log(
      name,
      `WARNING: ${label} had ${not201} responses other than 201 and ${result.errors} connection errors (${result.timeouts} timeouts)`,
    );
  }
}
