import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfiguredKeyEncryptionKeys } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../../src/adapters/crypto/envelope-vault.js';
import { SqliteVaultStore } from '../../src/adapters/sqlite/sqlite-vault-store.js';
import { OPENED_SEED_LIMITS, OpenedSeeds } from '../../src/commands/payment-codes/opened-seeds.js';
import { PaymentCodeSeeds, seedStreamId } from '../../src/commands/payment-codes/payment-code-seeds.js';
import { defaultRiskRules } from '../../src/commands/channel-payments/channel-payment-commands.js';
import { rulesFor } from '../../src/domain/risk/risk-rules.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { CNY, commandFixture, context } from '../support/command-fixtures.js';

/**
 * Two service instances over one event store: each with its own command handlers and cached states, as
 * two processes have. What the expected revisions must hold whatever the caches say.
 */
describe('payment codes across instances', () => {
  const fixture = commandFixture();
  const clock = { now: () => DateTime.utc() };
  const vault = new EnvelopeVault(
    new SqliteVaultStore(join(fixture.dataDir, 'vault.sqlite')),
    ConfiguredKeyEncryptionKeys.parse(`1:${randomBytes(32).toString('base64')}`),
    clock,
  );
  const scheme = { algorithm: 'SHA1' as const, stepSeconds: 60, prefix: 10, newSeed: () => randomBytes(20) };
  // Each instance keeps its own opened seeds, as two processes do.
  const opened = () => new OpenedSeeds(OPENED_SEED_LIMITS, () => Date.now());
  const instanceA = new PaymentCodeSeeds(fixture.eventStore, vault, scheme, opened());
  const instanceB = new PaymentCodeSeeds(fixture.eventStore, vault, scheme, opened());
  const request = {
    userId: 'u-instances',
    deviceId: 'phone-1',
    accountId: '1015550123456782',
    currency: CNY,
    perCodeLimitMinor: 10_000n,
    dailyLimitMinor: 50_000n,
    ttlSeconds: 3_600,
  };
  let seedId: string;

  beforeAll(async () => {
    seedId = (await instanceA.issue(request, context())).seed.seedId;
  });
  afterAll(async () => {
    await vault.close();
    await fixture.close();
  });

  it('one code redeemed on two instances at once (both caches warm): exactly one use is recorded', async () => {
    await Promise.all([instanceA.list(request.userId), instanceB.list(request.userId)]);
    const at = new Date().toISOString();
    const redeem = (instance: PaymentCodeSeeds, orderNo: string) =>
      instance.seeds.handle(
        seedStreamId(request.userId),
        {
          type: 'RedeemCode',
          redemption: {
            userId: request.userId,
            seedId,
            step: 29_935_440,
            paymentId: '00000000-0000-4000-8000-000000000001',
            merchantId: 'm-shop',
            merchantOrderNo: orderNo,
            terminalId: `till-${orderNo}`,
            amountMinor: 500n,
            currency: CNY,
            accountingDate: at.slice(0, 10),
            at,
          },
          rules: rulesFor(defaultRiskRules('Asia/Shanghai'), 'payment_code'),
          payerConfirmed: false,
        },
        context({ occurredAt: at }),
      );
    const outcomes = await Promise.allSettled([redeem(instanceA, 'A'), redeem(instanceB, 'B')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(DomainError);
    expect((lost[0]!.reason as DomainError).code).toBe('payment_code_used');
    const events = [];
    for await (const event of fixture.eventStore.readStream(seedStreamId(request.userId))) events.push(event.type);
    expect(events.filter((type) => type === 'PaymentCodeRedeemed')).toHaveLength(1);
  });

  it('a revocation on one instance holds on the other, its cache warm', async () => {
    await instanceB.list(request.userId);
    // Both instances hold the opened seed: A issued it, B opened it from the vault.
    const live = (await instanceB.seeds.load(seedStreamId(request.userId))).state.seeds.get(seedId)!;
    expect(await instanceA.keyOf(live)).not.toBe('erased');
    expect(await instanceB.keyOf(live)).not.toBe('erased');
    await instanceA.revoke(request.userId, seedId, { reason: 'risk', note: 'rooted' }, context());
    const { state } = await instanceB.seeds.load(seedStreamId(request.userId));
    expect(state.seeds.get(seedId)?.status).toBe('revoked');
    expect(await vault.open(state.seeds.get(seedId)!.seedReference)).toBe('erased');
    // The revoking instance dropped its key at once. B's key lives out its TTL, but B reads the seed's
    // stream before using it on every redemption, and the stream says revoked (payment_code_revoked).
    expect(await instanceA.keyOf(live)).toBe('erased');
  });
});
