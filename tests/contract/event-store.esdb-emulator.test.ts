import { EsdbEventStore } from '../../src/adapters/esdb/esdb-event-store.js';
import { EsdbServerEmulator } from '../support/esdb-server-emulator.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The event store contract against the EventStoreDB adapter over an emulation of the server's rules
 * (tests/support/esdb-server-emulator.ts): the adapter's own decisions where the server behaves worse than
 * SQLite. Not a substitute for the real-engine run (event-store.esdb.test.ts, when EVENTSTORE_URL is set).
 */
const server = new EsdbServerEmulator();
eventStoreContract('esdb adapter over the server emulator', () =>
  EsdbEventStore.over(server.client(), 'emulated-esdb'),
);
