import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { bootstrapEntity } from '../src/adapters/entity-bootstrap.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import { EVENTS_FILE } from '../src/adapters/storage.js';
import { loadConfig } from '../src/config.js';
import {
  RssSampler,
  extraFigure,
  listenLocal,
  log,
  mapConcurrent,
  mergeHttpLoadResults,
  percentile,
  runHttpLoad,
  statusPerSecond,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
  type HttpLoadResult,
} from './harness.js';
import { LIMIT_PATH, checkLimitRoute, limitRouteFigure, startLimitRoute, type LimitRoute } from './limit-route.js';
import { waitForProjections, BENCH_CHANNELS, benchPayer } from './payment-ledger.js';
import { RECHARGE_PATH, signedRequest, type RechargeRequestArgs, type RequestSigner } from './recharge-requests.js';
import { rechargeBody } from '../src/adapters/http/routes/recharges.js';

/**
 * The recharge API end to end: the real service on the embedded engines (HTTP, request signature and
 * nonce check, validation, idempotency records, command handler, group-committed durable append, live
 * projection), driven with POST /v1/recharges over 64 keep-alive connections, every request signed by an
 * operator's key and carrying a fresh Idempotency-Key.
 *
 * Baseline, same process, same load settings, the same requests, each signed: the limit route
 * (bench/limit-route.ts: the service's own HTTP server verifying the signature, validating the body with
 * the recharge route's schema and making one durable, group-committed insert), the most a signed
 * durable command could do on this machine. Target: at least 50% of it. Reported beside it
 * (http-recharge-vs-bare, http-recharge-limit-route): a bare Fastify route that parses the JSON body and
 * answers 201 with a small JSON (the signature sent, not checked). The three alternate in rounds; the
 * live projections catch up before each baseline round.
 */
export const name = 'http-recharge';

/** Wallets recharged (quick mode opens fewer: setup is not measured, but counts against the two minutes). */
const WALLETS = { full: 1_000, quick: 500 } as const;
export const CONNECTIONS = 64;
const TARGET_RATIO = 0.5;
/** Each side's measured time is split into this many alternating rounds. */
const ROUNDS = 2;
const SIZES = {
  full: { warmupSeconds: 2, durationSeconds: 10 },
  quick: { warmupSeconds: 0.5, durationSeconds: 3 },
} as const;
/** Wallets opened at once before the load: enough to share commits, few enough not to queue long. */
const OPEN_WALLETS_IN_FLIGHT = 64;
const CREATED = 201;
/** The bare route's requests name an account that needs not exist. */
const BASELINE_ACCOUNT_ID = '1010000000000000';

export interface Target {
  readonly baseUrl: string;
  /** The route posted to: RECHARGE_PATH, or the limit route's. */
  readonly path: string;
  readonly accountIds: readonly string[];
  /** See RechargeRequestArgs.payer. */
  readonly payer: unknown;
  readonly signer: RequestSigner;
  /** See RechargeRequestArgs.signEachRequest. */
  readonly signEachRequest: boolean;
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { warmupSeconds, durationSeconds } = options.quick ? SIZES.quick : SIZES.full;
  const roundSeconds = durationSeconds / ROUNDS;
  return withTempDir(name, async (dir) => {
    const bare = await startBareFastify();
    let ledger: Awaited<ReturnType<typeof startLedger>> | undefined;
    let limit: LimitRoute | undefined;
    const ledgerRuns: HttpLoadResult[] = [];
    const limitRuns: HttpLoadResult[] = [];
    const measured = { bare: [] as HttpLoadResult[], limit: [] as HttpLoadResult[], service: [] as HttpLoadResult[] };
    let peakRssMiB: number;
    let committedLimitRows: number;
    try {
      ledger = await startLedger(dir, options.quick ? WALLETS.quick : WALLETS.full);
      const running = ledger;
      limit = await startLimitRoute(running.service, dir, rechargeBody);
      // The limit route takes the recharge API's requests, each signed with the operator's key like theirs.
      const limitTarget: Target = { ...running.target, baseUrl: limit.baseUrl, path: LIMIT_PATH };
      const loadBaseline = async (target: Target, seconds: number, runs: HttpLoadResult[]) => {
        // A baseline must not share the CPU with the projections' backlog from the recharges before it.
        await waitForProjections(running.service);
        const result = await load(target, seconds);
        runs.push(result);
        return result;
      };
      const loadService = async (seconds: number) => {
        const result = await load(running.target, seconds);
        ledgerRuns.push(result);
        return result;
      };
      log(name, `warming up the bare route, the limit route and the recharge API, ${warmupSeconds} s each`);
      await load(bare.target, warmupSeconds);
      await loadBaseline(limitTarget, warmupSeconds, limitRuns);
      await loadService(warmupSeconds);

      log(
        name,
        `${ROUNDS} rounds of ${roundSeconds} s each: bare Fastify, the limit route, then the recharge API; ${CONNECTIONS} connections`,
      );
      const rss = new RssSampler();
      for (let round = 0; round < ROUNDS; round += 1) {
        measured.bare.push(await loadBaseline(bare.target, roundSeconds, []));
        measured.limit.push(await loadBaseline(limitTarget, roundSeconds, limitRuns));
        measured.service.push(await loadService(roundSeconds));
      }
      peakRssMiB = rss.stop();
    } finally {
      await bare.app.close();
      committedLimitRows = limit?.committedRows() ?? 0;
      await limit?.close();
      await ledger?.close();
    }
    const baseline = mergeHttpLoadResults(measured.bare);
    const limitRoute = mergeHttpLoadResults(measured.limit);
    const service = mergeHttpLoadResults(measured.service);
    reportRun('bare Fastify', baseline);
    reportRun('limit route', limitRoute);
    reportRun('recharge API', service);
    checkLimitRoute(name, committedLimitRows, limitRuns, CONNECTIONS);
    checkRecorded(join(dir, EVENTS_FILE), ledgerRuns);

    const latency = (result: HttpLoadResult, p: number) => percentile(result.latencySamplesMs, p);
    const servicePerSecond = statusPerSecond(service, CREATED);
    const barePerSecond = statusPerSecond(baseline, CREATED);
    const limitPerSecond = statusPerSecond(limitRoute, CREATED);
    const bareNote =
      'bare Fastify POST route parsing a JSON body and answering 201 with a small JSON; same requests (signature sent, not checked), same process, same autocannon settings (req/s)';
    return [
      targetFigure({
        name,
        value: servicePerSecond,
        unit: 'req/s',
        baseline: `limit route: the service's own HTTP server (buildHttpServer: request authentication with the Ed25519 signature verified and the nonce claimed) with POST ${LIMIT_PATH} validating the recharge body with the recharge route's schema and making one durable group-committed SQLite insert (WAL, synchronous=FULL); the same requests, each signed, same process, same autocannon settings, ${CONNECTIONS} connections (req/s)`,
        baselineValue: limitPerSecond,
        target: TARGET_RATIO,
      }),
      extraFigure({
        name: `${name}-vs-bare`,
        value: servicePerSecond,
        unit: 'req/s',
        baseline: bareNote,
        baselineValue: barePerSecond,
      }),
      limitRouteFigure(name, limitPerSecond, barePerSecond, bareNote),
      extraFigure({
        name: `${name}-p50-latency`,
        value: latency(service, 50),
        unit: 'ms',
        baseline: 'limit route p50 (ms)',
        baselineValue: latency(limitRoute, 50),
      }),
      extraFigure({
        name: `${name}-p99-latency`,
        value: latency(service, 99),
        unit: 'ms',
        baseline: 'limit route p99 (ms)',
        baselineValue: latency(limitRoute, 99),
      }),
      // A healthy run has 0 in the next two; anything else is printed as a WARNING above the table.
      extraFigure({
        name: `${name}-non-201-responses`,
        value:
          service.responses -
          (service.statusCounts[String(CREATED)] ?? 0) +
          limitRoute.responses -
          (limitRoute.statusCounts[String(CREATED)] ?? 0),
        unit: 'responses',
      }),
      extraFigure({ name: `${name}-connection-errors`, value: service.errors + limitRoute.errors, unit: 'errors' }),
      extraFigure({ name: `${name}-peak-rss`, value: peakRssMiB, unit: 'MiB' }),
    ];
  });
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

/** A payer of the recharge body's shape for the bare baseline, which never charges anyone. */
const BASELINE_PAYER = {
  method: 'quick_pay',
  card: {
    bankCode: 'CITY',
    cardKind: 'debit',
    contracts: [{ channelId: 'sim-citybank', contractNo: 'SIMCITC0000000000000000000' }],
  },
};

async function startBareFastify(): Promise<{ app: FastifyInstance; target: Target }> {
  const bare = await startBareRoute(RECHARGE_PATH, (body) => ({
    accountId: typeof body['accountId'] === 'string' ? body['accountId'] : null,
    status: 'succeeded',
  }));
  return {
    app: bare.app,
    target: {
      baseUrl: bare.baseUrl,
      path: RECHARGE_PATH,
      accountIds: [BASELINE_ACCOUNT_ID],
      // The bare route reads the body without looking at the payer: the same one keeps the bytes comparable.
      payer: BASELINE_PAYER,
      signer: bare.signer,
      signEachRequest: false,
    },
  };
}

/**
 * The HTTP benchmarks' baseline server: a bare Fastify POST route at `path` that parses the JSON body
 * and answers 201 with `answer(body)` (keep it small), listening on 127.0.0.1. Its `signer` is a throwaway
 * key for requests of the real shape: send them with signEachRequest false (one signature, replayed: the
 * bare route checks nothing, and signing each would make the generator the bottleneck, not the server).
 */
export async function startBareRoute(
  path: string,
  answer: (body: Record<string, unknown>) => Record<string, unknown>,
): Promise<{ app: FastifyInstance; baseUrl: string; signer: RequestSigner }> {
  const app = Fastify({ logger: false });
  app.post(path, async (request, reply) => {
    reply.code(CREATED);
    return answer(request.body as Record<string, unknown>);
  });
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer: RequestSigner = {
    keyId: 'bench-baseline/1',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  try {
    return { app, baseUrl: await listenLocal(app), signer };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The real service in `dir`, listening, with an operator key and `wallets` open wallets. */
export async function startLedger(
  dir: string,
  wallets: number,
): Promise<{ service: LedgerService; target: Target; close(): Promise<void> }> {
  const service = await startLedgerService(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), {
    channels: BENCH_CHANNELS,
  });
  let app: FastifyInstance | undefined;
  const close = async () => {
    await app?.close();
    await service.close();
  };
  try {
    app = await buildHttpServer(service, { logger: false });
    const baseUrl = await listenLocal(app);
    // An operator may open accounts and recharge any of them: a caller of the API, not a back door.
    const operator = await bootstrapEntity(service.entities, service.clock, {
      kind: 'operator',
      displayName: 'Benchmark operator',
      actor: 'bench',
    });
    const signer: RequestSigner = { keyId: operator.keyId, privateKeyPem: operator.privateKeyPem };
    log(name, `opening ${wallets} wallets`);
    const accountIds = await openWallets(app, signer, wallets);
    const payer = await benchPayer(service);
    return {
      service,
      target: { baseUrl, path: RECHARGE_PATH, accountIds, payer, signer, signEachRequest: true },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `count` wallets, each of a user registered for it (wallets belong to existing users), through the API. */
async function openWallets(app: FastifyInstance, signer: RequestSigner, count: number): Promise<string[]> {
  const key = createPrivateKey(signer.privateKeyPem);
  const post = async (path: string, body: object, idempotencyKey: string): Promise<Record<string, unknown>> => {
    const { spec: request } = signedRequest({
      method: 'POST',
      path,
      body: JSON.stringify(body),
      keyId: signer.keyId,
      key,
      idempotencyKey,
    });
    const response = await app.inject({
      method: request.method,
      url: request.path,
      headers: request.headers,
      payload: request.body,
    });
    if (response.statusCode !== 201) throw new Error(`POST ${path} failed: ${response.statusCode} ${response.body}`);
    return response.json<Record<string, unknown>>();
  };
  const indexes = Array.from({ length: count }, (_, index) => index);
  return mapConcurrent(indexes, OPEN_WALLETS_IN_FLIGHT, async (index) => {
    const user = await post(
      '/v1/entities',
      { kind: 'user', displayName: `Bench user ${index}` },
      `bench-user-${index}`,
    );
    const opened = await post(
      '/v1/accounts',
      { ownerId: user['entityId'], type: 'wallet', currency: 'CNY' },
      `bench-open-${index}`,
    );
    return String(opened['accountId']);
  });
}

/** Recharge load on `target` over CONNECTIONS connections, with Idempotency-Keys no earlier run used. */
export function load(target: Target, durationSeconds: number): Promise<HttpLoadResult> {
  const args: RechargeRequestArgs = {
    path: target.path,
    accountIds: target.accountIds,
    payer: target.payer,
    keyPrefix: `bench-${randomUUID()}`,
    signer: target.signer,
    signEachRequest: target.signEachRequest,
  };
  return runHttpLoad({
    baseUrl: target.baseUrl,
    connections: CONNECTIONS,
    durationSeconds,
    requests: {
      moduleUrl: new URL('./recharge-requests.js', import.meta.url).href,
      exportName: 'rechargeRequests',
      args,
    },
  });
}

/**
 * Every acknowledged recharge must be in the log. Requests still in flight when a run stopped may be
 * recorded without their response being counted, so up to CONNECTIONS more per run is expected.
 */
function checkRecorded(eventsFile: string, runs: readonly HttpLoadResult[]): void {
  const db = new Database(eventsFile, { readonly: true });
  try {
    const { recorded } = db.prepare(`SELECT count(*) AS recorded FROM events WHERE type = 'FundsRecharged'`).get() as {
      recorded: number;
    };
    const acknowledged = runs.reduce((sum, run) => sum + (run.statusCounts[String(CREATED)] ?? 0), 0);
    const inFlightAllowance = CONNECTIONS * runs.length;
    const ok = recorded >= acknowledged && recorded <= acknowledged + inFlightAllowance;
    log(
      name,
      `${ok ? 'check' : 'WARNING'}: ${recorded} FundsRecharged recorded for ${acknowledged} acknowledged recharges (+ up to ${inFlightAllowance} in flight)`,
    );
  } finally {
    db.close();
  }
}
