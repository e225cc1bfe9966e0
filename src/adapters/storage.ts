import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import type { EventStore } from '../ports/event-store.js';
import type { NonceRegistry } from '../ports/nonce-registry.js';
import type { InstanceRegistry } from '../ports/instance-registry.js';
import type { ReadModelStore } from '../ports/read-model-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { WebhookOutboxStore } from '../ports/webhook-outbox.js';
import type { VaultKeyStore } from '../ports/secret-vault.js';
import type { StatementStore } from '../ports/statement-store.js';
import type { ConsoleSessionStore } from '../ports/console-session-store.js';
import { SqliteConsoleSessionStore } from './sqlite/sqlite-console-session-store.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';
import { EventStoreNonceRegistry } from './sqlite/event-store-nonce-registry.js';
import { SqliteNonceRegistry } from './sqlite/sqlite-nonce-registry.js';
import { SqliteInstanceRegistry } from './sqlite/sqlite-instance-registry.js';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store.js';
import { SqliteSnapshotStore } from './sqlite/sqlite-snapshot-store.js';
import { SqliteWebhookOutbox } from './sqlite/sqlite-webhook-outbox.js';
import { SqliteVaultStore } from './sqlite/sqlite-vault-store.js';
import { SqliteStatementStore } from './sqlite/sqlite-statement-store.js';

/** File names of the embedded default under DATA_DIR. */
export const EVENTS_FILE = 'events.sqlite';
export const READ_MODELS_FILE = 'read-models.sqlite';
export const NONCES_FILE = 'nonces.sqlite';
export const SNAPSHOTS_FILE = 'snapshots.sqlite';
export const WEBHOOK_OUTBOX_FILE = 'webhook-outbox.sqlite';
export const VAULT_FILE = 'vault.sqlite';
export const STATEMENTS_FILE = 'recon.sqlite';
export const INSTANCES_FILE = 'instances.sqlite';
export const CONSOLE_SESSIONS_FILE = 'console-sessions.sqlite';

// The production clients (gRPC, the MongoDB driver) are loaded only when configured: the embedded
// default starts fast and never pays for them.

/** EventStoreDB when EVENTSTORE_URL is set, else the embedded SQLite file. */
export async function openEventStore(
  config: Pick<LedgerConfig, 'eventStoreUrl' | 'dataDir'>,
  sqliteOptions: SqliteEventStoreOptions = {},
): Promise<EventStore> {
  if (config.eventStoreUrl) {
    const { EsdbEventStore } = await import('./esdb/esdb-event-store.js');
    return EsdbEventStore.connect(config.eventStoreUrl);
  }
  return new SqliteEventStore(join(config.dataDir, EVENTS_FILE), sqliteOptions);
}

/** MongoDB when MONGODB_URL is set, else the embedded SQLite file. */
export async function openReadModelStore(config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir'>): Promise<ReadModelStore> {
  if (config.mongoUrl) {
    const { MongoReadModelStore } = await import('./mongo/mongo-read-model-store.js');
    return MongoReadModelStore.connect(config.mongoUrl);
  }
  return new SqliteReadModelStore(join(config.dataDir, READ_MODELS_FILE));
}

/**
 * MongoDB when MONGODB_URL is set (shared by every instance; majority, journaled writes: durable when
 * acknowledged); else, beside the embedded event store, in its file and its group commits (durable before
 * the request runs, no fsync of its own); else (EventStoreDB without MongoDB) its own SQLite file.
 */
export async function openNonceRegistry(
  config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir'>,
  eventStore?: EventStore,
): Promise<NonceRegistry> {
  if (config.mongoUrl) {
    const { MongoNonceRegistry } = await import('./mongo/mongo-nonce-registry.js');
    return MongoNonceRegistry.connect(config.mongoUrl);
  }
  if (eventStore instanceof SqliteEventStore) return new EventStoreNonceRegistry(eventStore);
  return new SqliteNonceRegistry(join(config.dataDir, NONCES_FILE));
}

/**
 * Where the service instances record their heartbeats: the embedded file under DATA_DIR whenever the event
 * store is embedded (every instance sharing it is on this host, so the file's OS locks also tell a dead
 * process at once), MongoDB when the event store is remote and MONGODB_URL is set (instances on any
 * host), else the embedded file (EventStoreDB without MongoDB: instances share DATA_DIR, as for nonces).
 */
export async function openInstanceRegistry(
  config: Pick<LedgerConfig, 'eventStoreUrl' | 'mongoUrl' | 'dataDir'>,
): Promise<InstanceRegistry> {
  if (config.eventStoreUrl && config.mongoUrl) {
    const { MongoInstanceRegistry } = await import('./mongo/mongo-instance-registry.js');
    return MongoInstanceRegistry.connect(config.mongoUrl);
  }
  return new SqliteInstanceRegistry(join(config.dataDir, INSTANCES_FILE));
}

/** Beside the event store: companion `$snapshot-` streams on EventStoreDB, else a sibling SQLite file. */
export async function openSnapshotStore(
  config: Pick<LedgerConfig, 'eventStoreUrl' | 'dataDir'>,
): Promise<SnapshotStore> {
  if (config.eventStoreUrl) {
    const { EsdbSnapshotStore } = await import('./esdb/esdb-snapshot-store.js');
    return EsdbSnapshotStore.connect(config.eventStoreUrl);
  }
  return new SqliteSnapshotStore(join(config.dataDir, SNAPSHOTS_FILE));
}

/** MongoDB when MONGODB_URL is set (shared by every instance), else its own SQLite file under DATA_DIR. */
export async function openWebhookOutbox(
  config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir'>,
): Promise<WebhookOutboxStore> {
  if (config.mongoUrl) {
    const { MongoWebhookOutbox } = await import('./mongo/mongo-webhook-outbox.js');
    return MongoWebhookOutbox.connect(config.mongoUrl);
  }
  return new SqliteWebhookOutbox(join(config.dataDir, WEBHOOK_OUTBOX_FILE));
}

/**
 * The vault's store: MongoDB when MONGODB_URL is set (collections of the production database), else its
 * own SQLite file (VAULT_SQLITE_FILE, default DATA_DIR/vault.sqlite), never the event store's: the log is
 * exported and audited whole, the vault never leaves its store.
 */
export async function openVaultStore(
  config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir' | 'vault'>,
): Promise<VaultKeyStore> {
  if (config.mongoUrl) {
    const { MongoVaultStore } = await import('./mongo/mongo-vault-store.js');
    return MongoVaultStore.connect(config.mongoUrl);
  }
  return new SqliteVaultStore(config.vault.sqliteFile ?? join(config.dataDir, VAULT_FILE));
}

/** The channels' normalised statements: MongoDB when MONGODB_URL is set, else their own SQLite file. */
export async function openStatementStore(config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir'>): Promise<StatementStore> {
  if (config.mongoUrl) {
    const { MongoStatementStore } = await import('./mongo/mongo-statement-store.js');
    return MongoStatementStore.connect(config.mongoUrl);
  }
  return new SqliteStatementStore(join(config.dataDir, STATEMENTS_FILE));
}

/** The web console's sessions: MongoDB when MONGODB_URL is set (shared by every instance), else DATA_DIR's file. */
export async function openConsoleSessionStore(
  config: Pick<LedgerConfig, 'mongoUrl' | 'dataDir'>,
): Promise<ConsoleSessionStore> {
  if (config.mongoUrl) {
    const { MongoConsoleSessionStore } = await import('./mongo/mongo-console-session-store.js');
    return MongoConsoleSessionStore.connect(config.mongoUrl);
  }
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteConsoleSessionStore(join(config.dataDir, CONSOLE_SESSIONS_FILE));
}
