import { decodeEvent } from '../../domain/event-catalogue.js';
import type { EventStore } from '../../ports/event-store.js';
import { accountStreamId } from './open-account-handler.js';
import { evictOldest } from '../../domain/shared/evict-oldest.js';

/** Owners kept in memory; an account's owner never changes, so an entry never goes stale. */
export const MAX_CACHED_ACCOUNT_OWNERS = 100_000;

/**
 * Who owns an account, for authorisation ("a merchant may act on its own accounts"). Read from the
 * account's first event, AccountOpened, in the event store rather than the balances read model, so an
 * account opened a moment ago is already known (the read model may lag behind).
 */
export class AccountOwners {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly eventStore: EventStore,
    private readonly maxCached = MAX_CACHED_ACCOUNT_OWNERS,
  ) {}

  /** The owner's entity id; undefined when no such account exists. */
  async ownerOf(accountId: string): Promise<string | undefined> {
    const cached = this.owners.get(accountId);
    if (cached !== undefined) return cached;
    for await (const recorded of this.eventStore.readStream(accountStreamId(accountId), { maxCount: 1 })) {
      const event = decodeEvent(recorded.type, recorded.data);
      if (event.type !== 'AccountOpened') throw new Error(`account ${accountId} does not start with AccountOpened`);
      this.owners.set(accountId, event.data.ownerId);
      evictOldest(this.owners, this.maxCached);
      return event.data.ownerId;
    }
    return undefined;
  }
}
