import type { NonceRegistry } from '../../ports/nonce-registry.js';
import type { SqliteEventStore } from './sqlite-event-store.js';

/**
 * The embedded nonce registry beside the embedded event store: nonces live in the event store's file and
 * are claimed in its group commits (SqliteEventStore.claimNonce), synchronous=FULL. A claimed nonce is
 * thus durable before the command it authorises runs, so a crash (even a power cut) never forgets one
 * inside the replay window, and it costs no fsync of its own: it shares the commit of the appends beside
 * it. Several processes sharing the file share the nonces (the primary key decides a race).
 *
 * The event store owns the connection: closing this registry leaves it open.
 */
export class EventStoreNonceRegistry implements NonceRegistry {
  readonly engine = 'sqlite' as const;

  constructor(private readonly eventStore: SqliteEventStore) {}

  claim(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    return this.eventStore.claimNonce(keyId, nonce, expiresAt);
  }

  async purgeExpired(now: Date, maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
    return this.eventStore.purgeExpiredNonces(now, maxRows);
  }

  async close(): Promise<void> {
    // The event store's connection: closed with the event store.
  }
}
