import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { bootstrapEntity } from '../src/adapters/entity-bootstrap.js';
import { PaymentCodes } from '../src/client/payment-codes/payment-code.js';
import {
  extraFigure,
  log,
  mapConcurrent,
  mergeHttpLoadResults,
  minimumFigure,
  runHttpLoad,
  statusPerSecond,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
  type HttpLoadResult,
} from './harness.js';
import { OPENED_SEED_LIMITS } from '../src/commands/payment-codes/opened-seeds.js';
import { BENCH_CURRENCY, benchContext } from './ledger-fixtures.js';
import { REDEEM_PATH, type RedeemRequestArgs } from './payment-code-requests.js';
import {
  freshKeyPrefix,
  openFundedWallets,
  registerMerchants,
  startListeningLedger,
  waitForProjections,
} from './payment-ledger.js';
import { PAYMENT_PATH, type PaymentRequestArgs } from './payment-requests.js';

/**
 * Offline payment codes (docs/payment-codes.md).
 *
 *   code-verifications: verifications/s in process, on one thread: decode a code (prefix, FF1 decryption
 *     of 16 digits: slot and one-time value) and check the one-time value within +-1 step (the server's
 *     own step first, so a fresh code costs one HMAC), the seed given as bytes (its key object made per
 *     verification). Baseline, same run, alternating short rounds (so a shared machine's swings fall
 *     on both alike): raw HMAC-SHA1 of an 8-byte counter under a 20-byte key per second (node:crypto,
 *     the key as bytes). Target: at least 50,000/s.
 *   code-verifications-held: the same with the seed's key object held (an opened seed an instance keeps),
 *     beside HMAC-SHA1 under a held key object.
 *   redeem-payments: POST /v1/payment-codes/redeem over HTTP, 201s/s (64 connections, each code its own
 *     seed's current code, computed by the load generator before the round as a phone computes it): the
 *     code checked, the seed's key (held since its issuance on this instance: opened seeds,
 *     docs/payment-codes.md; every seed of the run fits in what an instance holds), the use and its risk
 *     verdict recorded on the seed's stream with the payment, in one commit. Baseline, same run,
 *     alternating rounds: POST /v1/payments (balance payments/s) from the same wallets into the same
 *     merchant account. Target: at least 90% of it (the code check costs under 10%).
 *   redeem-server-cpu, redeem-main-thread-cpu: the same requests per second of the server's CPU time
 *     (the process's user + system time over the round and its projections' catch-up, less the load
 *     generator thread's), and per second of the main thread's alone: what a request costs, whatever
 *     else the shared machine runs.
 */
export const name = 'payment-codes';

const SIZES = {
  // Seeds per redeem run (seeds / rounds) must outlast the run: a seed pays once per step, so a run that
  // uses them all up measures how many seeds it had, not the code check (checked below). And all must
  // fit in the seeds an instance holds opened (OPENED_SEED_LIMITS), or the runs measure vault opens.
  // A warm-up run of each side first (not measured): the first requests of a route pay for its compilation.
  full: {
    verifyRoundSeconds: 0.5,
    verifyRounds: 8,
    rounds: 2,
    httpRoundSeconds: 4,
    warmUpSeconds: 1,
    seeds: 9_000,
    wallets: 2_000,
  },
  quick: {
    verifyRoundSeconds: 0.25,
    verifyRounds: 2,
    rounds: 1,
    httpRoundSeconds: 2,
    warmUpSeconds: 0.5,
    seeds: 1_500,
    wallets: 500,
  },
} as const;
const CONNECTIONS = 64;
const VERIFY_MINIMUM = 50_000;
const REDEEM_TARGET = 0.9;
const CREATED = 201;
const STEP_SECONDS = 60;
const WALLET_FUNDS_MINOR = 10_000_000n;

/** Operations per second of `task` run back to back for `seconds` (checked every 256 calls). */
function perSecond(seconds: number, task: (i: number) => void): number {
  const start = performance.now();
  const untilMs = start + seconds * 1_000;
  let done = 0;
  while (performance.now() < untilMs) {
    for (let k = 0; k < 256; k += 1) task(done++);
  }
  return done / ((performance.now() - start) / 1_000);
}

interface VerificationRates {
  readonly verify: number;
  readonly hmac: number;
  readonly verifyHeld: number;
  readonly hmacHeld: number;
}

function verificationRates(seconds: number, rounds: number): VerificationRates {
  const key = Buffer.alloc(16, 0x2b);
  const codes = new PaymentCodes({ algorithm: 'SHA1', stepSeconds: STEP_SECONDS, keys: new Map([[10, key]]) });
  const seeds = Array.from({ length: 1_024 }, (_, i) => Buffer.alloc(20, i % 256));
  const heldKeys: KeyObject[] = seeds.map((seed) => createSecretKey(seed));
  const atMs = Date.now();
  const step = codes.stepAt(atMs);
  const shown = seeds.map((seed, slot) => codes.generate({ seed, slot, prefix: 10, atMs }));
  let matched = 0;
  const verifyWith =
    (seedOf: (slot: number) => Buffer | KeyObject) =>
    (i: number): void => {
      const decoded = codes.decode(shown[i % shown.length]!)!;
      const seed = seedOf(decoded.slot);
      if (codes.matchingStep({ seed, oneTimeValue: decoded.oneTimeValue, step, windowSteps: 1 }) !== undefined)
        matched += 1;
    };
  const counter = Buffer.alloc(8);
  const hmacWith =
    (keyOf: (i: number) => Buffer | KeyObject) =>
    (i: number): void => {
      counter.writeUInt32BE(i >>> 0, 4);
      createHmac('sha1', keyOf(i)).update(counter).digest();
    };
  const tasks = {
    verify: verifyWith((slot) => seeds[slot]!),
    hmac: hmacWith((i) => seeds[i % seeds.length]!),
    verifyHeld: verifyWith((slot) => heldKeys[slot]!),
    hmacHeld: hmacWith((i) => heldKeys[i % heldKeys.length]!),
  };
  const totals = { verify: 0, hmac: 0, verifyHeld: 0, hmacHeld: 0 };
  for (let round = 0; round < rounds; round += 1)
    for (const task of Object.keys(tasks) as (keyof typeof tasks)[]) totals[task] += perSecond(seconds, tasks[task]);
  if (matched === 0) throw new Error('no code verified: the benchmark measures nothing');
  return {
    verify: totals.verify / rounds,
    hmac: totals.hmac / rounds,
    verifyHeld: totals.verifyHeld / rounds,
    hmacHeld: totals.hmacHeld / rounds,
  };
}

/** CPU time in ms of a `process.cpuUsage` / `process.threadCpuUsage` difference. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1_000;
}

interface MeasuredRound {
  readonly result: HttpLoadResult;
  readonly serverCpuMs: number;
  readonly mainThreadCpuMs: number;
}

/** Per CPU-second of the server (or of its main thread), the rounds' 201s. */
function createdPerCpuSecond(rounds: readonly MeasuredRound[], cpuOf: (round: MeasuredRound) => number): number {
  const created = rounds.reduce((sum, round) => sum + (round.result.statusCounts[String(CREATED)] ?? 0), 0);
  return created / (rounds.reduce((sum, round) => sum + cpuOf(round), 0) / 1_000);
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const size = options.quick ? SIZES.quick : SIZES.full;
  if (size.seeds > OPENED_SEED_LIMITS.maxSeeds)
    throw new Error(`${size.seeds} seeds do not fit in the ${OPENED_SEED_LIMITS.maxSeeds} an instance holds opened`);
  log(
    name,
    `code verifications in process vs raw HMAC-SHA1, ${size.verifyRounds} round(s) of ${size.verifyRoundSeconds} s each`,
  );
  const rates = verificationRates(size.verifyRoundSeconds, size.verifyRounds);
  log(
    name,
    `verifications ${rates.verify.toFixed(0)}/s, HMAC-SHA1 ${rates.hmac.toFixed(0)}/s; key held: ${rates.verifyHeld.toFixed(0)}/s, ${rates.hmacHeld.toFixed(0)}/s`,
  );

  return withTempDir(name, async (dir) => {
    const ledger = await startListeningLedger(dir);
    try {
      const service = ledger.service;
      log(name, `setting up a merchant, ${size.wallets} funded wallets and ${size.seeds} seeds`);
      const [cashierMerchant] = await registerMerchants(service, 1);
      const merchant = await bootstrapEntity(service.entities, service.clock, {
        kind: 'merchant',
        displayName: 'Bench till',
        actor: 'bench',
      });
      const payee = await service.commands.openAccount(
        {
          ownerId: merchant.entityId,
          accountType: 'merchant_settlement',
          currency: BENCH_CURRENCY,
          displayName: 'till',
        },
        benchContext(`open-till-${randomUUID()}`),
      );
      const wallets = await openFundedWallets(service, size.wallets, WALLET_FUNDS_MINOR);
      const owners = await Promise.all(
        wallets.map(async (accountId) => {
          const state = await service.commands.getAccountState(accountId);
          if (!state.exists) throw new Error(`wallet ${accountId} not opened`);
          return state.ownerId;
        }),
      );
      const run = randomUUID();
      const seeds = await mapConcurrent(
        Array.from({ length: size.seeds }, (_, i) => i),
        64,
        async (i) => {
          const issued = await service.paymentCodes.seeds.issue(
            {
              userId: owners[i % owners.length]!,
              deviceId: `bench-device-${i}`,
              accountId: wallets[i % wallets.length]!,
              currency: BENCH_CURRENCY,
              perCodeLimitMinor: 100_000n,
              dailyLimitMinor: 10_000_000n,
              ttlSeconds: 3_600,
            },
            benchContext(`seed-${run}-${i}`),
          );
          return { seedHex: Buffer.from(issued.secret).toString('hex'), slot: issued.seed.slot };
        },
      );
      await waitForProjections(service);
      const prefix = service.config.paymentCodes.issuePrefix;
      const permutationKeyHex = service.config.paymentCodes.keys.get(prefix)!.toString('hex');
      const merchantSigner = { keyId: merchant.keyId, privateKeyPem: merchant.privateKeyPem };

      const load = (module: string, exportName: string, args: unknown, seconds: number) =>
        runHttpLoad({
          baseUrl: ledger.baseUrl,
          connections: CONNECTIONS,
          durationSeconds: seconds,
          requests: { moduleUrl: new URL(module, import.meta.url).href, exportName, args },
        });

      // Each redeem run takes its own slice of the seeds (a seed pays once per step), as long as its time.
      const redeemSeconds = size.warmUpSeconds + size.rounds * size.httpRoundSeconds;
      let seedsTaken = 0;
      const redeemRun = (seconds: number) => {
        const count = Math.floor((seeds.length * seconds) / redeemSeconds);
        const slice = seeds.slice(seedsTaken, seedsTaken + count);
        seedsTaken += count;
        const args: RedeemRequestArgs = {
          merchant: merchantSigner,
          payeeAccountId: payee.accountId,
          seeds: slice,
          prefix,
          permutationKeyHex,
          stepSeconds: service.config.paymentCodes.stepSeconds,
          keyPrefix: freshKeyPrefix(),
        };
        return load('./payment-code-requests.js', 'redeemRequests', args, seconds);
      };
      const paymentRun = (seconds: number) => {
        const args: PaymentRequestArgs = {
          merchants: [{ signer: cashierMerchant!.signer, accountId: payee.accountId }],
          payerAccountIds: wallets,
          keyPrefix: freshKeyPrefix(),
          signEachRequest: true,
        };
        return load('./payment-requests.js', 'paymentRequests', args, seconds);
      };

      // The round's CPU runs to the end of its projections' catch-up: their work is the round's cost too.
      const measured = async (loadRun: () => Promise<HttpLoadResult>): Promise<MeasuredRound> => {
        await waitForProjections(service);
        const processBefore = process.cpuUsage();
        const mainThreadBefore = process.threadCpuUsage();
        const result = await loadRun();
        await waitForProjections(service);
        return {
          result,
          serverCpuMs: cpuMs(process.cpuUsage(processBefore)) - result.generatorCpuMs,
          mainThreadCpuMs: cpuMs(process.threadCpuUsage(mainThreadBefore)),
        };
      };
      const redeemed: MeasuredRound[] = [];
      const paid: MeasuredRound[] = [];
      log(
        name,
        `${size.rounds} round(s) of ${size.httpRoundSeconds} s: ${REDEEM_PATH}, then ${PAYMENT_PATH}; ${CONNECTIONS} connections`,
      );
      await redeemRun(size.warmUpSeconds);
      await paymentRun(size.warmUpSeconds);
      for (let round = 0; round < size.rounds; round += 1) {
        redeemed.push(await measured(() => redeemRun(size.httpRoundSeconds)));
        paid.push(await measured(() => paymentRun(size.httpRoundSeconds)));
      }
      const redeem = mergeHttpLoadResults(redeemed.map((round) => round.result));
      const pay = mergeHttpLoadResults(paid.map((round) => round.result));
      log(
        name,
        `redeem statuses ${JSON.stringify(redeem.statusCounts)}, payment statuses ${JSON.stringify(pay.statusCounts)}`,
      );
      const redeemPerSecond = statusPerSecond(redeem, CREATED);
      const payPerSecond = statusPerSecond(pay, CREATED);
      if (redeem.responses > 0 && redeemPerSecond === 0) throw new Error('no redemption succeeded');
      // A 409 here is a seed already used this step: the run ran out of seeds, and its rate is the seed
      // supply's. Refused rather than reported.
      const reused = redeem.statusCounts['409'] ?? 0;
      if (reused > redeem.responses / 100)
        throw new Error(`${reused} of ${redeem.responses} redemptions found their seed used: give the run more seeds`);
      const cpuFigure = (figure: string, cpu: string, cpuOf: (round: MeasuredRound) => number) =>
        extraFigure({
          name: figure,
          value: createdPerCpuSecond(redeemed, cpuOf),
          unit: 'payments/CPU-s',
          baseline: `balance payments per second of ${cpu}, same run`,
          baselineValue: createdPerCpuSecond(paid, cpuOf),
        });
      return [
        minimumFigure({
          name: 'code-verifications',
          value: rates.verify,
          unit: 'verifications/s',
          minimum: VERIFY_MINIMUM,
          baseline: 'raw HMAC-SHA1 per second (node:crypto), same run, one thread',
          baselineValue: rates.hmac,
        }),
        extraFigure({
          name: 'code-verifications-held',
          value: rates.verifyHeld,
          unit: 'verifications/s',
          baseline: 'HMAC-SHA1 per second under a held key object (node:crypto), same run',
          baselineValue: rates.hmacHeld,
        }),
        targetFigure({
          name: 'redeem-payments',
          value: redeemPerSecond,
          unit: 'payments/s',
          baseline: 'POST /v1/payments balance payments/s, same wallets and merchant account, same run',
          baselineValue: payPerSecond,
          target: REDEEM_TARGET,
        }),
        cpuFigure('redeem-server-cpu', "the server's CPU time (all its threads)", (round) => round.serverCpuMs),
        cpuFigure('redeem-main-thread-cpu', "the server's main thread CPU time", (round) => round.mainThreadCpuMs),
        extraFigure({
          name: 'redeem-refusals',
          value: redeem.responses - (redeem.statusCounts[String(CREATED)] ?? 0),
          unit: 'responses',
        }),
      ];
    } finally {
      await ledger.close();
    }
  });
}
