import cliProgress from 'cli-progress';
import type { LedgerConfig } from '../src/config.js';
import { rebuildReadModelsInBulk } from '../src/adapters/bulk-rebuild.js';
import { openEventStore, openReadModelStore } from '../src/adapters/storage.js';
import { projectionsFor } from '../src/projections/all-projections.js';
import type { Projection } from '../src/projections/projection.js';
import { lockEmbeddedStore, requireEmbeddedStore, requireEvents } from './store-guards.js';

/** What a rebuild read, counted as `ledger audit verify` counts: events, the streams they belong to, the last position. */
export interface RebuildSummary {
  readonly projections: readonly string[];
  readonly events: number;
  readonly streams: number;
  readonly lastPosition: bigint | 'start';
}

/**
 * Rebuilds the chosen read models from event zero in bulk mode (src/adapters/bulk-rebuild.ts): each
 * projection in a worker thread of its own, into a staging area swapped in once complete, so the live read
 * models stay whole until then, and a crash mid-rebuild leaves them as they were. The documents are the
 * ones a live runner would have built, byte for byte. It refuses a DATA_DIR that holds no ledger, and
 * refuses to run while a service holds the store (the DATA_DIR lock): a live runner would keep writing
 * the read models being replaced.
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
    if (lock) await freeLeasesLeftBehind(config);
    // The builders open their own connections: this one finds the head they read through.
    const eventStore = await openEventStore(config);
    let head: bigint | 'start';
    try {
      await requireEvents(eventStore, config);
      head = await eventStore.headPosition();
    } finally {
      await eventStore.close();
    }
    if (head === 'start') throw new Error('the event store lost its events while the rebuild started');
    const bar = new cliProgress.SingleBar(
      {
        format: 'rebuild {projections} [{bar}] {percentage}% | {events} events | {rate} events/s',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const startedAt = Date.now();
    bar.start(Number(head), 0, { projections: chosen.map((p) => p.name).join(','), events: 0, rate: 0 });
    let tally: Awaited<ReturnType<typeof rebuildReadModelsInBulk>>;
    try {
      tally = await rebuildReadModelsInBulk({
        config,
        projections: chosen,
        through: head,
        onProgress: (position) => {
          const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
          // Positions, not events: the log's positions include records no read model reads.
          bar.update(Number(position), { events: Number(position), rate: Math.round(Number(position) / seconds) });
        },
      });
      bar.update(Number(head));
    } finally {
      bar.stop();
    }
    await recordVersions(config, chosen);
    const summary: RebuildSummary = {
      projections: chosen.map((p) => p.name),
      events: tally.events,
      streams: tally.streams,
      // The builders read the log through the head (its last ledger event may come before it).
      lastPosition: tally.lastPosition === 'start' || tally.lastPosition < head ? head : tally.lastPosition,
    };
    console.log(
      `rebuilt ${summary.projections.join(', ')}: replayed ${summary.events} events in ${summary.streams} streams ` +
        `through position ${String(summary.lastPosition)} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    return summary;
  } finally {
    lock?.release();
  }
}

/** The rebuilt read models are this code's: the next start finds their versions current (nothing to rebuild online). */
async function recordVersions(config: LedgerConfig, rebuilt: readonly Projection[]): Promise<void> {
  const readModels = await openReadModelStore(config);
  try {
    for (const projection of rebuilt) await readModels.recordProjectionVersion(projection.name, projection.version);
  } finally {
    await readModels.close();
  }
}

/**
 * Under the exclusive DATA_DIR lock no service is running (every one holds the lock shared), so a
 * projections lease still held in the store was left by one that was killed: freed here, the next
 * service takes it at once instead of waiting out its TTL. Tokens are kept, so they still only grow.
 */
export async function freeLeasesLeftBehind(config: LedgerConfig): Promise<void> {
  const readModels = await openReadModelStore(config);
  try {
    await readModels.freeAllLeases();
  } finally {
    await readModels.close();
  }
}
