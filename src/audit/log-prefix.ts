import type {
  AllSubscription,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
} from '../ports/event-store.js';

/**
 * A read-only view of an event store that ends at `lastPosition` ('start': an empty log). Handing it
 * to a ProjectionRunner makes `catchUp()` stop exactly there, which is how an audit rebuilds read
 * models as of a stored checkpoint without changing the runner. Appends are refused; closing the view
 * leaves the underlying store open for its owner to close.
 */
export function logPrefix(eventStore: EventStore, lastPosition: bigint | 'start'): EventStore {
  const included = (event: RecordedEvent): boolean => lastPosition !== 'start' && event.position <= lastPosition;
  return {
    engine: eventStore.engine,
    async appendToStream(streamId: string): Promise<AppendResult> {
      throw new Error(`the audit's view of the log is read-only: refused an append to ${streamId}`);
    },
    async *readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
      for await (const event of eventStore.readStream(streamId, options)) {
        if (included(event)) yield event;
        // Forwards, a stream's positions only grow: nothing after this one is included either.
        else if (options?.direction !== 'backwards') return;
      }
    },
    async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
      if (lastPosition === 'start' || (options.after !== 'start' && options.after >= lastPosition)) return [];
      return (await eventStore.readAll(options)).filter(included);
    },
    async headPosition(): Promise<bigint | 'start'> {
      const head = await eventStore.headPosition();
      if (head === 'start' || lastPosition === 'start') return 'start';
      return head < lastPosition ? head : lastPosition;
    },
    subscribeToAll(options: SubscribeOptions): AllSubscription {
      const inner = eventStore.subscribeToAll(options);
      const endsBeforeStart = lastPosition === 'start' || (options.after !== 'start' && options.after >= lastPosition);
      async function* upToLastPosition(): AsyncGenerator<RecordedEvent> {
        if (endsBeforeStart) return;
        // Leaving the loop early returns the inner iterator, which ends the inner subscription.
        for await (const event of inner) {
          if (!included(event)) return;
          yield event;
        }
      }
      const iterator = upToLastPosition();
      return { [Symbol.asyncIterator]: () => iterator, close: () => inner.close() };
    },
    async close(): Promise<void> {
      // The view owns nothing: the underlying store stays open for whoever opened it.
    },
  };
}
