import { join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import { CARD_FINGERPRINT_KEY_FILE } from './crypto/card-fingerprints.js';
import { VAULT_KEK_FILE_NAME } from './crypto/configured-key-encryption-keys.js';
import { TRANSIT_KEY_FILE } from './crypto/transit-keyring.js';
import {
  EVENTS_FILE,
  NONCES_FILE,
  READ_MODELS_FILE,
  SNAPSHOTS_FILE,
  STATEMENTS_FILE,
  VAULT_FILE,
  WEBHOOK_OUTBOX_FILE,
} from './storage.js';
import { WEBHOOK_KEY_FILE } from './webhooks/webhook-secrets.js';

/** One file of the embedded default: its name in a backup, and where it lives for this configuration. */
export interface EmbeddedFile {
  readonly name: string;
  readonly path: string;
}

type FilesConfig = Pick<LedgerConfig, 'dataDir' | 'vault'>;

/**
 * Every SQLite store of the embedded default, in the order a backup copies them. Each file is copied at
 * its own instant, so the order is what keeps the copies consistent with each other: the event log is
 * the source of truth, and what is derived from it is copied BEFORE it, so a derived store is never
 * ahead of the copied log:
 *   - read models (their checkpoints then name positions the copied log holds: on restore each catches up
 *     from its checkpoint; a model copied ahead of the log would skip the positions the restored service
 *     appends next, as already applied);
 *   - snapshots (a snapshot ahead of the log would carry state of events the copy does not hold);
 *   - the webhook outbox (a message ahead of the log would announce an event the copy does not hold);
 *   - nonces (their own file only beside EventStoreDB; with the embedded log they are in its file).
 * Then the log. Then what the log refers to, copied AFTER it so it holds at least what the log needs:
 *   - the vault (events refer to sealed card and identity records by id: one missing would be a card
 *     that can no longer be charged);
 *   - the channels' stored statements (each import records an event naming the statement).
 */
export function embeddedStoreFiles(config: FilesConfig): EmbeddedFile[] {
  const inDataDir = (name: string): EmbeddedFile => ({ name, path: join(config.dataDir, name) });
  return [
    inDataDir(READ_MODELS_FILE),
    inDataDir(SNAPSHOTS_FILE),
    inDataDir(WEBHOOK_OUTBOX_FILE),
    inDataDir(NONCES_FILE),
    inDataDir(EVENTS_FILE),
    { name: VAULT_FILE, path: config.vault.sqliteFile ?? join(config.dataDir, VAULT_FILE) },
    inDataDir(STATEMENTS_FILE),
  ];
}

/** The embedded stores this configuration opens: those of an engine configured elsewhere are not its files. */
export function storeFilesInUse(
  config: FilesConfig & Pick<LedgerConfig, 'eventStoreUrl' | 'mongoUrl'>,
): EmbeddedFile[] {
  const remote = new Set<string>([
    ...(config.eventStoreUrl ? [EVENTS_FILE, SNAPSHOTS_FILE] : []),
    ...(config.mongoUrl ? [READ_MODELS_FILE, WEBHOOK_OUTBOX_FILE, NONCES_FILE, VAULT_FILE, STATEMENTS_FILE] : []),
  ]);
  return embeddedStoreFiles(config).filter((file) => !remote.has(file.name));
}

/**
 * The keys the embedded default generates beside its data when none is configured. A backup without them
 * would restore a vault nobody can open, card fingerprints that match nothing and transit credentials refused. A key configured outside
 * DATA_DIR (VAULT_KEK_FILE, VAULT_KEK, CARD_FINGERPRINT_KEY, WEBHOOK_SECRET_KEY, TRANSIT_SIGNING_KEY) is the operator's to keep.
 */
export function generatedKeyFiles(config: FilesConfig): EmbeddedFile[] {
  return [WEBHOOK_KEY_FILE, CARD_FINGERPRINT_KEY_FILE, VAULT_KEK_FILE_NAME, TRANSIT_KEY_FILE].map((name) => ({
    name,
    path: join(config.dataDir, name),
  }));
}
