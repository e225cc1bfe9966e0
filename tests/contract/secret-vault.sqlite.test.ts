import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ConfiguredKeyEncryptionKeys } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../../src/adapters/crypto/envelope-vault.js';
import { SqliteVaultStore } from '../../src/adapters/sqlite/sqlite-vault-store.js';
import { secretVaultContract } from './secret-vault.contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-vault-')), 'vault.sqlite');
const files = new WeakMap<object, string>();

secretVaultContract(
  'sqlite (embedded)',
  () => {
    const file = freshFile();
    const store = new SqliteVaultStore(file);
    files.set(store, file);
    return Promise.resolve(store);
  },
  (store, secret) => {
    const file = files.get(store);
    if (file === undefined) throw new Error('not a store of this suite');
    const raw = new Database(file);
    raw
      .prepare('UPDATE vault_secrets SET nonce = ?, sealed = ? WHERE reference = ?')
      .run(secret.nonce, secret.sealed, secret.reference);
    raw.close();
    return Promise.resolve();
  },
);

describe('sqlite vault store', () => {
  const clock = { now: () => DateTime.fromISO('2026-12-01T10:00:00.000Z', { zone: 'utc' }) };

  it('keeps no plaintext and no data key in clear in its files, and survives a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-vault-'));
    const file = join(dir, 'vault.sqlite');
    const keks = ConfiguredKeyEncryptionKeys.parse(`1:${Buffer.alloc(32, 7).toString('base64')}`);
    const card = '6222020000000000018';
    const idNumber = 'TEST00000000000001';
    const vault = new EnvelopeVault(new SqliteVaultStore(file), keks, clock);
    const references = [];
    for (let i = 0; i < 50; i++) {
      references.push(await vault.seal(`u-${i}`, 'card-number', new TextEncoder().encode(card)));
      references.push(await vault.seal(`u-${i}`, 'id-number', new TextEncoder().encode(idNumber)));
    }
    const onDisk = () => Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
    for (const needle of [card, idNumber, keks.current().key.toString('base64')]) {
      expect(onDisk().includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(onDisk().includes(Buffer.from(needle, 'utf16le'))).toBe(false);
    }
    expect(onDisk().includes(keks.current().key)).toBe(false);
    await vault.close();
    const reopened = new EnvelopeVault(new SqliteVaultStore(file), keks, clock);
    expect(new TextDecoder().decode((await reopened.open(references[0]!)) as Uint8Array)).toBe(card);
    await reopened.close();
  });
});
