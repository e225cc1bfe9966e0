import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  NO_STREAM,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
} from '@eventstore/db-client';
import type { JsonObject } from '../../domain/shared/json.js';
import {
  snapshotFromJson,
  snapshotToJson,
  UnreadableSnapshotError,
  type SnapshotStore,
  type StoredSnapshot,
} from '../../ports/snapshot-store.js';

/**
 * Snapshots on EventStoreDB: each snapshotted stream `<stream>` has a companion stream
 * `$snapshot-<stream>` whose last event is its latest snapshot. The companion's metadata says
 * `$maxCount: SNAPSHOTS_KEPT`, so the server keeps only the last few and scavenging reclaims the rest.
 *
 * Why a `$` stream: EventStoreDB reserves `$` for system streams, and the event store adapter leaves
 * every `$` stream out of `$all` reads and subscriptions (src/adapters/esdb/esdb-event-store.ts), so
 * snapshots never reach the projections, the audits or `headPosition`. The price is an ACL: system streams
 * are `$admins`-only by default, so the ledger's user needs read and write on them (docs/production.md).
 *
 * `save` reads the latest snapshot first and appends only when it is not at a later revision: saves one
 * after another never go back; two processes racing may leave the older one last (harmless: more events
 * to read). The metadata is written when the companion stream does not exist yet, expecting no metadata,
 * so it is written once and never overrides an operator's.
 */
export const SNAPSHOT_STREAM_PREFIX = '$snapshot-';
/** Snapshots the server keeps per stream: the latest, and the one before while a reader may hold it. */
export const SNAPSHOTS_KEPT = 2;
export const SNAPSHOT_EVENT_TYPE = 'StreamSnapshot';

export class EsdbSnapshotStore implements SnapshotStore {
  readonly engine = 'esdb' as const;
  private closed = false;

  private constructor(private readonly client: EventStoreDBClient) {}

  /** Connects lazily: the event store's own connect has already shown the server answers. */
  static connect(connectionString: string): EsdbSnapshotStore {
    return new EsdbSnapshotStore(EventStoreDBClient.connectionString(connectionString));
  }

  async save(snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    const data = JSON.parse(snapshotToJson(snapshot)) as JsonObject;
    const stream = snapshotStreamOf(snapshot.streamId);
    let latest: StoredSnapshot | undefined | 'unreadable';
    try {
      latest = await this.load(snapshot.streamId);
    } catch (error) {
      if (!(error instanceof UnreadableSnapshotError)) throw error;
      latest = 'unreadable';
    }
    if (latest !== undefined && latest !== 'unreadable' && latest.revision > snapshot.revision) return;
    if (latest === undefined) await this.limitKept(stream);
    await this.client.appendToStream(stream, jsonEvent({ type: SNAPSHOT_EVENT_TYPE, data }), {
      expectedRevision: ANY,
    });
  }

  async load(streamId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    const read = this.client.readStream(snapshotStreamOf(streamId), {
      direction: BACKWARDS,
      fromRevision: END,
      maxCount: 1,
    });
    let last;
    try {
      // Read to the end (one event at most), never returning mid-read: a read left unfinished keeps its
      // gRPC call open, and the client's dispose() then waits for it.
      for await (const resolved of read) last = resolved.event ?? last;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    if (last === undefined) return undefined;
    if (last.type !== SNAPSHOT_EVENT_TYPE || !last.isJson)
      throw new UnreadableSnapshotError(`the last event of ${snapshotStreamOf(streamId)} is not a snapshot`);
    return snapshotFromJson(streamId, last.data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.dispose();
  }

  private async limitKept(stream: string): Promise<void> {
    try {
      await this.client.setStreamMetadata(stream, { maxCount: SNAPSHOTS_KEPT }, { expectedRevision: NO_STREAM });
    } catch (error) {
      // Metadata is already there (an earlier save, or an operator's): leave it as it is.
      if (!(error instanceof WrongExpectedVersionError)) throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('snapshot store is closed');
  }
}

export function snapshotStreamOf(streamId: string): string {
  return `${SNAPSHOT_STREAM_PREFIX}${streamId}`;
}
