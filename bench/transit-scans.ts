import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { bootstrapEntity } from '../src/adapters/entity-bootstrap.js';
import { generateDeviceKeyPair, signScan, verifyTap, type TapToCheck } from '../src/client/transit.js';
import { MAX_SCANS_PER_BATCH } from '../src/commands/transit/transit-commands.js';
import { extraFigure, log, mapConcurrent, nowMs, withTempDir, type BenchmarkOptions, type Figure } from './harness.js';
import { BENCH_CURRENCY, benchContext } from './ledger-fixtures.js';
import { openFundedWallets, openMerchantAccount, startListeningLedger } from './payment-ledger.js';
import { signedRequest } from './recharge-requests.js';

/**
 * Transit scans verified and booked per second in a batch upload: signed POST /v1/transit/scan-batches
 * of 500 scans each (quick: 100), one at a time, every scan verified (platform and device Ed25519
 * signatures), accepted on its payer's stream, the operator credited and the funded wallet charged
 * (five appends a scan), all durable before the answer. Beside it, from the same run: the terminal's
 * offline check alone (verifyTap: decode and two verifies) and raw Ed25519 verifies/s on this machine
 * (node:crypto, one key object reused): a scan costs at least two of those.
 */
export const name = 'transit-scans';

const SIZES = {
  full: { payers: 200, scansPerBatch: MAX_SCANS_PER_BATCH, batches: 20, rawSeconds: 2 },
  quick: { payers: 40, scansPerBatch: 100, batches: 4, rawSeconds: 0.5 },
} as const;

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const size = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir(name, async (dir) => {
    const rawPerSecond = rawVerifiesPerSecond(size.rawSeconds);
    log(name, `raw Ed25519 verifies: ${Math.round(rawPerSecond)}/s`);

    const ledger = await startListeningLedger(join(dir, 'ledger'), {});
    try {
      const operator = await bootstrapEntity(ledger.service.entities, ledger.service.clock, {
        kind: 'merchant',
        displayName: 'Bench bus company',
        actor: 'bench',
      });
      const operatorAccount = await openMerchantAccount(
        ledger.service,
        { entityId: operator.entityId, signer: operator },
        'transit',
      );
      const wallets = await openFundedWallets(ledger.service, size.payers, 100_000_000n);
      const devices = await mapConcurrent(wallets, 32, async (walletAccountId, index) => {
        const device = generateDeviceKeyPair();
        const { credential } = await ledger.service.transit.issueCredential(
          {
            userId: `u-bench-${index}`,
            walletAccountId,
            devicePublicKey: device.publicKey,
            fareCap: { amountMinor: 1_000n, currency: BENCH_CURRENCY },
            debtLimit: { amountMinor: 10_000n, currency: BENCH_CURRENCY },
          },
          benchContext(`transit-credential-${randomUUID()}`),
        );
        return { ...device, credential: credential.payload, credentialId: credential.credentialId };
      });
      let sequence = 0;
      const scans = () =>
        Array.from({ length: size.scansPerBatch }, () => {
          sequence += 1;
          const device = devices[sequence % devices.length]!;
          const scannedAt = new Date().toISOString();
          const nonce = randomBytes(16).toString('hex');
          const terminalId = `bus-${sequence % 50}`;
          return {
            credential: device.credential,
            deviceSignature: signScan(
              { credentialId: device.credentialId, terminalId, scannedAtMs: Date.parse(scannedAt), nonceHex: nonce },
              device.privateKey,
            ),
            terminalId,
            nonce,
            scannedAt,
            fare: `0.${String(1 + (sequence % 98)).padStart(2, '0')}`,
            currency: 'CNY',
          };
        });

      // The terminal's offline check alone, on the scans of one batch, in this process.
      const keys = ledger.service.transitKeys.verificationKeys;
      const sample: TapToCheck[] = scans().map((scan) => ({
        credential: scan.credential,
        deviceSignature: scan.deviceSignature,
        terminalId: scan.terminalId,
        scannedAtMs: Date.parse(scan.scannedAt),
        nonceHex: scan.nonce,
        fareMinor: 1n,
        currency: 'CNY',
      }));
      const offlineStarted = nowMs();
      let offline = 0;
      while (nowMs() - offlineStarted < size.rawSeconds * 1000) {
        for (const tap of sample) if (verifyTap(tap, keys).ok) offline += 1;
      }
      const offlinePerSecond = offline / ((nowMs() - offlineStarted) / 1000);
      log(name, `verifyTap: ${Math.round(offlinePerSecond)}/s`);

      const key = createPrivateKey(operator.privateKeyPem);
      const upload = async (): Promise<number> => {
        const body = JSON.stringify({ batchId: randomUUID(), operatorAccountId: operatorAccount, scans: scans() });
        const { spec } = signedRequest({
          method: 'POST',
          path: '/v1/transit/scan-batches',
          body,
          keyId: operator.keyId,
          key,
          idempotencyKey: randomUUID(),
        });
        const response = await fetch(`${ledger.baseUrl}${spec.path}`, {
          method: 'POST',
          headers: spec.headers,
          body: spec.body,
        });
        const answer = (await response.json()) as { results?: Array<{ status: string; code: string | null }> };
        if (response.status !== 200) throw new Error(`a batch answered ${response.status}: ${JSON.stringify(answer)}`);
        const notCharged = answer.results!.find((result) => result.status !== 'charged');
        if (notCharged) throw new Error(`a scan was not charged: ${JSON.stringify(notCharged)}`);
        return answer.results!.length;
      };
      await upload(); // warm-up: first-request costs stay out of the figure
      const started = nowMs();
      let charged = 0;
      for (let batch = 0; batch < size.batches; batch++) charged += await upload();
      const seconds = (nowMs() - started) / 1000;
      const scansPerSecond = charged / seconds;
      log(name, `${charged} scans in ${size.batches} batches of ${size.scansPerBatch} in ${seconds.toFixed(2)} s`);
      const baseline = `raw Ed25519 verifies/s (node:crypto, same run)${options.quick ? '; quick mode: batches of 100' : ''}`;
      return [
        extraFigure({ name, value: scansPerSecond, unit: 'scans/s', baseline, baselineValue: rawPerSecond }),
        extraFigure({
          name: `${name}-offline-verify`,
          value: offlinePerSecond,
          unit: 'verifyTap/s',
          baseline: 'raw Ed25519 verifies/s (same run); a tap is two verifies',
          baselineValue: rawPerSecond,
        }),
        extraFigure({ name: `${name}-batch-ms`, value: (seconds * 1000) / size.batches, unit: 'ms per batch' }),
      ];
    } finally {
      await ledger.close();
    }
  });
}

/** Ed25519 verifies of a scan-sized message with one key object, for `seconds`. */
function rawVerifiesPerSecond(seconds: number): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const message = randomBytes(90);
  const signature = sign(null, message, privateKey);
  const started = nowMs();
  let count = 0;
  while (nowMs() - started < seconds * 1000) {
    for (let i = 0; i < 100; i++) if (verify(null, message, publicKey, signature)) count += 1;
  }
  return count / ((nowMs() - started) / 1000);
}
