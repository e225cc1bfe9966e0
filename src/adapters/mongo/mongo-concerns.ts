import {
  ReadPreference,
  type Collection,
  type CollectionOptions,
  type Db,
  type Document,
  type TransactionOptions,
} from 'mongodb';

/**
 * The durability every read and write of the ledger's MongoDB data asks for, whatever the URL or the
 * server's defaults say (on a replica set with an arbiter the default write concern is w:1, and the default
 * read concern `local` returns writes a failover may roll back):
 *   - writes: acknowledged by a majority of data-bearing members, journaled. An acknowledged batch, its
 *     checkpoint, or a nonce claim survives the loss of the primary;
 *   - reads: majority-committed data only, from the primary. Checkpoints (read-your-writes waits on them),
 *     documents read before a write (a projection's read-modify-write) and nonce read-backs never see a
 *     write that is later rolled back, nor one a lagging secondary does not have yet.
 * Reporting tools that may read stale data can query secondaries directly; the service never does.
 */
/**
 * How long a write waits for a majority to confirm it. Without a bound a write blocks for as long as a
 * majority is unreachable; with it the write fails as "unknown" (a write concern error) and is retried.
 */
export const WRITE_CONCERN_TIMEOUT_MS = 10_000;
export const MAJORITY_WRITE_CONCERN = { w: 'majority', journal: true, wtimeoutMS: WRITE_CONCERN_TIMEOUT_MS } as const;
export const MAJORITY_READ_CONCERN = { level: 'majority' } as const;

export const DURABLE_COLLECTION_OPTIONS: CollectionOptions = {
  writeConcern: MAJORITY_WRITE_CONCERN,
  readConcern: MAJORITY_READ_CONCERN,
  readPreference: ReadPreference.PRIMARY,
};

/** Inside a transaction its own concerns apply (the driver drops the collections'). */
export const DURABLE_TRANSACTION_OPTIONS: TransactionOptions = {
  writeConcern: MAJORITY_WRITE_CONCERN,
  readConcern: MAJORITY_READ_CONCERN,
  readPreference: ReadPreference.PRIMARY,
};

export function durableCollection<T extends Document>(db: Db, name: string): Collection<T> {
  return db.collection<T>(name, DURABLE_COLLECTION_OPTIONS);
}

/** The database named in a connection URL's path, if any. */
export function databaseNameOf(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/i.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}
