import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  ConfiguredKeyEncryptionKeys,
  VAULT_KEK_FILE_NAME,
} from '../src/adapters/crypto/configured-key-encryption-keys.js';
import { EnvelopeVault } from '../src/adapters/crypto/envelope-vault.js';
import { openVaultStore } from '../src/adapters/storage.js';
import { systemClock } from '../src/adapters/system-clock.js';
import { loadConfig, type LedgerConfig } from '../src/config.js';
import { DEFAULT_REWRAP_BATCH, MAX_REWRAP_BATCH, type KekRotationProgress } from '../src/ports/secret-vault.js';

/** Batches one run rewraps at most: a vault of 10^8 subjects at the largest batch. */
const MAX_BATCHES = 100_000;

/**
 * `ledger vault rotate-kek`: rewraps every data key still under an older KEK onto the current one (the
 * highest version configured), in batches, printing progress; the ciphertexts are not touched. Safe while
 * services run (each rewrap is a compare-and-set on the key's KEK version) and resumable: run it again
 * after an interruption. Done when it prints `remaining 0`: only then remove the old KEK entry.
 */
export async function rotateKek(
  config: LedgerConfig,
  batchSize: number,
  print: (line: string) => void = console.log,
): Promise<KekRotationProgress> {
  if (
    config.vault.kek === undefined &&
    config.vault.kekFile === undefined &&
    !existsSync(join(config.dataDir, VAULT_KEK_FILE_NAME))
  )
    throw new Error(`no KEK configured: set VAULT_KEK or VAULT_KEK_FILE (or DATA_DIR's ${VAULT_KEK_FILE_NAME})`);
  const keks = ConfiguredKeyEncryptionKeys.load({ ...config.vault, dataDir: config.dataDir });
  const vault = new EnvelopeVault(await openVaultStore(config), keks, systemClock);
  try {
    print(`KEK versions configured: ${keks.versions().join(', ')}; current ${keks.current().version}`);
    let progress = await vault.rewrapDataKeys(batchSize);
    let total = progress.rewrapped;
    for (let batch = 1; progress.remaining > 0 && progress.rewrapped > 0 && batch < MAX_BATCHES; batch += 1) {
      print(`rewrapped ${total}, remaining ${progress.remaining}`);
      progress = await vault.rewrapDataKeys(batchSize);
      total += progress.rewrapped;
    }
    print(`rewrapped ${total}, remaining ${progress.remaining}`);
    // A batch that rewrapped nothing with keys left: they are under a KEK no longer configured, or raced.
    if (progress.remaining > 0)
      throw new Error(
        `${progress.remaining} data keys are still under an older KEK: run again (keep the old KEK configured)`,
      );
    return progress;
  } finally {
    await vault.close();
  }
}

function batchSize(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_REWRAP_BATCH)
    throw new InvalidArgumentError(`a batch is 1 to ${MAX_REWRAP_BATCH} data keys`);
  return parsed;
}

export function vaultCommand(): Command {
  const vault = new Command('vault').description('The vault of card and identity data');
  vault
    .command('rotate-kek')
    .description(
      'Rewrap every data key onto the current (highest-version) KEK, without touching the data; resumable. Remove the old KEK only after "remaining 0"',
    )
    .option('--batch <n>', `data keys per batch (1 to ${MAX_REWRAP_BATCH})`, batchSize, DEFAULT_REWRAP_BATCH)
    .action(async (options: { batch: number }) => {
      await rotateKek(loadConfig(), options.batch);
    });
  return vault;
}
