import { randomBytes, type KeyObject } from 'node:crypto';
import { generateDeviceKeyPair, signScan } from '../../src/client/transit.js';
import type { TestLedger } from './test-ledger.js';

/** A payer's phone: its key pair and the credential the platform issued for it. */
export interface TestDevice {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
  readonly credential: string;
  readonly credentialId: string;
}

export async function issueTestCredential(
  ledger: TestLedger,
  userId: string,
  walletAccountId: string,
  limits: { fareCap?: string; debtLimit?: string } = {},
): Promise<TestDevice> {
  const device = generateDeviceKeyPair();
  const response = await ledger.inject({
    method: 'POST',
    url: `/v1/transit/users/${userId}/credentials`,
    payload: {
      walletAccountId,
      devicePublicKey: device.publicKey,
      fareCap: limits.fareCap ?? '5.00',
      debtLimit: limits.debtLimit ?? '10.00',
      currency: 'CNY',
    },
  });
  if (response.statusCode !== 201) throw new Error(`issuing failed: ${response.statusCode} ${response.body}`);
  const issued = response.json<{ payload: string; credentialId: string }>();
  return { ...device, credential: issued.payload, credentialId: issued.credentialId };
}

/** One tap at a terminal: a fresh challenge, answered by the device. */
export function tap(
  device: TestDevice,
  options: { terminalId?: string; scannedAt?: Date; fare?: string; nonce?: string } = {},
) {
  const terminalId = options.terminalId ?? 'bus-7-front';
  const scannedAt = (options.scannedAt ?? new Date()).toISOString();
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const deviceSignature = signScan(
    { credentialId: device.credentialId, terminalId, scannedAtMs: Date.parse(scannedAt), nonceHex: nonce },
    device.privateKey,
  );
  return {
    credential: device.credential,
    deviceSignature,
    terminalId,
    nonce,
    scannedAt,
    fare: options.fare ?? '2.00',
    currency: 'CNY',
  };
}
