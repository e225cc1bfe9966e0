import cliProgress from 'cli-progress';
import type { LedgerConfig } from '../src/config.js';
import { projectionsFor } from '../src/adapters/ledger-service.js';
import { openEventStore, openReadModelStore } from '../src/adapters/storage.js';
import type { EventStore } from '../src/ports/event-store.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import { lockEmbeddedStore, requireEmbeddedStore, requireEvents } from './store-guards.js';

/** What a rebuild read, counted as `ledger audit verify` counts: events, the streams they belong to, the last position. */
export interface RebuildSummary {
  readonly projections: readonly string[];
  readonly events: number;
  readonly streams: number;
  readonly lastPosition: bigint | 'start';
}

/**
 * Drops the chosen read models and replays them from event zero: the result is the same documents a
 * live runner would have built, byte for byte. It refuses a DATA_DIR that holds no ledger, and refuses
 * to run while a service holds the store (the DATA_DIR lock): a live runner would keep writing the read
 * models being dropped.
 */
export async function rebuildProjections(config: LedgerConfig, names?: readonly string[]): Promise<RebuildSummary> {
  const PROJECTIONS = projectionsFor(config.accountingTimeZone);
  const chosen = names && names.length > 0 ? PROJECTIONS.filter((p) => names.includes(p.name)) : PROJECTIONS;
  const unknown = (names ?? []).filter((name) => !PROJECTIONS.some((p) => p.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown projection(s): ${unknown.join(', ')}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`,
    );

  requireEmbeddedStore(config, { readModels: false });
  const lock = lockEmbeddedStore(config, 'exclusive');
  try {
    const eventStore = await openEventStore(config);
    try {
      await requireEvents(eventStore, config);
      const readModels = await openReadModelStore(config);
      try {
        const tally = { events: 0, streams: new Set<string>(), lastPosition: 'start' as bigint | 'start' };
        const runner = new ProjectionRunner(countingReads(eventStore, tally), readModels, chosen, {
          maxBatchEvents: 5_000,
        });
        await runner.prepare();
        for (const projection of chosen) {
          await readModels.resetProjection(
            projection.name,
            projection.collections.map((c) => c.name),
          );
        }
        const head = await eventStore.headPosition();
        const bar = new cliProgress.SingleBar(
          {
            format: 'rebuild {projections} [{bar}] {percentage}% | {events} events | {rate} events/s',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        const total = head === 'start' ? 1 : Number(head);
        const startedAt = Date.now();
        bar.start(total, 0, { projections: chosen.map((p) => p.name).join(','), events: 0, rate: 0 });
        await runner.catchUp((position, events) => {
          const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
          bar.update(Number(position), { events, rate: Math.round(events / seconds) });
        });
        bar.update(total);
        bar.stop();
        const summary: RebuildSummary = {
          projections: chosen.map((p) => p.name),
          events: tally.events,
          streams: tally.streams.size,
          // The runner read the log through the head (its last ledger event may come before it).
          lastPosition:
            head !== 'start' && (tally.lastPosition === 'start' || tally.lastPosition < head)
              ? head
              : tally.lastPosition,
        };
        console.log(
          `rebuilt ${summary.projections.join(', ')}: replayed ${summary.events} events in ${summary.streams} streams ` +
            `through position ${String(summary.lastPosition)} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
        );
        return summary;
      } finally {
        await readModels.close();
      }
    } finally {
      await eventStore.close();
    }
  } finally {
    lock?.release();
  }
}

/**
 * The event store as the runner sees it, counting each event it reads and the distinct streams (one
 * entry per stream, as `audit verify` keeps): the runner reads only the streams read models use, so
 * idempotency records are not among them, and `audit verify`'s count is higher by exactly those.
 */
function countingReads(
  eventStore: EventStore,
  tally: { events: number; streams: Set<string>; lastPosition: bigint | 'start' },
): EventStore {
  return {
    engine: eventStore.engine,
    appendToStream: (streamId, events, expectedRevision) =>
      eventStore.appendToStream(streamId, events, expectedRevision),
    readStream: (streamId, options) => eventStore.readStream(streamId, options),
    async readAll(options) {
      const page = await eventStore.readAll(options);
      for (const event of page) {
        tally.events += 1;
        tally.streams.add(event.streamId);
        tally.lastPosition = event.position;
      }
      return page;
    },
    headPosition: () => eventStore.headPosition(),
    subscribeToAll: (options) => eventStore.subscribeToAll(options),
    close: () => eventStore.close(),
  };
}
