import { describe } from 'vitest';
import { EsdbEventStore } from '../../src/adapters/esdb/esdb-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The event store contract against EventStoreDB. Runs when EVENTSTORE_URL is set (see docker-compose.yml,
 * e.g. esdb://localhost:2113?tls=false); otherwise reported as skipped, without connecting.
 */
const url = process.env['EVENTSTORE_URL'];

describe.skipIf(!url)('EventStoreDB (EVENTSTORE_URL)', () => {
  eventStoreContract('esdb', () => EsdbEventStore.connect(url!));
});
