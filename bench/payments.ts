import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EVENTS_FILE } from '../src/adapters/storage.js';
import {
  RssSampler,
  extraFigure,
  log,
  mergeHttpLoadResults,
  percentile,
  runHttpLoad,
  statusPerSecond,
  targetFigure,
  timed,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
  type HttpLoadResult,
} from './harness.js';
import { startBareRoute } from './http-recharge.js';
import { LIMIT_PATH, checkLimitRoute, limitRouteFigure, startLimitRoute, type LimitRoute } from './limit-route.js';
import {
  freshKeyPrefix,
  openFundedWallets,
  openMerchantAccount,
  registerMerchants,
  startListeningLedger,
  waitForProjections,
  type RunningLedger,
} from './payment-ledger.js';
import { PAYMENT_PATH, type PayeeMerchant, type PaymentRequestArgs } from './payment-requests.js';
import { payBody } from '../src/adapters/http/routes/payments.js';

/**
 * Balance payments end to end: the real service on the embedded engines (HTTP, request signature and
 * nonce check, validation, idempotency record, the payment operation: PaymentInitiated, debit of the
 * payer's wallet, credit of the merchant's account, PaymentCompleted, each group-committed durably; live
 * projections), driven with POST /v1/payments over 64 keep-alive connections. Every request is signed by
 * the platform's cashier (an operator, see registerMerchants) and carries a unique merchantOrderNo and
 * Idempotency-Key.
 *
 * Setup (not measured): 100 merchants registered with API keys, one settlement account each, 10,000
 * wallets (quick: 2,000) funded by recharges, through the command layer.
 *
 *   payments-spread: payments spread over the 10,000 payers and the 100 merchants. Baseline, same run:
 *     the limit route (bench/limit-route.ts: the service's own HTTP server verifying each request's
 *     signature, validating the body with the payment route's schema and making one durable,
 *     group-committed insert), taking the same requests, each signed. Target: at least 50% of it.
 *   payments-spread-vs-bare: the same payments against a bare Fastify route taking the same requests
 *     (same bodies and headers, the signature sent but not checked) and answering 201 with a small JSON.
 *   payments-limit-route: the limit route against the bare route: what a signed durable request costs.
 *   payments-hot: every payment into ONE merchant account (still spread over the payers). Baseline, same
 *     run: payments-spread. Target: at least 80% of it.
 * The four (bare, limit, spread, hot) alternate in rounds, so all see the same drift of a shared machine;
 * the live projections catch up before each baseline round, so the baselines never pay for a backlog.
 */
export const name = 'payments';

const MERCHANTS = 100;
/** Payers: quick mode opens fewer (setup is not measured, but counts against the suite's two minutes). */
const WALLETS = { full: 10_000, quick: 1_000 } as const;
/** 10,000.00 per wallet: payments of at most 9.99 never exhaust it in any run. */
const WALLET_FUNDS_MINOR = 1_000_000n;
const CONNECTIONS = 64;
const SPREAD_TARGET = 0.5;
const HOT_TARGET = 0.8;
const SIZES = {
  full: { warmupSeconds: 2, durationSeconds: 10, rounds: 2 },
  quick: { warmupSeconds: 0.5, durationSeconds: 3, rounds: 1 },
} as const;
const CREATED = 201;

type Side = 'bare' | 'limit' | 'spread' | 'hot';

interface Target {
  readonly baseUrl: string;
  /** The route posted to: PAYMENT_PATH, or the limit route's. */
  readonly path: string;
  readonly merchants: readonly PayeeMerchant[];
  readonly payerAccountIds: readonly string[];
  readonly signEachRequest: boolean;
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { warmupSeconds, durationSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  const wallets = options.quick ? WALLETS.quick : WALLETS.full;
  const roundSeconds = durationSeconds / rounds;
  return withTempDir(name, async (dir) => {
    const bare = await startBareRoute(PAYMENT_PATH, (body) => ({
      merchantOrderNo: body['merchantOrderNo'] ?? null,
      status: 'completed',
    }));
    let ledger: RunningLedger | undefined;
    let limit: LimitRoute | undefined;
    const ledgerRuns: HttpLoadResult[] = [];
    const limitRuns: HttpLoadResult[] = [];
    const measured: Record<Side, HttpLoadResult[]> = { bare: [], limit: [], spread: [], hot: [] };
    let peakRssMiB: number;
    let committedLimitRows: number;
    try {
      ledger = await startListeningLedger(dir);
      const service = ledger.service;
      limit = await startLimitRoute(service, dir, payBody);
      log(
        name,
        `setting up ${MERCHANTS} merchants with keys and accounts, ${wallets.toLocaleString('en-US')} funded wallets`,
      );
      const { result: setup, seconds: setupSeconds } = await timed(async () => {
        const merchants = await registerMerchants(service, MERCHANTS);
        const payees = await Promise.all(
          merchants.map(async (m, i) => ({
            signer: m.signer,
            accountId: await openMerchantAccount(service, m, String(i)),
          })),
        );
        return { payees, wallets: await openFundedWallets(service, wallets, WALLET_FUNDS_MINOR) };
      });
      // The live projections must have caught up with the setup's events before anything is measured.
      const { seconds: projectionSeconds } = await timed(() => waitForProjections(service));
      log(
        name,
        `set up in ${setupSeconds.toFixed(1)} s; the live projections had caught up ${projectionSeconds.toFixed(1)} s later`,
      );
      const targets: Record<Side, Target> = {
        // The bare route gets requests of the same shape: real payers and payee, one signature replayed.
        bare: {
          baseUrl: bare.baseUrl,
          path: PAYMENT_PATH,
          merchants: [{ signer: bare.signer, accountId: setup.payees[0]!.accountId }],
          payerAccountIds: setup.wallets,
          signEachRequest: false,
        },
        // The limit route gets the spread payments' requests, each signed by the cashier like theirs.
        limit: {
          baseUrl: limit.baseUrl,
          path: LIMIT_PATH,
          merchants: setup.payees,
          payerAccountIds: setup.wallets,
          signEachRequest: true,
        },
        spread: {
          baseUrl: ledger.baseUrl,
          path: PAYMENT_PATH,
          merchants: setup.payees,
          payerAccountIds: setup.wallets,
          signEachRequest: true,
        },
        hot: {
          baseUrl: ledger.baseUrl,
          path: PAYMENT_PATH,
          merchants: [setup.payees[0]!],
          payerAccountIds: setup.wallets,
          signEachRequest: true,
        },
      };
      const sides: readonly Side[] = ['bare', 'limit', 'spread', 'hot'];
      const loadSide = async (side: Side, seconds: number) => {
        // A baseline must not share the CPU with the projections' backlog from the payments before it.
        if (side === 'bare' || side === 'limit') await waitForProjections(service);
        const result = await load(targets[side], seconds);
        if (side === 'limit') limitRuns.push(result);
        else if (side !== 'bare') ledgerRuns.push(result);
        return result;
      };

      log(name, `warming up bare route, limit route, spread and hot payments, ${warmupSeconds} s each`);
      for (const side of sides) reportRun(`warm-up ${side}`, await loadSide(side, warmupSeconds));

      log(
        name,
        `${rounds} round(s) of ${roundSeconds} s each: bare Fastify, limit route, spread payments, hot payments; ${CONNECTIONS} connections`,
      );
      const rss = new RssSampler();
      for (let round = 0; round < rounds; round += 1) {
        for (const side of sides) measured[side].push(await loadSide(side, roundSeconds));
      }
      peakRssMiB = rss.stop();
    } finally {
      await bare.app.close();
      committedLimitRows = limit?.committedRows() ?? 0;
      await limit?.close();
      await ledger?.close();
    }
    checkLimitRoute(name, committedLimitRows, limitRuns, CONNECTIONS);
    const baseline = mergeHttpLoadResults(measured.bare);
    const limitRoute = mergeHttpLoadResults(measured.limit);
    const spread = mergeHttpLoadResults(measured.spread);
    const hot = mergeHttpLoadResults(measured.hot);
    reportRun('bare Fastify', baseline);
    reportRun('limit route', limitRoute);
    reportRun('spread payments', spread);
    reportRun('hot payments', hot);
    checkRecorded(join(dir, EVENTS_FILE), ledgerRuns);

    const all = mergeHttpLoadResults(ledgerRuns);
    const not201 = all.responses - (all.statusCounts[String(CREATED)] ?? 0);
    const latency = (result: HttpLoadResult, p: number) => percentile(result.latencySamplesMs, p);
    const spreadPerSecond = statusPerSecond(spread, CREATED);
    const barePerSecond = statusPerSecond(baseline, CREATED);
    const limitPerSecond = statusPerSecond(limitRoute, CREATED);
    const spreadNote = `payments spread over ${wallets.toLocaleString('en-US')} payers${options.quick ? ' (quick mode; the full run uses 10,000)' : ''} and ${MERCHANTS} merchants`;
    const bareNote = `bare Fastify POST ${PAYMENT_PATH} route parsing the JSON body and answering 201 with a small JSON; same requests (signature sent, not checked), same process, same autocannon settings, ${CONNECTIONS} connections (req/s)`;
    return [
      targetFigure({
        name: `${name}-spread`,
        value: spreadPerSecond,
        unit: 'payments/s',
        baseline: `limit route: the service's own HTTP server (buildHttpServer: request authentication with the Ed25519 signature verified and the nonce claimed) with POST ${LIMIT_PATH} validating the payment body with the payment route's schema and making one durable group-committed SQLite insert (WAL, synchronous=FULL); the same requests, each signed, same process, same autocannon settings, ${CONNECTIONS} connections (req/s); ${spreadNote}`,
        baselineValue: limitPerSecond,
        target: SPREAD_TARGET,
      }),
      extraFigure({
        name: `${name}-spread-vs-bare`,
        value: spreadPerSecond,
        unit: 'payments/s',
        baseline: `${bareNote}; ${spreadNote}`,
        baselineValue: barePerSecond,
      }),
      limitRouteFigure(name, limitPerSecond, barePerSecond, bareNote),
      targetFigure({
        name: `${name}-hot`,
        value: statusPerSecond(hot, CREATED),
        unit: 'payments/s',
        baseline: `payments-spread of the same run: payments over ${wallets.toLocaleString('en-US')} payers into ${MERCHANTS} merchants' accounts; here all into one, same payers (payments/s)`,
        baselineValue: spreadPerSecond,
        target: HOT_TARGET,
      }),
      extraFigure({
        name: `${name}-spread-p50-latency`,
        value: latency(spread, 50),
        unit: 'ms',
        baseline: 'limit route p50 (ms)',
        baselineValue: latency(limitRoute, 50),
      }),
      extraFigure({
        name: `${name}-spread-p99-latency`,
        value: latency(spread, 99),
        unit: 'ms',
        baseline: 'limit route p99 (ms)',
        baselineValue: latency(limitRoute, 99),
      }),
      extraFigure({
        name: `${name}-hot-p50-latency`,
        value: latency(hot, 50),
        unit: 'ms',
        baseline: 'spread payments p50 (ms)',
        baselineValue: latency(spread, 50),
      }),
      extraFigure({
        name: `${name}-hot-p99-latency`,
        value: latency(hot, 99),
        unit: 'ms',
        baseline: 'spread payments p99 (ms)',
        baselineValue: latency(spread, 99),
      }),
      // A healthy run has 0 in the next two (every payment and limit-route run, warm-ups included); anything else is a WARNING above the table.
      extraFigure({ name: `${name}-non-201-responses`, value: not201 + notCreated(limitRuns), unit: 'responses' }),
      extraFigure({
        name: `${name}-connection-errors`,
        value: all.errors + mergeHttpLoadResults(limitRuns).errors,
        unit: 'errors',
      }),
      extraFigure({ name: `${name}-peak-rss`, value: peakRssMiB, unit: 'MiB' }),
    ];
  });
}

/** Responses other than 201 over `runs`. */
function notCreated(runs: readonly HttpLoadResult[]): number {
  return runs.reduce((sum, run) => sum + run.responses - (run.statusCounts[String(CREATED)] ?? 0), 0);
}

function reportRun(label: string, result: HttpLoadResult): void {
  const statuses = Object.entries(result.statusCounts)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const p = (q: number) => percentile(result.latencySamplesMs, q).toFixed(1);
  log(
    name,
    `${label}: ${result.responses} responses in ${result.durationSeconds.toFixed(2)} s (${statuses || 'none'}), ` +
      `p50 ${p(50)} ms, p99 ${p(99)} ms, ${result.errors} connection errors`,
  );
  const not201 = result.responses - (result.statusCounts[String(CREATED)] ?? 0);
  if (not201 > 0 || result.errors > 0) {
    log(
      name,
      `WARNING: ${label} had ${not201} responses other than 201 and ${result.errors} connection errors (${result.timeouts} timeouts)`,
    );
  }
}

/** Payment load on `target`, with keys and order numbers no earlier run used. */
function load(target: Target, durationSeconds: number): Promise<HttpLoadResult> {
  const args: PaymentRequestArgs = {
    path: target.path,
    merchants: target.merchants,
    payerAccountIds: target.payerAccountIds,
    keyPrefix: freshKeyPrefix(),
    signEachRequest: target.signEachRequest,
  };
  return runHttpLoad({
    baseUrl: target.baseUrl,
    connections: CONNECTIONS,
    durationSeconds,
    requests: {
      moduleUrl: new URL('./payment-requests.js', import.meta.url).href,
      exportName: 'paymentRequests',
      args,
    },
  });
}

/**
 * Every acknowledged payment must be completed in the log, and none failed. Requests still in flight when
 * a run stopped may complete without their response being counted: up to CONNECTIONS more per run.
 */
function checkRecorded(eventsFile: string, runs: readonly HttpLoadResult[]): void {
  const db = new Database(eventsFile, { readonly: true });
  try {
    const count = (type: string) =>
      (db.prepare(`SELECT count(*) AS n FROM events WHERE type = ?`).get(type) as { n: number }).n;
    const completed = count('PaymentCompleted');
    const failed = count('PaymentFailed');
    const acknowledged = runs.reduce((sum, run) => sum + (run.statusCounts[String(CREATED)] ?? 0), 0);
    const inFlightAllowance = CONNECTIONS * runs.length;
    const ok = completed >= acknowledged && completed <= acknowledged + inFlightAllowance && failed === 0;
    log(
      name,
      `${ok ? 'check' : 'WARNING'}: ${completed} PaymentCompleted and ${failed} PaymentFailed recorded for ${acknowledged} acknowledged payments (+ up to ${inFlightAllowance} in flight)`,
    );
  } finally {
    db.close();
  }
}
