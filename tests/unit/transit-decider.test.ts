import { describe, expect, it } from 'vitest';
import type { CurrencyCode } from '../../src/domain/money/currency.js';
import { ScanRefusedError, type LedgerScanRefusal } from '../../src/domain/transit/scan-refusals.js';
import { TRANSIT_LIMITS, transitDecider, type TransitCommand } from '../../src/domain/transit/transit-decider.js';
import type { TransitEvent } from '../../src/domain/transit/transit-events.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(transitDecider);
const USER = 'u-5b0f1f0e-2f6e-4d7a-9a55-2c1d9e4b7a10';
const CREDENTIAL = '0d7c6b6e-1d7e-4c59-8f71-0e1b2c3d4e5f';
const OTHER_CREDENTIAL = '9a4f7e21-3b2c-4d5e-8f60-718293a4b5c6';
const WALLET = '1015550123456782';
const BUS = '2015550123456789';
const CNY = 'CNY' as CurrencyCode;
const ISSUED_AT = '2026-12-01T06:00:00.000Z';
const EXPIRES_AT = '2026-12-08T06:00:00.000Z';

const credential = {
  credentialId: CREDENTIAL,
  keyId: 1,
  devicePublicKey: 'Gb9ECWmEzf6FQbrBZ9w7lshQhqoG9ECWmEzf6FQbrBZ',
  walletAccountId: WALLET,
  currency: CNY,
  fareCapMinor: 500n,
  debtLimitMinor: 600n,
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
  payload: 'AQE',
};
const issued: TransitEvent = { type: 'TransitCredentialIssued', data: { ...credential, userId: USER } };
const issue = (overrides: Partial<typeof credential> = {}, now = ISSUED_AT): TransitCommand => ({
  type: 'IssueCredential',
  userId: USER,
  credential: { ...credential, ...overrides },
  debtAllowanceMinor: 0n,
  now,
});

let nonce = 0;
function scan(overrides: { scannedAt?: string; fareMinor?: bigint; batchId?: string; scanId?: string } = {}) {
  nonce += 1;
  return {
    userId: USER,
    scanId: overrides.scanId ?? `00000000-0000-4000-8000-${String(nonce).padStart(12, '0')}`,
    credentialId: CREDENTIAL,
    batchId: overrides.batchId ?? '11111111-1111-4111-8111-111111111111',
    operatorId: 'm-bus',
    operatorAccountId: BUS,
    terminalId: 'bus-7',
    scannedAt: overrides.scannedAt ?? '2026-12-01T07:00:00.000Z',
    fareMinor: overrides.fareMinor ?? 200n,
    currency: CNY,
  };
}
const accept = (fare: ReturnType<typeof scan>, now = '2026-12-01T08:00:00.000Z'): TransitCommand => ({
  type: 'AcceptFare',
  fare,
  maxScanAgeMs: 3 * 86_400_000,
  now,
});
const accepted = (fare: ReturnType<typeof scan>, acceptedAt = '2026-12-01T08:00:00.000Z'): TransitEvent => ({
  type: 'TransitFareAccepted',
  data: { ...fare, walletAccountId: WALLET, acceptedAt },
});

function refusesScan(given: readonly TransitEvent[], command: TransitCommand, code: LedgerScanRefusal) {
  const state = given.reduce(transitDecider.evolve, transitDecider.initialState());
  let thrown: unknown;
  try {
    transitDecider.decide(command, state);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ScanRefusedError);
  expect((thrown as ScanRefusedError).code).toBe(code);
}

describe('transit decider: credentials', () => {
  it('issues a credential, once', () => {
    spec.given([]).when(issue()).then([issued]);
    spec.given([issued]).when(issue()).then([]);
  });

  it('refuses a new credential while fares are unpaid beyond the allowance', () => {
    const fare = scan();
    spec
      .given([issued, accepted(fare)])
      .when(issue({ credentialId: OTHER_CREDENTIAL }, '2026-12-01T09:00:00.000Z'))
      .thenRefuses('transit_debt_outstanding');
    spec
      .given([
        issued,
        accepted(fare),
        { type: 'TransitFareBooked', data: { userId: USER, scanId: fare.scanId } },
        {
          type: 'TransitFareCharged',
          data: { userId: USER, scanId: fare.scanId, walletAccountId: WALLET, fareMinor: 200n, currency: CNY },
        },
      ])
      .when(issue({ credentialId: OTHER_CREDENTIAL }, '2026-12-01T09:00:00.000Z'))
      .then([
        {
          type: 'TransitCredentialIssued',
          data: { ...credential, credentialId: OTHER_CREDENTIAL, userId: USER },
        },
      ]);
  });

  it('refuses a sixth live credential, and one in another currency', () => {
    const five = Array.from({ length: TRANSIT_LIMITS.maxLiveCredentials }, (_, i): TransitEvent => ({
      type: 'TransitCredentialIssued',
      data: {
        ...credential,
        credentialId: `0d7c6b6e-1d7e-4c59-8f71-0000000000${String(i).padStart(2, '0')}`,
        userId: USER,
      },
    }));
    spec
      .given(five)
      .when(issue({ credentialId: OTHER_CREDENTIAL }))
      .thenRefuses('transit_credential_limit');
    spec
      .given([issued])
      .when(issue({ credentialId: OTHER_CREDENTIAL, currency: 'USD' as CurrencyCode }))
      .thenRefuses('currency_mismatch');
  });

  it('revokes a credential once, and refuses an unknown one', () => {
    const revoke: TransitCommand = {
      type: 'RevokeCredential',
      userId: USER,
      credentialId: CREDENTIAL,
      by: 'risk',
      reason: 'rooted device',
      now: '2026-12-02T00:00:00.000Z',
    };
    const revoked: TransitEvent = {
      type: 'TransitCredentialRevoked',
      data: { userId: USER, credentialId: CREDENTIAL, by: 'risk', reason: 'rooted device', revokedAt: revoke.now },
    };
    spec.given([issued]).when(revoke).then([revoked]);
    spec.given([issued, revoked]).when(revoke).then([]);
    spec.given([]).when(revoke).thenRefuses('transit_credential_not_found');
  });
});

describe('transit decider: fares', () => {
  it('accepts a valid scan, and the same scan of the same batch again decides nothing', () => {
    const fare = scan();
    spec
      .given([issued])
      .when(accept(fare))
      .then([accepted(fare)]);
    spec
      .given([issued, accepted(fare)])
      .when(accept(fare))
      .then([]);
  });

  it('refuses the same scan from another batch: a replay', () => {
    const fare = scan();
    refusesScan(
      [issued, accepted(fare)],
      accept({ ...fare, batchId: '22222222-2222-4222-8222-222222222222' }),
      'transit_scan_duplicate',
    );
  });

  it('judges age by the upload time, and refuses scans timed ahead of it', () => {
    refusesScan(
      [issued],
      accept(scan({ scannedAt: '2026-12-01T07:00:00.000Z' }), '2026-12-04T07:00:00.001Z'),
      'transit_scan_too_old',
    );
    const oldest = scan({ scannedAt: '2026-12-01T07:00:00.000Z' });
    spec
      .given([issued])
      .when(accept(oldest, '2026-12-04T07:00:00.000Z'))
      .then([accepted(oldest, '2026-12-04T07:00:00.000Z')]);
    refusesScan([issued], accept(scan({ scannedAt: '2026-12-01T08:10:00.001Z' })), 'transit_scan_in_future');
  });

  it('refuses scans outside the credential: before or after its life, above its cap, beyond its debt limit', () => {
    refusesScan([issued], accept(scan({ scannedAt: '2026-12-01T05:59:59.999Z' })), 'transit_credential_expired');
    refusesScan(
      [issued],
      accept(scan({ scannedAt: '2026-12-08T06:00:00.000Z' }), '2026-12-08T07:00:00.000Z'),
      'transit_credential_expired',
    );
    refusesScan([issued], accept(scan({ fareMinor: 501n })), 'transit_fare_above_cap');
    const [a, b] = [scan({ fareMinor: 300n }), scan({ fareMinor: 300n })];
    spec
      .given([issued, accepted(a)])
      .when(accept(b))
      .then([accepted(b)]);
    refusesScan([issued, accepted(a), accepted(b)], accept(scan({ fareMinor: 1n })), 'transit_debt_limit');
    refusesScan([], accept(scan()), 'transit_credential_unknown');
  });

  it('takes scans made before a revocation and refuses those made at or after it', () => {
    const revoked: TransitEvent = {
      type: 'TransitCredentialRevoked',
      data: {
        userId: USER,
        credentialId: CREDENTIAL,
        by: 'user',
        reason: 'lost',
        revokedAt: '2026-12-01T07:30:00.000Z',
      },
    };
    const before = scan({ scannedAt: '2026-12-01T07:29:59.999Z' });
    spec
      .given([issued, revoked])
      .when(accept(before))
      .then([accepted(before)]);
    refusesScan(
      [issued, revoked],
      accept(scan({ scannedAt: '2026-12-01T07:30:00.000Z' })),
      'transit_credential_revoked',
    );
  });

  it('books, then charges, each once; the debt is fares accepted minus fares charged', () => {
    const fare = scan();
    const booked: TransitEvent = { type: 'TransitFareBooked', data: { userId: USER, scanId: fare.scanId } };
    const charged: TransitEvent = {
      type: 'TransitFareCharged',
      data: { userId: USER, scanId: fare.scanId, walletAccountId: WALLET, fareMinor: 200n, currency: CNY },
    };
    const book: TransitCommand = { type: 'BookFare', userId: USER, scanId: fare.scanId };
    const charge: TransitCommand = { type: 'ChargeFare', userId: USER, scanId: fare.scanId };
    spec
      .given([issued, accepted(fare)])
      .when(book)
      .then([booked]);
    spec
      .given([issued, accepted(fare), booked])
      .when(book)
      .then([]);
    spec
      .given([issued, accepted(fare), booked])
      .when(charge)
      .then([charged]);
    spec
      .given([issued, accepted(fare), booked, charged])
      .when(charge)
      .then([]);
    spec
      .given([issued, accepted(fare)])
      .when(charge)
      .thenRefuses('invariant_violated');
    const state = [issued, accepted(fare), booked, charged].reduce(
      transitDecider.evolve,
      transitDecider.initialState(),
    );
    expect(state.outstandingMinor).toBe(0n);
  });

  it('forgets charged scans after the retention, but never an unpaid one', () => {
    const old = scan({ scannedAt: '2026-12-01T07:00:00.000Z' });
    const unpaid = scan({ scannedAt: '2026-12-01T07:10:00.000Z' });
    const later = scan({ scannedAt: '2027-01-05T07:00:00.000Z' });
    const longLived = { ...issued, data: { ...issued.data, expiresAt: '2027-02-01T00:00:00.000Z' } } as TransitEvent;
    const events: TransitEvent[] = [
      longLived,
      accepted(old),
      accepted(unpaid),
      { type: 'TransitFareBooked', data: { userId: USER, scanId: old.scanId } },
      {
        type: 'TransitFareCharged',
        data: { userId: USER, scanId: old.scanId, walletAccountId: WALLET, fareMinor: 200n, currency: CNY },
      },
      accepted(later, '2027-01-05T08:00:00.000Z'),
    ];
    const state = events.reduce(transitDecider.evolve, transitDecider.initialState());
    expect([...state.scans.keys()]).toEqual([unpaid.scanId, later.scanId]);
    expect(state.outstandingMinor).toBe(400n);
  });
});
