import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { generateDeviceKeyPair, signScan } from '../../src/client/transit.js';
import type { CommandContext } from '../../src/commands/command-context.js';
import type { Credentials, TestLedger } from './test-ledger.js';

/** A payer's phone: its key pair and the credential the platform issued for it. */
export interface TestDevice {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
  readonly credential: string;
  readonly credentialId: string;
}

/** POST /v1/transit/users/{userId}/credentials as `as` (default: the test operator), answered as it is. */
export function requestCredential(
  ledger: TestLedger,
  request: { userId: string; walletAccountId: string; devicePublicKey: string; fareCap?: string; debtLimit?: string },
  as?: Credentials,
) {
  return ledger.inject(
    {
      method: 'POST',
      url: `/v1/transit/users/${request.userId}/credentials`,
      payload: {
        walletAccountId: request.walletAccountId,
        devicePublicKey: request.devicePublicKey,
        fareCap: request.fareCap ?? '5.00',
        debtLimit: request.debtLimit ?? '10.00',
        currency: 'CNY',
      },
    },
    as,
  );
}

export async function issueTestCredential(
  ledger: TestLedger,
  userId: string,
  walletAccountId: string,
  limits: { fareCap?: string; debtLimit?: string } = {},
): Promise<TestDevice> {
  const device = generateDeviceKeyPair();
  const response = await requestCredential(ledger, {
    userId,
    walletAccountId,
    devicePublicKey: device.publicKey,
    ...limits,
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

/** A merchant settlement account (CNY) for `merchant`, opened by the test operator: its account id. */
export async function openSettlementAccount(ledger: TestLedger, merchant: Credentials): Promise<string> {
  const opened = await ledger.inject({
    method: 'POST',
    url: '/v1/accounts',
    payload: { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'CNY' },
  });
  if (opened.statusCode !== 201) throw new Error(`opening failed: ${opened.statusCode} ${opened.body}`);
  return opened.json<{ accountId: string }>().accountId;
}

/** A command context for calls straight to the command side (sweeps, resumes). */
export function testContext(): CommandContext {
  return {
    actor: 'test',
    correlationId: randomUUID(),
    causationId: null,
    idempotencyKey: null,
    operationKey: randomUUID(),
    occurredAt: new Date().toISOString(),
  };
}
