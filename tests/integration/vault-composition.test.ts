import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VAULT_KEK_FILE_NAME } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { ConfiguredKeyEncryptionKeys } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { CardFingerprints } from '../../src/adapters/crypto/card-fingerprints.js';
import { VAULT_FILE } from '../../src/adapters/storage.js';
import { checkVaultKeysShared, ConfigError, loadConfig } from '../../src/config.js';
import { startTestLedger } from '../support/test-ledger.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'ledger-vault-composition-'));
const kek = (version: number) => `${version}:${randomBytes(32).toString('base64')}`;

describe('the vault in the service', () => {
  it('embedded default: a KEK file generated under DATA_DIR (0600, one warning), the vault in its own file', async () => {
    const dataDir = freshDir();
    const warnings: string[] = [];
    const ledger = await startTestLedger(dataDir, {}, { service: { onKeyGenerated: (m) => warnings.push(m) } });
    const reference = await ledger.service.vault.seal(
      'u-1',
      'card-number',
      new TextEncoder().encode('6222020000000000018'),
    );
    await ledger.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(dataDir, VAULT_KEK_FILE_NAME));
    expect(statSync(join(dataDir, VAULT_KEK_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toContain(VAULT_FILE);
    // A restart reads the same KEK: what was sealed opens, and no new key (no warning) is made.
    const again = await startTestLedger(dataDir, {}, { service: { onKeyGenerated: (m) => warnings.push(m) } });
    expect(new TextDecoder().decode((await again.service.vault.open(reference)) as Uint8Array)).toBe(
      '6222020000000000018',
    );
    await again.close();
    expect(warnings).toHaveLength(1);
    // Nothing in clear in any file of DATA_DIR (the log, the read models, the vault).
    const everything = Buffer.concat(readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name))));
    expect(everything.includes(Buffer.from('6222020000000000018'))).toBe(false);
  });

  it('VAULT_KEK_FILE, versioned: the highest version is current', async () => {
    const dataDir = freshDir();
    const file = join(freshDir(), 'vault.kek');
    writeFileSync(file, `# rotated 2026-12-01\n${kek(1)}\n${kek(2)}\n`, { mode: 0o600 });
    const ledger = await startTestLedger(dataDir, { VAULT_KEK_FILE: file });
    const reference = await ledger.service.vault.seal('u-1', 'card-number', new TextEncoder().encode('x'));
    expect(await ledger.service.vault.rewrapDataKeys()).toEqual({ rewrapped: 0, remaining: 0, currentKekVersion: 2 });
    expect(await ledger.service.vault.open(reference)).toEqual(new TextEncoder().encode('x'));
    await ledger.close();
    expect(readdirSync(dataDir)).not.toContain(VAULT_KEK_FILE_NAME);
  });

  it('refuses to start with shared stores and no KEK or fingerprint key, naming the variable', () => {
    const shared = { MONGODB_URL: 'mongodb://db:27017/ledger' };
    expect(() => checkVaultKeysShared(loadConfig(shared))).toThrow(ConfigError);
    expect(() => checkVaultKeysShared(loadConfig(shared))).toThrow(/VAULT_KEK or VAULT_KEK_FILE: required/);
    expect(() => checkVaultKeysShared(loadConfig({ EVENTSTORE_URL: 'esdb://db:2113', VAULT_KEK: kek(1) }))).toThrow(
      /CARD_FINGERPRINT_KEY: required/,
    );
    const key = randomBytes(32).toString('base64');
    expect(() =>
      checkVaultKeysShared(loadConfig({ ...shared, VAULT_KEK: kek(1), CARD_FINGERPRINT_KEY: key })),
    ).not.toThrow();
    expect(() => checkVaultKeysShared(loadConfig({}))).not.toThrow();
    expect(() => loadConfig({ VAULT_KEK: kek(1), VAULT_KEK_FILE: '/x' })).toThrow(/not both/);
  });

  it('refuses a malformed KEK without echoing its bytes', () => {
    const short = `1:${randomBytes(16).toString('base64')}`;
    expect(() => ConfiguredKeyEncryptionKeys.parse(short)).toThrow(/entry 1: a KEK is 32 bytes/);
    try {
      ConfiguredKeyEncryptionKeys.parse(short);
    } catch (error) {
      expect((error as Error).message).not.toContain(short.slice(2));
    }
    expect(() => ConfiguredKeyEncryptionKeys.parse(`${kek(1)},${kek(1)}`)).toThrow(/listed twice/);
    expect(() => ConfiguredKeyEncryptionKeys.parse('')).toThrow(/no KEK/);
    expect(() => ConfiguredKeyEncryptionKeys.parse('0:' + randomBytes(32).toString('base64'))).toThrow(/start at 1/);
  });

  it('fingerprints cards with its key: equal cards alike, other keys or cards differ, never the number', () => {
    const key = randomBytes(32);
    const fingerprints = CardFingerprints.load(key, freshDir());
    const card = '6222020000000000018';
    expect(fingerprints.of(card)).toBe(CardFingerprints.load(key, freshDir()).of(card));
    expect(fingerprints.of(card)).toMatch(/^cfp1_[A-Za-z0-9_-]{43}$/);
    expect(fingerprints.of(card)).not.toBe(fingerprints.of('6222020000000000026'));
    expect(fingerprints.of(card)).not.toBe(CardFingerprints.load(randomBytes(32), freshDir()).of(card));
    expect(() => fingerprints.of('6222 0200 0000 0000 018')).toThrow(RangeError);
    // The embedded default: a key file made once, read back after.
    const dir = freshDir();
    expect(CardFingerprints.load(undefined, dir).of(card)).toBe(CardFingerprints.load(undefined, dir).of(card));
    expect(statSync(join(dir, 'card-fingerprint.key')).mode & 0o777).toBe(0o600);
  });
});
