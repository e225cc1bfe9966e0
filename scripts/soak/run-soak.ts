import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Secret } from 'otpauth';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpChannels } from '../../src/adapters/channels/channel-setup.js';
import { drawBetween } from '../../src/adapters/channels/simulator/seeded-draw.js';
import { SIMULATED_CARD_NETWORK } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import type { PaymentCodeAlgorithm } from '../../src/client/payment-codes/payment-code.js';
import { generateDeviceKeyPair } from '../../src/client/transit.js';
import { registerBindingUser, writeSoakSimulatorConfig } from './soak-card-binding.js';
import { checkLedger, type CheckReport } from './soak-checks.js';
import { freePort, runCliCommand, ServiceUnderTest, startChannelSimulator } from './soak-processes.js';
import { emptyTally, SoakSender, type AnswerTally } from './soak-requests.js';
import {
  majorOf,
  minorOf,
  SoakClient,
  TRANSIT_FARE_CAP_MINOR,
  type ClientInstruments,
  type CodeSeed,
  type SoakWorld,
} from './soak-workload.js';

/**
 * The crash soak (issue 14): signed load of every operation kind from several clients against the built
 * service, killed with SIGKILL at seeded moments and started again, every unanswered request sent again
 * under its Idempotency-Key; then the ledger is checked (soak-checks.ts) and audited with the CLI.
 */

export interface SoakOptions {
  readonly cli: string;
  readonly seed: string;
  readonly kills: number;
  /** Seconds of load; the kills fall inside it. */
  readonly durationS: number;
  readonly clients: number;
  /**
   * Steps each client takes at least, however long they take: a loaded machine still gets the load
   * (a short CI run judged by its duration alone would do less, the more loaded the machine).
   */
  readonly minStepsPerClient?: number;
}

export interface SoakResult {
  readonly seed: string;
  readonly kills: number;
  readonly killsSurvived: number;
  readonly durationS: number;
  /** Wall time of the load, its kills and restarts and the last answers (the checks not included). */
  readonly loadWallS: number;
  readonly clients: number;
  readonly operations: number;
  readonly operationsPerSecond: number;
  readonly operationsByKind: Record<string, number>;
  readonly acknowledged: number;
  readonly refused: number;
  readonly lost: number;
  readonly doubled: number;
  readonly unexpected5xx: number;
  readonly answers: Omit<AnswerTally, 'unexpected5xx'>;
  readonly checks: Record<string, number>;
  readonly breaches: readonly string[];
  readonly ok: boolean;
}

/** Limits: a soak is bounded (TigerStyle). */
export const MAX_KILLS = 200;
export const MAX_CLIENTS = 32;
export const MAX_DURATION_S = 3_600;
/** Each client's first money: enough for its payments, never so much that nothing is ever refused. */
const SETUP_RECHARGE_MINOR = 200_000n;
/** The earliest a kill falls after the service is ready again: the clients are back with their retries. */
const MIN_UPTIME_MS = 1_000;
/** Longest a kill waits for a request in flight (a kill with none tests only the restart). */
const IN_FLIGHT_WAIT_MS = 10_000;
/**
 * Payment-code seeds per client (one per device): a seed pays once per time step (60 s), so a client
 * redeems at most this many codes a minute.
 */
const CODE_SEEDS_PER_CLIENT = 3;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  if (!(options.kills >= 0 && options.kills <= MAX_KILLS)) throw new RangeError(`kills: 0 to ${MAX_KILLS}`);
  if (!(options.clients >= 1 && options.clients <= MAX_CLIENTS)) throw new RangeError(`clients: 1 to ${MAX_CLIENTS}`);
  if (!(options.durationS > 0 && options.durationS <= MAX_DURATION_S))
    throw new RangeError(`duration: up to ${MAX_DURATION_S} s`);
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-soak-'));
  const base: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete base['EVENTSTORE_URL'];
  delete base['MONGODB_URL'];
  // The default channels of the seed, their cardholders joined by each client's cards to bind.
  const simulatorConfig = join(dataDir, 'soak-simulator.json');
  writeSoakSimulatorConfig(simulatorConfig, options.seed, options.clients);
  const simulator = await startChannelSimulator(options.cli, options.seed, base, simulatorConfig);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...base,
    PORT: String(port),
    CHANNELS_URL: simulator.url,
    CHANNELS_SEED: options.seed,
    PUBLIC_BASE_URL: baseUrl,
    CHANNEL_EXPLORATION_PPM: '0',
    PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: '0',
    // The recovery sweep finishes what a killed request left half-done well before its retry comes back
    // past the 30 s claim lease: the retry's answer is then derived from the finished stream.
    RECOVERY_SWEEP_INTERVAL_MS: '1000',
    RECOVERY_GRACE_MS: '5000',
    // Transit fares a wallet could not pay stay the payer's debt (no sweep charges them behind the soak's
    // back): the end checks find the debt, to the cent, in the payers' debt and in the receivable 1123.
    TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0',
    // The platform transit key, the same across restarts as a deployment's is (unset, each start draws
    // one and the credentials issued before a kill would no longer verify).
    TRANSIT_SIGNING_KEY: createHash('sha256').update(`soak-transit-key-${options.seed}`).digest('base64'),
  };
  const service = new ServiceUnderTest(options.cli, env, baseUrl);
  try {
    const operator = createCredentials(options.cli, env, 'create-operator', 'soak-operator', join(dataDir, 'op.pem'));
    const merchant = createCredentials(options.cli, env, 'create-merchant', 'Soak shop', join(dataDir, 'm.pem'));
    const merchantId = merchant.keyId.split('/')[0]!;
    await service.start({ waitReady: true });
    const tally = emptyTally();
    const sender = new SoakSender(baseUrl, operator, tally, merchant);
    const world = await setUp(options, sender, merchantId, simulator.url);

    const clients = await Promise.all(
      Array.from({ length: options.clients }, async (_, index) => {
        const user = await sender.command<{ entityId: string }>(
          '/v1/entities',
          { kind: 'user', displayName: `Soak client ${index}` },
          `soak-${options.seed}-setup-user-${index}`,
        );
        const open = (n: number) =>
          sender.command<{ accountId: string }>(
            '/v1/accounts',
            { ownerId: user.entityId, type: 'wallet', currency: world.currency },
            `soak-${options.seed}-setup-wallet-${index}-${n}`,
          );
        const wallet = (await open(1)).accountId;
        const other = (await open(2)).accountId;
        const recharged = await sender.command<{ rechargeId: string; status: string; amount: string }>(
          '/v1/recharges',
          {
            accountId: wallet,
            amount: majorOf(SETUP_RECHARGE_MINOR),
            currency: world.currency,
            payer: { method: 'quick_pay', card: world.card },
          },
          `soak-${options.seed}-setup-recharge-${index}`,
        );
        if (recharged.status !== 'completed') throw new Error(`setup recharge: ${JSON.stringify(recharged)}`);
        world.expected.set(wallet, minorOf(recharged.amount));
        world.expected.set(other, 0n);
        world.setupRechargeIds.push(recharged.rechargeId);
        world.setupRechargedMinor += minorOf(recharged.amount);
        world.transitUserIds.push(user.entityId);
        const instruments = await issueInstruments(sender, options.seed, index, user.entityId, wallet);
        const bindingUserId = await registerBindingUser(sender, options.seed, index);
        return new SoakClient(index, world, sender, user.entityId, wallet, other, { ...instruments, bindingUserId });
      }),
    );

    const loadStartedAt = Date.now();
    const endsAt = loadStartedAt + options.durationS * 1_000;
    const load = Promise.all(
      clients.map((client) => client.run(() => Date.now() >= endsAt, options.minStepsPerClient ?? 0)),
    );
    const killsSurvived = await killAndRestart(service, sender, options, endsAt);
    await load;
    await service.waitReady();
    const loadWallS = (Date.now() - loadStartedAt) / 1_000;
    const report = await checkLedger(world, sender);

    // The auditor's tools, on the stopped service's files (they may run beside one; stopped is stricter).
    const stopped = await service.stop();
    if (stopped !== 0) report.breaches.push(`the service's SIGTERM exit was ${stopped}: ${service.stderr()}`);
    for (const command of ['verify', 'replay']) {
      const audit = runCliCommand(options.cli, ['audit', command], env);
      report.checks[`audit ${command}`] = 1;
      if (audit.status !== 0)
        report.breaches.push(
          `audit ${command} exited ${audit.status}: ${audit.stdout.slice(-2_000)} ${audit.stderr.slice(-2_000)}`,
        );
    }
    return summarise(options, world, tally, report, killsSurvived, loadWallS);
  } finally {
    await service.stop().catch(() => undefined);
    await simulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function createCredentials(cli: string, env: NodeJS.ProcessEnv, command: string, name: string, keyOut: string) {
  const run = runCliCommand(cli, ['admin', command, '--name', name, '--key-out', keyOut], env);
  const keyId = /key id:\s+(\S+)/.exec(run.stdout)?.[1];
  if (run.status !== 0 || keyId === undefined) throw new Error(`admin ${command}: ${run.stdout} ${run.stderr}`);
  return { keyId, privateKeyPem: readFileSync(keyOut, 'utf8') };
}

async function setUp(options: SoakOptions, sender: SoakSender, merchantId: string, simulatorUrl: string) {
  const settlement = (n: number) =>
    sender.command<{ accountId: string }>(
      '/v1/accounts',
      { ownerId: merchantId, type: 'merchant_settlement', currency: 'CNY' },
      `soak-${options.seed}-setup-shop-${n}`,
    );
  // The test cardholder's card, bound at the simulated card network (as the e2e tests bind it).
  const channels = setUpChannels({
    channelsUrl: simulatorUrl,
    channelsSeed: options.seed,
    publicBaseUrl: 'http://127.0.0.1:9',
    callTimeoutMs: 5_000,
    explorationSharePpm: 0,
    accountingTimeZone: 'Asia/Shanghai',
  });
  let card;
  try {
    card = await bindTestCard(channels, 0, [SIMULATED_CARD_NETWORK]);
  } finally {
    await channels.close();
  }
  const world: SoakWorld = {
    seed: options.seed,
    currency: 'CNY',
    shopAccountId: (await settlement(1)).accountId,
    channelShopAccountId: (await settlement(2)).accountId,
    transitAccountId: (await settlement(3)).accountId,
    merchantId,
    card,
    expected: new Map(),
    operations: [],
    setupRechargeIds: [],
    setupRechargedMinor: 0n,
    transitDebtMinor: 0n,
    transitUserIds: [],
    simulatorUrl,
    bindings: [],
  };
  world.expected.set(world.shopAccountId, 0n);
  world.expected.set(world.channelShopAccountId, 0n);
  world.expected.set(world.transitAccountId, 0n);
  return world;
}

/**
 * A client's payment-code seeds (issued at its devices' logins, operator route) and its phone's transit
 * credential, before the load: a seed's issuance answers once (a retry is refused, the seed shown once),
 * so it is not an operation the soak could send again after a kill.
 */
async function issueInstruments(
  sender: SoakSender,
  seed: string,
  index: number,
  userId: string,
  wallet: string,
): Promise<Omit<ClientInstruments, 'bindingUserId'>> {
  const codeSeeds: CodeSeed[] = [];
  for (let device = 0; device < CODE_SEEDS_PER_CLIENT; device += 1) {
    const issued = await sender.command<{
      seed: string;
      slot: number;
      prefix: number;
      permutationKey: string;
      algorithm: PaymentCodeAlgorithm;
      stepSeconds: number;
    }>(
      `/v1/users/${userId}/payment-code-seeds`,
      { deviceId: `soak-phone-${index}-${device}`, accountId: wallet, perCodeLimit: '50.00', dailyLimit: '2000.00' },
      `soak-${seed}-setup-code-seed-${index}-${device}`,
    );
    codeSeeds.push({
      seed: Secret.fromBase32(issued.seed).bytes,
      slot: issued.slot,
      prefix: issued.prefix,
      parameters: {
        algorithm: issued.algorithm,
        stepSeconds: issued.stepSeconds,
        keys: new Map([[issued.prefix, Buffer.from(issued.permutationKey, 'hex')]]),
      },
      lastStep: -1,
    });
  }
  const device = generateDeviceKeyPair();
  const credential = await sender.command<{ payload: string; credentialId: string }>(
    `/v1/transit/users/${userId}/credentials`,
    {
      walletAccountId: wallet,
      devicePublicKey: device.publicKey,
      fareCap: majorOf(TRANSIT_FARE_CAP_MINOR),
      debtLimit: '10.00',
      currency: 'CNY',
    },
    `soak-${seed}-setup-transit-${index}`,
  );
  return {
    codeSeeds,
    transit: { privateKey: device.privateKey, credential: credential.payload, credentialId: credential.credentialId },
  };
}

/**
 * The kills: one in each of `kills` equal slices of the load, at a seeded moment of its slice (never
 * sooner than MIN_UPTIME_MS after the service was ready again, and while a request is in flight), each
 * followed at once by a start on the same port.
 */
async function killAndRestart(
  service: ServiceUnderTest,
  sender: SoakSender,
  options: SoakOptions,
  endsAt: number,
): Promise<number> {
  const sliceMs = (endsAt - Date.now()) / Math.max(1, options.kills);
  let survived = 0;
  sender.killing = options.kills > 0;
  try {
    for (let kill = 0; kill < options.kills; kill += 1) {
      const sliceEndsAt = endsAt - (options.kills - kill - 1) * sliceMs;
      const waitMs = drawBetween(
        options.seed,
        { min: MIN_UPTIME_MS, max: Math.max(MIN_UPTIME_MS, sliceMs) },
        'kill',
        kill,
      );
      await sleep(Math.max(MIN_UPTIME_MS, Math.min(waitMs, sliceEndsAt - Date.now())));
      const inFlightBy = Date.now() + IN_FLIGHT_WAIT_MS;
      while (sender.inFlight === 0 && Date.now() < inFlightBy) await sleep(5);
      await service.kill();
      await service.start({ waitReady: false });
      // Survived: it came back and answers readiness.
      await service.waitReady();
      sender.readyAtMs = Date.now();
      survived += 1;
    }
  } finally {
    // A kill that failed ends the waiting too: the clients' budgets start, and the soak ends.
    sender.killing = false;
  }
  return survived;
}

function summarise(
  options: SoakOptions,
  world: SoakWorld,
  tally: AnswerTally,
  report: CheckReport,
  killsSurvived: number,
  loadWallS: number,
): SoakResult {
  const byKind: Record<string, number> = {};
  for (const operation of world.operations) byKind[operation.kind] = (byKind[operation.kind] ?? 0) + 1;
  const acknowledged = world.operations.filter((o) => o.final !== null && o.final.status < 300).length;
  const refused = world.operations.filter((o) => o.final !== null && o.final.status >= 400).length;
  const breaches = [
    ...report.breaches,
    ...tally.unexpected5xx.map((a) => `5xx: ${a.status} ${a.code} to ${a.request}`),
    ...(killsSurvived === options.kills ? [] : [`survived ${killsSurvived} of ${options.kills} kills`]),
  ];
  const { unexpected5xx, ...answers } = tally;
  return {
    seed: options.seed,
    kills: options.kills,
    killsSurvived,
    durationS: options.durationS,
    loadWallS: Math.round(loadWallS * 10) / 10,
    clients: options.clients,
    operations: world.operations.length,
    operationsPerSecond: Math.round((world.operations.length / loadWallS) * 10) / 10,
    operationsByKind: byKind,
    acknowledged,
    refused,
    lost: report.lost,
    doubled: report.doubled,
    unexpected5xx: unexpected5xx.length,
    answers,
    checks: report.checks,
    breaches,
    ok: breaches.length === 0,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
