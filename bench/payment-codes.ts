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
 *     seed's current code, made in the load generator as a phone makes it): the code checked, the seed's
 *     key (held since its issuance on this instance: opened seeds, docs/payment-codes.md), the use and
 *     its risk verdict recorded on the seed's stream with the payment, in one commit. Baseline, same
 *     run, alternating rounds: POST /v1/payments (balance payments/s) from the same wallets into the same
 *     merchant account. Target: at least 90% of it (the code check costs under 10%).
 */
export const name = 'payment-codes';

const SIZES = {
  // Seeds per load run (seeds / (2 * rounds)) must outlast the run: a seed pays once per step, so a run
  // that uses them all up measures how many seeds it had, not the code check (checked below).
  full: { verifyRoundSeconds: 0.5, verifyRounds: 8, rounds: 2, httpRoundSeconds: 4, seeds: 16_000, wallets: 2_000 },
  quick: { verifyRoundSeconds: 0.25, verifyRounds: 2, rounds: 1, httpRoundSeconds: 2, seeds: 1_500, wallets: 500 },
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

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const size = options.quick ? SIZES.quick : SIZES.full;
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

      // Each load run takes its own slice of the seeds: a seed pays once per step.
      const seedsPerRun = Math.floor(seeds.length / (2 * size.rounds));
      let runIndex = 0;
      const redeemRun = (seconds: number) => {
        const slice = seeds.slice(runIndex * seedsPerRun, (runIndex + 1) * seedsPerRun);
        runIndex += 1;
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

      const redeemed: HttpLoadResult[] = [];
      const paid: HttpLoadResult[] = [];
      log(
        name,
        `${size.rounds} round(s) of ${size.httpRoundSeconds} s: ${REDEEM_PATH}, then ${PAYMENT_PATH}; ${CONNECTIONS} connections`,
      );
      for (let round = 0; round < size.rounds; round += 1) {
        await waitForProjections(service);
        redeemed.push(await redeemRun(size.httpRoundSeconds));
        await waitForProjections(service);
        paid.push(await paymentRun(size.httpRoundSeconds));
      }
      const redeem = mergeHttpLoadResults(redeemed);
      const pay = mergeHttpLoadResults(paid);
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
