import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfiguredKeyEncryptionKeys } from '../../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../../src/adapters/crypto/envelope-vault.js';
import { openVaultStore } from '../../src/adapters/storage.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { loadConfig } from '../../src/config.js';
import { VaultIntegrityError } from '../../src/ports/secret-vault.js';
import { rotateKek } from '../../scripts/vault.js';

describe('ledger vault rotate-kek', () => {
  it('rewraps every data key onto the new KEK in batches; then the old KEK can go', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-rotate-'));
    const kekFile = join(mkdtempSync(join(tmpdir(), 'ledger-kek-')), 'vault.kek');
    const [old, next] = [`1:${randomBytes(32).toString('base64')}`, `2:${randomBytes(32).toString('base64')}`];
    writeFileSync(kekFile, `${old}\n`, { mode: 0o600 });
    const config = loadConfig({ DATA_DIR: dataDir, VAULT_KEK_FILE: kekFile });
    const vaultUnder = async (keks: string) =>
      new EnvelopeVault(await openVaultStore(config), ConfiguredKeyEncryptionKeys.parse(keks), systemClock);
    const before = await vaultUnder(old);
    const sealed: string[] = [];
    for (let i = 0; i < 7; i++)
      sealed.push(await before.seal(`u-${i}`, 'card-number', new TextEncoder().encode(`card-${i}`)));
    await before.close();

    writeFileSync(kekFile, `${old}\n${next}\n`, { mode: 0o600 });
    const lines: string[] = [];
    expect(await rotateKek(config, 3, (line) => lines.push(line))).toEqual({
      rewrapped: 1,
      remaining: 0,
      currentKekVersion: 2,
    });
    expect(lines).toEqual([
      'KEK versions configured: 2, 1; current 2',
      'rewrapped 3, remaining 4',
      'rewrapped 6, remaining 1',
      'rewrapped 7, remaining 0',
    ]);
    // Run again: nothing left to do.
    expect((await rotateKek(config, 3, () => {})).remaining).toBe(0);

    const after = await vaultUnder(next);
    for (const [i, reference] of sealed.entries())
      expect(new TextDecoder().decode((await after.open(reference)) as Uint8Array)).toBe(`card-${i}`);
    await after.close();
    const stale = await vaultUnder(old);
    await expect(stale.open(sealed[0]!)).rejects.toBeInstanceOf(VaultIntegrityError);
    await stale.close();
  });

  it('refuses to run with no KEK configured rather than generate one', async () => {
    const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'ledger-rotate-')) });
    await expect(rotateKek(config, 10, () => {})).rejects.toThrow(/no KEK configured/);
  });
});
