import { decodeEvent } from '../../domain/event-catalogue.js';
import type { EntityEvent } from '../../domain/entities/entity-events.js';
import {
  evolveEntity,
  initialEntityState,
  type EntityState,
  type RegisteredEntity,
} from '../../domain/entities/entity-state.js';
import type { EventStore } from '../../ports/event-store.js';
import { entityStreamId } from './entity-stream.js';
import { evictOldest } from '../../domain/shared/evict-oldest.js';

export interface EntityDirectoryOptions {
  /** Entities kept in memory; the least recently used beyond this are dropped. */
  readonly maxEntities: number;
  /**
   * How old a cached entity may be before a lookup reads the events written since (by another process).
   * The upper bound on how long a key revoked through another instance still works here.
   */
  readonly refreshAfterMs: number;
}

export const DEFAULT_DIRECTORY_OPTIONS: EntityDirectoryOptions = { maxEntities: 10_000, refreshAfterMs: 5_000 };

interface Entry {
  readonly state: RegisteredEntity;
  /** Last stream revision folded into `state`. */
  readonly revision: bigint;
  readonly loadedAtMs: number;
}

/**
 * Entities as request authentication needs them: every signed request looks up its key, so the state
 * is served from memory. A command handled in this process drops the entry at once (so a key revoked
 * here stops working here immediately: the next lookup reads the revocation); an entry older than
 * `refreshAfterMs` is brought up to date by reading only the events after its revision. Unknown
 * entities are not cached, so requests naming made-up ids cannot push real ones out.
 */
export class EntityDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshing = new Map<string, Promise<RegisteredEntity | undefined>>();
  /** Bumped by every `forget`: a read that started before a forget must not store what it read. */
  private generation = 0;

  constructor(
    private readonly eventStore: EventStore,
    private readonly options: EntityDirectoryOptions = DEFAULT_DIRECTORY_OPTIONS,
    private readonly monotonicNowMs: () => number = () => performance.now(),
  ) {}

  async get(entityId: string): Promise<RegisteredEntity | undefined> {
    const entry = this.entries.get(entityId);
    if (entry && this.monotonicNowMs() - entry.loadedAtMs < this.options.refreshAfterMs) {
      this.touch(entityId, entry);
      return entry.state;
    }
    // One read per entity at a time, however many requests arrive for it meanwhile.
    const pending = this.refreshing.get(entityId);
    if (pending) return pending;
    const refresh = this.refresh(entityId, entry).finally(() => this.refreshing.delete(entityId));
    this.refreshing.set(entityId, refresh);
    return refresh;
  }

  /** Records a state just read in full from the event store at `revision`. */
  remember(entityId: string, state: EntityState, revision: bigint): void {
    if (!state.exists) return;
    const current = this.entries.get(entityId);
    if (current && current.revision > revision) return;
    this.touch(entityId, { state, revision, loadedAtMs: this.monotonicNowMs() });
  }

  /** Drops what is known about an entity: called after every command on it in this process. */
  forget(entityId: string): void {
    this.generation += 1;
    this.entries.delete(entityId);
    this.refreshing.delete(entityId);
  }

  private async refresh(entityId: string, cached: Entry | undefined): Promise<RegisteredEntity | undefined> {
    const loadedAtMs = this.monotonicNowMs();
    const generation = this.generation;
    let state: EntityState = cached?.state ?? initialEntityState();
    let revision = cached?.revision ?? -1n;
    for await (const recorded of this.eventStore.readStream(entityStreamId(entityId), {
      fromRevision: revision + 1n,
    })) {
      state = evolveEntity(state, decodeEvent(recorded.type, recorded.data) as EntityEvent);
      revision = recorded.revision;
    }
    if (!state.exists) return undefined;
    // Something was forgotten while we read: what we read may predate it, so answer with it (it was
    // current when this lookup began) but do not keep it.
    if (generation !== this.generation) return state;
    const newer = this.entries.get(entityId);
    if (newer && newer.revision > revision) return newer.state;
    this.touch(entityId, { state, revision, loadedAtMs });
    return state;
  }

  private touch(entityId: string, entry: Entry): void {
    this.entries.delete(entityId);
    this.entries.set(entityId, entry);
    evictOldest(this.entries, this.options.maxEntities);
  }
}
