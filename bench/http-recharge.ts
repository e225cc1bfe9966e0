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
  alternateRounds,
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
import { signedRequest, type RechargeRequestArgs, type RequestSigner } from './recharge-requests.js';

/**
 * The recharge API end to end: the real service on the embedded engines (HTTP, request signature and
 * nonce check, validation, idempotency records, command handler, group-committed durable append, live
 * projection), driven with POST /v1/recharges over 64 keep-alive connections, every request signed by an
 * operator's key and carrying a fresh Idempotency-Key.
 *
 * Baseline, same process, same load settings and the same kind of request (signed by the generator, the
 * signature ignored): a bare Fastify route that parses the JSON body and answers 201 with a small JSON:
 * the most this HTTP stack could serve on this machine. Baseline and service alternate in rounds.
 */
export const name = 'http-recharge';

const WALLETS = 1_000;
const CONNECTIONS = 64;
const TARGET_RATIO = 0.4;
/** Each side's measured time is split into this many alternating rounds. */
const ROUNDS = 2;
const SIZES = {
  full: { warmupSeconds: 2, durationSeconds: 10 },
  quick: { warmupSeconds: 1, durationSeconds: 4 },
} as const;
/** Wallets opened at once before the load: enough to share commits, few enough not to queue long. */
const OPEN_WALLETS_IN_FLIGHT = 64;
const CREATED = 201;
/** The bare route's requests name an account that needs not exist. */
const BASELINE_ACCOUNT_ID = '1010000000000000';

interface Target {
  readonly baseUrl: string;
  readonly accountIds: readonly string[];
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
    const ledgerRuns: HttpLoadResult[] = [];
    let baseline: HttpLoadResult;
    let service: HttpLoadResult;
    let peakRssMiB: number;
    try {
      ledger = await startLedger(dir);
      const ledgerTarget = ledger.target;
      log(name, `warming up both servers, ${warmupSeconds} s each`);
      await load(bare.target, warmupSeconds);
      ledgerRuns.push(await load(ledgerTarget, warmupSeconds));

      log(
        name,
        `${ROUNDS} rounds of ${roundSeconds} s each: bare Fastify, then the recharge API; ${CONNECTIONS} connections`,
      );
      const rss = new RssSampler();
      const rounds = await alternateRounds(
        ROUNDS,
        () => load(bare.target, roundSeconds),
        async () => {
          const result = await load(ledgerTarget, roundSeconds);
          ledgerRuns.push(result);
          return result;
        },
      );
      peakRssMiB = rss.stop();
      baseline = mergeHttpLoadResults(rounds.a);
      service = mergeHttpLoadResults(rounds.b);
      reportRun('bare Fastify', baseline);
      reportRun('recharge API', service);
    } finally {
      await bare.app.close();
      await ledger?.close();
    }
    checkRecorded(join(dir, EVENTS_FILE), ledgerRuns);

    const latency = (result: HttpLoadResult, p: number) => percentile(result.latencySamplesMs, p);
    return [
      targetFigure({
        name,
        value: statusPerSecond(service, CREATED),
        unit: 'req/s',
        baseline:
          'bare Fastify POST route parsing a JSON body and answering 201 with a small JSON; same requests (signature sent, not checked), same process, same autocannon settings (req/s)',
        baselineValue: statusPerSecond(baseline, CREATED),
        target: TARGET_RATIO,
      }),
      extraFigure({
        name: `${name}-p50-latency`,
        value: latency(service, 50),
        unit: 'ms',
        baseline: 'bare Fastify route p50 (ms)',
        baselineValue: latency(baseline, 50),
      }),
      extraFigure({
        name: `${name}-p99-latency`,
        value: latency(service, 99),
        unit: 'ms',
        baseline: 'bare Fastify route p99 (ms)',
        baselineValue: latency(baseline, 99),
      }),
      // A healthy run has 0 in the next two; anything else is printed as a WARNING above the table.
      extraFigure({
        name: `${name}-non-201-responses`,
        value: service.responses - (service.statusCounts[String(CREATED)] ?? 0),
        unit: 'responses',
      }),
      extraFigure({ name: `${name}-connection-errors`, value: service.errors, unit: 'errors' }),
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

async function startBareFastify(): Promise<{ app: FastifyInstance; target: Target }> {
  const bare = await startBareRoute('/v1/recharges', (body) => ({
    accountId: typeof body['accountId'] === 'string' ? body['accountId'] : null,
    status: 'succeeded',
  }));
  return {
    app: bare.app,
    target: { baseUrl: bare.baseUrl, accountIds: [BASELINE_ACCOUNT_ID], signer: bare.signer, signEachRequest: false },
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

/** The real service in `dir`, listening, with an operator key and WALLETS open wallets. */
async function startLedger(dir: string): Promise<{ service: LedgerService; target: Target; close(): Promise<void> }> {
  const service = await startLedgerService(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }));
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
    log(name, `opening ${WALLETS} wallets`);
    const accountIds = await openWallets(app, signer, WALLETS);
    return { service, target: { baseUrl, accountIds, signer, signEachRequest: true }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openWallets(app: FastifyInstance, signer: RequestSigner, count: number): Promise<string[]> {
  const key = createPrivateKey(signer.privateKeyPem);
  const indexes = Array.from({ length: count }, (_, index) => index);
  return mapConcurrent(indexes, OPEN_WALLETS_IN_FLIGHT, async (index) => {
    const { spec: request } = signedRequest({
      method: 'POST',
      path: '/v1/accounts',
      body: JSON.stringify({ ownerId: `u-bench-${index}`, type: 'wallet', currency: 'CNY' }),
      keyId: signer.keyId,
      key,
      idempotencyKey: `bench-open-${index}`,
    });
    const response = await app.inject({
      method: request.method,
      url: request.path,
      headers: request.headers,
      payload: request.body,
    });
    if (response.statusCode !== 201)
      throw new Error(`opening wallet ${index} failed: ${response.statusCode} ${response.body}`);
    return response.json<{ accountId: string }>().accountId;
  });
}

/** Recharge load on `target`, with Idempotency-Keys no earlier run used. */
function load(target: Target, durationSeconds: number): Promise<HttpLoadResult> {
  const args: RechargeRequestArgs = {
    accountIds: target.accountIds,
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
