import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockStore, type StoreLock, type StoreLockMode } from '../src/adapters/sqlite/store-lock.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../src/adapters/storage.js';
import type { LedgerConfig } from '../src/config.js';
import type { EventStore } from '../src/ports/event-store.js';

/**
 * The guards the command line puts around the store: it is there, it holds events, and no process that
 * must not run beside this one holds it (see src/adapters/sqlite/store-lock.ts).
 *
 * Tools that read a ledger (`audit`, `rebuild`) refuse to run on nothing: opening the embedded store
 * creates it, and a mistyped DATA_DIR would otherwise become a fresh, empty ledger reported as
 * "0 events, intact".
 */
export class NoStoreError extends Error {
  override readonly name = 'NoStoreError';
}

type StoreConfig = Pick<LedgerConfig, 'dataDir' | 'eventStoreUrl' | 'mongoUrl'>;

/** Throws NoStoreError unless the embedded files this tool reads are already there (checked before opening them). */
export function requireEmbeddedStore(config: StoreConfig, needs: { readModels: boolean; events?: boolean }): void {
  const files = [
    ...(config.eventStoreUrl || needs.events === false ? [] : [EVENTS_FILE]),
    ...(needs.readModels && !config.mongoUrl ? [READ_MODELS_FILE] : []),
  ];
  const missing = files.filter((file) => !existsSync(join(config.dataDir, file)));
  if (missing.length > 0) {
    throw new NoStoreError(
      `DATA_DIR ${resolve(config.dataDir)} holds no ledger (no ${missing.join(', ')}): set DATA_DIR to the service's data folder`,
    );
  }
}

/** Throws NoStoreError when the opened event store holds no event at all: there is nothing to check or replay. */
export async function requireEvents(eventStore: EventStore, config: StoreConfig): Promise<void> {
  if ((await eventStore.headPosition()) !== 'start') return;
  const where = config.eventStoreUrl
    ? 'the EventStoreDB at EVENTSTORE_URL'
    : `the event store in DATA_DIR ${resolve(config.dataDir)}`;
  throw new NoStoreError(`${where} holds no events: nothing to check or replay`);
}

/**
 * Takes the DATA_DIR lock when any embedded file is in use (the lock lives beside them); undefined when
 * both engines are remote, where a local file cannot see instances on other hosts.
 */
export function lockEmbeddedStore(config: StoreConfig, mode: StoreLockMode): StoreLock | undefined {
  return config.eventStoreUrl && config.mongoUrl ? undefined : lockStore(config.dataDir, mode);
}
