import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfiguredKeyEncryptionKeys } from '../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../src/adapters/crypto/envelope-vault.js';
import { SqliteVaultStore } from '../src/adapters/sqlite/sqlite-vault-store.js';
import { systemClock } from '../src/adapters/system-clock.js';
import { extraFigure, log, nowMs, withTempDir, type BenchmarkOptions, type Figure } from './harness.js';

/**
 * The vault's seals/s and opens/s on the embedded store (its own SQLite file, WAL, synchronous=FULL: each
 * seal is one durable commit, the first of a subject two, its data key and its secret), one at a time as
 * a request does. Subjects seal SEALS_PER_SUBJECT values each (a card number, a name, an ID number, a
 * phone), so a quarter of the seals create a data key. Opens read back every reference in random order
 * (the subject's data key unwrapped under the KEK each time: nothing is cached in clear).
 *
 * Baseline, same run, same plaintexts: raw AES-256-GCM with node:crypto, one key, a random nonce each,
 * encrypt and decrypt in memory: the cryptography alone, without the store, the key unwrap or the AAD.
 * No target: the seal is bound by the disk's fsync, the baseline by the CPU; the ratio says how much of a
 * seal is the cryptography (very little).
 */
export const name = 'vault';

const SIZES = { full: { seals: 20_000 }, quick: { seals: 2_000 } } as const;
const SEALS_PER_SUBJECT = 4;
const PURPOSES = ['card-number', 'real-name', 'id-number', 'phone'] as const;
const RAW_ROUNDS = 200_000;

function plaintextOf(i: number): Uint8Array {
  // Card-number-sized values (19 bytes), different for each seal.
  return new TextEncoder().encode(`62220200${String(i).padStart(11, '0')}`);
}

function rawAesGcm(rounds: number): { encryptsPerSecond: number; decryptsPerSecond: number } {
  const key = randomBytes(32);
  const sealed: { nonce: Buffer; body: Buffer; tag: Buffer }[] = [];
  let started = nowMs();
  for (let i = 0; i < rounds; i += 1) {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const body = Buffer.concat([cipher.update(plaintextOf(i)), cipher.final()]);
    sealed.push({ nonce, body, tag: cipher.getAuthTag() });
  }
  const encryptsPerSecond = rounds / ((nowMs() - started) / 1_000);
  started = nowMs();
  for (const { nonce, body, tag } of sealed) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(tag);
    Buffer.concat([decipher.update(body), decipher.final()]);
  }
  return { encryptsPerSecond, decryptsPerSecond: rounds / ((nowMs() - started) / 1_000) };
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { seals } = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir('vault', async (dir) => {
    const keks = ConfiguredKeyEncryptionKeys.parse(`1:${randomBytes(32).toString('base64')}`);
    const vault = new EnvelopeVault(new SqliteVaultStore(join(dir, 'vault.sqlite')), keks, systemClock);
    try {
      const references: string[] = [];
      let started = nowMs();
      for (let i = 0; i < seals; i += 1) {
        const subject = `u-${Math.floor(i / SEALS_PER_SUBJECT)}`;
        references.push(await vault.seal(subject, PURPOSES[i % SEALS_PER_SUBJECT]!, plaintextOf(i)));
      }
      const sealsPerSecond = seals / ((nowMs() - started) / 1_000);
      log(name, `${seals} seals at ${sealsPerSecond.toFixed(0)}/s`);
      // Every reference once, in a shuffled order (Fisher-Yates): no locality a real load would not have.
      for (let i = references.length - 1; i > 0; i -= 1) {
        const j = Math.floor(Math.random() * (i + 1));
        [references[i], references[j]] = [references[j]!, references[i]!];
      }
      started = nowMs();
      for (const reference of references) {
        if ((await vault.open(reference)) === 'erased') throw new Error('a sealed value answered erased');
      }
      const opensPerSecond = references.length / ((nowMs() - started) / 1_000);
      log(name, `${references.length} opens at ${opensPerSecond.toFixed(0)}/s`);
      const raw = rawAesGcm(options.quick ? RAW_ROUNDS / 10 : RAW_ROUNDS);
      log(
        name,
        `raw AES-256-GCM: ${raw.encryptsPerSecond.toFixed(0)} encrypts/s, ${raw.decryptsPerSecond.toFixed(0)} decrypts/s`,
      );
      return [
        extraFigure({
          name: 'vault-seals',
          value: sealsPerSecond,
          unit: 'seals/s',
          baseline: 'raw AES-256-GCM encrypts/s (node:crypto, in memory)',
          baselineValue: raw.encryptsPerSecond,
        }),
        extraFigure({
          name: 'vault-opens',
          value: opensPerSecond,
          unit: 'opens/s',
          baseline: 'raw AES-256-GCM decrypts/s (node:crypto, in memory)',
          baselineValue: raw.decryptsPerSecond,
        }),
        extraFigure({ name: 'vault-sealed-values', value: seals, unit: 'values' }),
      ];
    } finally {
      await vault.close();
    }
  });
}
