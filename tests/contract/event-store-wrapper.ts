import type {
  AllSubscription,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
} from '../../src/ports/event-store.js';

/** An event store around another one that changes how appends behave; reads and subscriptions pass through. */
export abstract class EventStoreWrapper implements EventStore {
  readonly engine: EventStore['engine'];

  constructor(protected readonly inner: EventStore) {
    this.engine = inner.engine;
  }

  abstract appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult>;

  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<bigint | 'start'> {
    return this.inner.headPosition();
  }

  subscribeToAll(options: SubscribeOptions): AllSubscription {
    return this.inner.subscribeToAll(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
