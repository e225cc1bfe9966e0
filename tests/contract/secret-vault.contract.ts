import { randomBytes, randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfiguredKeyEncryptionKeys } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../../src/adapters/crypto/envelope-vault.js';
import {
  MAX_VAULT_PLAINTEXT_BYTES,
  VaultIntegrityError,
  VaultReferenceUnknown,
  VaultSubjectErased,
  type StoredSecret,
  type VaultKeyStore,
} from '../../src/ports/secret-vault.js';

const clock = { now: () => DateTime.fromISO('2026-12-01T10:00:00.000Z', { zone: 'utc' }) };
const kekEntry = (version: number, key = randomBytes(32)) => `${version}:${key.toString('base64')}`;
const text = (value: string) => new TextEncoder().encode(value);
const clear = (value: Uint8Array | 'erased') => (value === 'erased' ? value : new TextDecoder().decode(value));

/**
 * The secret vault contract: the envelope vault over each adapter's store. Run against SQLite always, and
 * against MongoDB when MONGODB_URL is set. `open` gives an empty store (a fresh file, a fresh database).
 * Each test uses subjects of its own, so they share one store (the rotation test counts keys: its own store).
 */
export function secretVaultContract(
  adapterName: string,
  open: () => Promise<VaultKeyStore>,
  /** Rewrites a stored secret's bytes in place, behind the store's back (an attacker with write access). */
  overwrite: (store: VaultKeyStore, secret: StoredSecret) => Promise<void>,
): void {
  describe(`secret vault contract: ${adapterName}`, () => {
    let store: VaultKeyStore;
    const kek1 = kekEntry(1);
    const vaultWith = (keks: string) => new EnvelopeVault(store, ConfiguredKeyEncryptionKeys.parse(keks), clock);
    const subject = () => `u-${randomUUID()}`;

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('opens what it sealed; the reference is opaque (neither the plaintext nor the subject)', async () => {
      const vault = vaultWith(kek1);
      const who = subject();
      const card = '6222020000000000018';
      const reference = await vault.seal(who, 'card-number', text(card));
      expect(reference).toMatch(/^vref_[0-9a-f-]{36}$/);
      expect(reference).not.toContain(card);
      expect(reference).not.toContain(who);
      expect(clear(await vault.open(reference))).toBe(card);
      const second = await vault.seal(who, 'id-number', text('TEST00000000000001'));
      expect(second).not.toBe(reference);
      expect(clear(await vault.open(second))).toBe('TEST00000000000001');
      expect(clear(await vault.open(await vault.seal(who, 'empty', new Uint8Array())))).toBe('');
    });

    it('two first seals of one subject at once agree on one data key: both open', async () => {
      const vault = vaultWith(kek1);
      const who = subject();
      const references = await Promise.all(
        Array.from({ length: 8 }, (_, i) => vault.seal(who, 'card-number', text(`card-${i}`))),
      );
      expect((await Promise.all(references.map((r) => vault.open(r)))).map(clear)).toEqual(
        Array.from({ length: 8 }, (_, i) => `card-${i}`),
      );
    });

    it('throws on a reference it never issued', async () => {
      const vault = vaultWith(kek1);
      await expect(vault.open(`vref_${randomUUID()}`)).rejects.toBeInstanceOf(VaultReferenceUnknown);
      await expect(vault.open('not-a-reference')).rejects.toBeInstanceOf(VaultReferenceUnknown);
    });

    it('binds a ciphertext to its reference, subject and purpose: a copy moved to another does not open', async () => {
      const vault = vaultWith(kek1);
      const [who, other] = [subject(), subject()];
      const reference = await vault.seal(who, 'card-number', text('6222020000000000018'));
      await vault.seal(other, 'card-number', text('something of the other subject'));
      const secret = (await store.getSecret(reference))!;
      const moves = [
        { ...secret, reference: `vref_${randomUUID()}` },
        { ...secret, reference: `vref_${randomUUID()}`, subjectId: other },
        { ...secret, reference: `vref_${randomUUID()}`, purpose: 'id-number' },
      ];
      for (const moved of moves) {
        await store.putSecret(moved);
        await expect(vault.open(moved.reference)).rejects.toBeInstanceOf(VaultIntegrityError);
      }
      expect(clear(await vault.open(reference))).toBe('6222020000000000018');
    });

    it('detects a ciphertext, nonce or tag changed in place (same reference, subject and purpose)', async () => {
      const vault = vaultWith(kek1);
      const who = subject();
      const flip = (bytes: Buffer, at: number) => {
        const copy = Buffer.from(bytes);
        copy[at] = copy[at]! ^ 0x01;
        return copy;
      };
      const tamperings: ((s: StoredSecret) => Partial<StoredSecret>)[] = [
        (s) => ({ sealed: flip(s.sealed, 0) }),
        (s) => ({ sealed: flip(s.sealed, s.sealed.length - 1) }),
        (s) => ({ nonce: flip(s.nonce, 3) }),
        (s) => ({ sealed: s.sealed.subarray(0, 10) }),
      ];
      for (const tamper of tamperings) {
        const reference = await vault.seal(who, 'card-number', text('6222020000000000018'));
        const original = (await store.getSecret(reference))!;
        const changed = { ...original, ...tamper(original) };
        await overwrite(store, changed);
        expect(await store.getSecret(reference)).toEqual(changed);
        await expect(vault.open(reference)).rejects.toBeInstanceOf(VaultIntegrityError);
      }
    });

    it('forgets a subject: its ciphertexts stay and answer erased, forever; idempotent; others untouched', async () => {
      const vault = vaultWith(kek1);
      const [who, other] = [subject(), subject()];
      const references = [
        await vault.seal(who, 'card-number', text('6222020000000000018')),
        await vault.seal(who, 'real-name', text('Test Holder One')),
      ];
      const kept = await vault.seal(other, 'card-number', text('6217000000000000012'));
      expect(await vault.isForgotten(who)).toBe(false);
      await vault.forget(who, 'erasure request #1');
      await vault.forget(who, 'erasure request #2');
      expect(await vault.isForgotten(who)).toBe(true);
      for (const reference of references) {
        expect(await store.getSecret(reference)).not.toBeNull();
        expect(await vault.open(reference)).toBe('erased');
      }
      expect((await store.getDataKey(who))!.wrappedKey).toBeNull();
      await expect(vault.seal(who, 'card-number', text('x'))).rejects.toBeInstanceOf(VaultSubjectErased);
      expect(clear(await vault.open(kept))).toBe('6217000000000000012');
      // A subject never seen can be forgotten too (nothing sealed later for it).
      const unseen = subject();
      await vault.forget(unseen, 'erasure before any data');
      await expect(vault.seal(unseen, 'card-number', text('x'))).rejects.toBeInstanceOf(VaultSubjectErased);
    });

    it('rotates the KEK in bounded, resumable batches; afterwards the new KEK alone opens everything', async () => {
      const own = await open();
      try {
        const vaultOver = (keks: string) => new EnvelopeVault(own, ConfiguredKeyEncryptionKeys.parse(keks), clock);
        const oldKek = kekEntry(1);
        const before = vaultOver(oldKek);
        const sealed = new Map<string, string>();
        for (let i = 0; i < 5; i++)
          sealed.set(await before.seal(subject(), 'card-number', text(`card-${i}`)), `card-${i}`);
        const forgotten = subject();
        const erased = await before.seal(forgotten, 'card-number', text('gone'));
        await before.forget(forgotten, 'erased before the rotation');
        const ciphertextsBefore = await Promise.all([...sealed.keys()].map((r) => own.getSecret(r)));
        const newKek = kekEntry(2);
        const during = vaultOver(`${oldKek},${newKek}`);
        expect(await during.rewrapDataKeys(2)).toEqual({ rewrapped: 2, remaining: 3, currentKekVersion: 2 });
        // Mid-rotation (a crash here loses nothing) everything opens, whichever KEK wraps it.
        for (const [reference, value] of sealed) expect(clear(await during.open(reference))).toBe(value);
        expect(await during.rewrapDataKeys(2)).toEqual({ rewrapped: 2, remaining: 1, currentKekVersion: 2 });
        expect(await during.rewrapDataKeys(2)).toEqual({ rewrapped: 1, remaining: 0, currentKekVersion: 2 });
        expect(await during.rewrapDataKeys(2)).toEqual({ rewrapped: 0, remaining: 0, currentKekVersion: 2 });
        const after = vaultOver(newKek);
        for (const [reference, value] of sealed) expect(clear(await after.open(reference))).toBe(value);
        expect(await after.open(erased)).toBe('erased');
        // The data was not touched: only the data keys were rewrapped.
        expect(await Promise.all([...sealed.keys()].map((r) => own.getSecret(r)))).toEqual(ciphertextsBefore);
        // The old KEK alone opens nothing any more.
        await expect(before.open([...sealed.keys()][0]!)).rejects.toBeInstanceOf(VaultIntegrityError);
        // New subjects' keys are wrapped under the current KEK.
        const fresh = await after.seal(subject(), 'card-number', text('new'));
        expect(clear(await after.open(fresh))).toBe('new');
      } finally {
        await own.close();
      }
    });

    it('does not open with a wrong KEK', async () => {
      const vault = vaultWith(kek1);
      const reference = await vault.seal(subject(), 'card-number', text('6222020000000000018'));
      await expect(vaultWith(kekEntry(1)).open(reference)).rejects.toBeInstanceOf(VaultIntegrityError);
      // A version the configuration no longer has.
      await expect(vaultWith(kekEntry(7)).open(reference)).rejects.toBeInstanceOf(VaultIntegrityError);
    });

    it('refuses what is over its limits', async () => {
      const vault = vaultWith(kek1);
      await expect(vault.seal(subject(), 'card-number', new Uint8Array(MAX_VAULT_PLAINTEXT_BYTES + 1))).rejects.toThrow(
        RangeError,
      );
      await expect(vault.seal('', 'card-number', text('x'))).rejects.toThrow(RangeError);
      await expect(vault.seal('x'.repeat(129), 'card-number', text('x'))).rejects.toThrow(RangeError);
      await expect(vault.seal(subject(), 'Card Number!', text('x'))).rejects.toThrow(RangeError);
      await expect(vault.forget(subject(), '')).rejects.toThrow(RangeError);
      await expect(vault.rewrapDataKeys(0)).rejects.toThrow(RangeError);
      await expect(vault.rewrapDataKeys(1_001)).rejects.toThrow(RangeError);
    });
  });
}
