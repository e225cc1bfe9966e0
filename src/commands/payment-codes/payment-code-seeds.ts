import type { KeyObject } from 'node:crypto';
import { DateTime } from 'luxon';
import type { CurrencyCode } from '../../domain/money/currency.js';
import type { SeedRevocationReason } from '../../domain/payment-codes/payment-code-events.js';
import {
  seedDecider,
  type Seed,
  type SeedCommand,
  type SeedStreamState,
} from '../../domain/payment-codes/seed-decider.js';
import {
  deviceDecider,
  slotDecider,
  type DeviceCommand,
  type DeviceState,
  type SlotCommand,
  type SlotState,
} from '../../domain/payment-codes/slot-and-device-deciders.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SecretVault } from '../../ports/secret-vault.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';
import type { OpenedSeeds } from './opened-seeds.js';

export const seedStreamId = (userId: string) => `codeseed-${userId}`;
export const slotStreamId = (slot: number) => `codeslot-${slot}`;
export const deviceStreamId = (deviceId: string) => `codedevice-${deviceId}`;
/** The vault subject of one seed: forgetting it (crypto-shredding) destroys that seed and nothing else. */
export const seedVaultSubject = (seedId: string) => `codeseed-${seedId}`;
export const SEED_VAULT_PURPOSE = 'payment-code-seed';

/** Slots tried per issuance; each a fresh draw from 10^8, so with a million live seeds all 8 fail with p = 10^-16. */
export const SLOT_ATTEMPTS = 8;
export const SLOT_COUNT = 100_000_000;
export const MAX_SEED_TTL_SECONDS = 90 * 86_400;

/** What the code scheme says about new seeds (the public parameters and the prefix of the newest key). */
export interface SeedScheme {
  readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  readonly stepSeconds: number;
  readonly prefix: number;
  /** Bytes of a fresh seed for the algorithm, from the CSPRNG. */
  newSeed(): Uint8Array;
}

export interface IssueSeedRequest {
  readonly userId: string;
  readonly deviceId: string;
  /** The user's wallet (checked by the caller: the user's, open, in `currency`). */
  readonly accountId: string;
  readonly currency: CurrencyCode;
  readonly perCodeLimitMinor: bigint;
  readonly dailyLimitMinor: bigint;
  readonly ttlSeconds: number;
}

export interface IssuedSeed {
  readonly seed: Seed;
  /** The seed itself: answered once, never stored in clear. */
  readonly secret: Uint8Array;
  readonly position: bigint;
}

/**
 * Issuing and revoking seeds, and finding the live seed of a slot. An issuance (ids derived from the
 * request's operation key, so a retry finds its own work):
 *
 * 1. claims a slot on `codeslot-<n>` at the revision read (free, or its holder revoked or expired);
 * 2. seals a fresh seed in the vault;
 * 3. records `PaymentCodeSeedIssued` on the user's stream, with the user's old seed on the device revoked;
 * 4. binds the device (`codedevice-<id>`) and revokes another user's seed there;
 * 5. forgets the revoked seeds in the vault.
 *
 * A crash after 1 leaves a slot held by a seed never issued until the claim's expiry (harmless: no code
 * decodes to a seed). A retry after 3 completes 4 and 5 and is refused `payment_code_seed_answered`: the
 * seed is answered once, and a lost answer means a new issuance (a new key), never the same seed again.
 */
export class PaymentCodeSeeds {
  readonly seeds: StreamCommandHandler<SeedCommand, SeedEventOf, SeedStreamState>;
  private readonly slots: StreamCommandHandler<SlotCommand, SlotEventOf, SlotState>;
  private readonly devices: StreamCommandHandler<DeviceCommand, DeviceEventOf, DeviceState>;

  constructor(
    eventStore: EventStore,
    private readonly vault: SecretVault,
    private readonly scheme: SeedScheme,
    private readonly opened: OpenedSeeds,
  ) {
    this.seeds = new StreamCommandHandler(eventStore, seedDecider, DEFAULT_HANDLER_LIMITS);
    this.slots = new StreamCommandHandler(eventStore, slotDecider, DEFAULT_HANDLER_LIMITS);
    this.devices = new StreamCommandHandler(eventStore, deviceDecider, DEFAULT_HANDLER_LIMITS);
  }

  async issue(request: IssueSeedRequest, context: CommandContext): Promise<IssuedSeed> {
    if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 60 || request.ttlSeconds > MAX_SEED_TTL_SECONDS)
      throw new RangeError(`a seed lives 60 s to ${MAX_SEED_TTL_SECONDS} s`);
    const seedId = deriveId(context.operationKey, 'payment-code-seed');
    const at = context.occurredAt;
    const expiresAt = DateTime.fromISO(at, { zone: 'utc' }).plus({ seconds: request.ttlSeconds }).toISO()!;
    const earlier = (await this.seeds.load(seedStreamId(request.userId))).state.seeds.get(seedId);
    if (earlier) {
      await this.bindDevice(earlier, context);
      throw new DomainError('payment_code_seed_answered', 'this issuance was answered already: issue a new seed', {
        seedId,
      });
    }
    const slot = await this.claimSlot({ seedId, userId: request.userId, expiresAt, at }, context);
    const secret = this.scheme.newSeed();
    const seedReference = await this.vault.seal(seedVaultSubject(seedId), SEED_VAULT_PURPOSE, secret);
    const issued = await this.seeds.handle(
      seedStreamId(request.userId),
      {
        type: 'IssueSeed',
        seed: {
          userId: request.userId,
          seedId,
          deviceId: request.deviceId,
          slot,
          prefix: this.scheme.prefix,
          algorithm: this.scheme.algorithm,
          stepSeconds: this.scheme.stepSeconds,
          seedReference,
          accountId: request.accountId,
          currency: request.currency,
          perCodeLimitMinor: request.perCodeLimitMinor,
          dailyLimitMinor: request.dailyLimitMinor,
          issuedAt: at,
          expiresAt,
        },
      },
      context,
    );
    if (!issued.events.some((event) => event.type === 'PaymentCodeSeedIssued')) {
      // A concurrent run of this issuance recorded its own seed first: this run's seed is not the stored one
      // (its ciphertext stays sealed and unreferenced; forgetting the subject would destroy the first's too).
      throw new DomainError('payment_code_seed_answered', 'this issuance was answered already: issue a new seed', {
        seedId,
      });
    }
    await this.forgetRevoked(issued.events);
    const seed = issued.state.seeds.get(seedId)!;
    // The app shows its first code soon after login: this instance has the seed in hand already.
    this.opened.put(seedId, secret);
    const position = await this.bindDevice(seed, context);
    return { seed, secret, position: position > issued.position ? position : issued.position };
  }

  async revoke(
    userId: string,
    seedId: string,
    revocation: { reason: SeedRevocationReason; note: string },
    context: CommandContext,
  ): Promise<{ seed: Seed; position: bigint }> {
    const handled = await this.seeds.handle(
      seedStreamId(userId),
      { type: 'RevokeSeed', userId, seedId, ...revocation, at: context.occurredAt },
      context,
    );
    await this.forgetRevoked(handled.events);
    return { seed: handled.state.seeds.get(seedId)!, position: handled.position };
  }

  /** The user's seeds as the event store has them now, newest first. */
  async list(userId: string): Promise<{ seeds: Seed[]; state: SeedStreamState; position: bigint }> {
    const { state, position } = await this.seeds.load(seedStreamId(userId));
    return { seeds: [...state.seeds.values()].reverse(), state, position };
  }

  /**
   * A seed's HMAC key: kept from an earlier opening on this instance, or opened from the vault (and
   * kept); `'erased'` once the vault forgot it. The caller checks the seed is live first.
   */
  async keyOf(seed: Seed): Promise<KeyObject | 'erased'> {
    const kept = this.opened.get(seed.seedId);
    if (kept !== undefined) return kept;
    const secret = await this.vault.open(seed.seedReference);
    if (secret === 'erased') return 'erased';
    try {
      return this.opened.put(seed.seedId, secret);
    } finally {
      secret.fill(0);
    }
  }

  /**
   * A slot's holder and its seed as this instance last saw them, without any I/O: they may be behind the
   * store (a revocation or a new claim elsewhere). A redemption tries them first and reads the streams
   * when they do not verify the code; what it records is appended at the seed stream's expected
   * revision, so a revocation it did not see refuses it then.
   */
  cachedSeedOfSlot(slot: number): Seed | undefined {
    const holder = this.slots.cached(slotStreamId(slot))?.state.holder;
    if (!holder) return undefined;
    return this.seeds.cached(seedStreamId(holder.userId))?.state.seeds.get(holder.seedId);
  }

  /** Who holds a slot now (its claim), read from the slot's stream: a seed issued a moment ago counts. */
  async holderOf(slot: number): Promise<{ userId: string; seedId: string } | undefined> {
    const { holder } = (await this.slots.load(slotStreamId(slot))).state;
    return holder ? { userId: holder.userId, seedId: holder.seedId } : undefined;
  }

  private async claimSlot(
    claim: { seedId: string; userId: string; expiresAt: string; at: string },
    context: CommandContext,
  ): Promise<number> {
    for (let attempt = 0; attempt < SLOT_ATTEMPTS; attempt += 1) {
      // Derived from the operation key: a retried issuance tries the same slots and finds its own claim.
      const slot = Number(
        BigInt(`0x${deriveId(context.operationKey, `slot\u0000${attempt}`).replaceAll('-', '')}`) % BigInt(SLOT_COUNT),
      );
      const { holder } = (await this.slots.load(slotStreamId(slot))).state;
      const holderRevoked =
        holder !== null &&
        holder.seedId !== claim.seedId &&
        (await this.seeds.load(seedStreamId(holder.userId))).state.seeds.get(holder.seedId)?.status === 'revoked';
      const claimed = await this.slots.handle(
        slotStreamId(slot),
        { type: 'ClaimSlot', claim: { slot, ...claim }, holderRevoked },
        context,
      );
      if (claimed.state.holder?.seedId === claim.seedId) return slot;
    }
    throw new DomainError('payment_code_slots_exhausted', `no free slot after ${SLOT_ATTEMPTS} draws`, {});
  }

  /** The device now holds `seed`; another user's seed it held is revoked (`device_taken`). */
  private async bindDevice(seed: Seed, context: CommandContext): Promise<bigint> {
    const bound = await this.devices.handle(
      deviceStreamId(seed.deviceId),
      {
        type: 'BindDevice',
        binding: { deviceId: seed.deviceId, userId: seed.userId, seedId: seed.seedId, at: seed.issuedAt },
      },
      context,
    );
    // Decided on the state the append was made at: a concurrent login on the device is seen here.
    const previous = bound.events[0]?.data.previous ?? null;
    // A retry finds the binding made (no event): the revocation below was recorded with it or is redone.
    const holder = bound.state.holder;
    const followed = previous ?? (holder?.seedId === seed.seedId ? holder.previous : null);
    if (followed && followed.userId !== seed.userId) {
      await this.revoke(followed.userId, followed.seedId, { reason: 'device_taken', note: '' }, context);
    }
    return bound.position;
  }

  private async forgetRevoked(events: readonly SeedEventOf[]): Promise<void> {
    for (const event of events)
      if (event.type === 'PaymentCodeSeedRevoked') {
        this.opened.evict(event.data.seedId);
        await this.vault.forget(seedVaultSubject(event.data.seedId), `payment-code seed revoked: ${event.data.reason}`);
      }
  }
}

type SeedEventOf = ReturnType<typeof seedDecider.decide>[number];
type SlotEventOf = ReturnType<typeof slotDecider.decide>[number];
type DeviceEventOf = ReturnType<typeof deviceDecider.decide>[number];
