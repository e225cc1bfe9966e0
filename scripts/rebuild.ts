import cliProgress from 'cli-progress';
import type { LedgerConfig } from '../src/config.js';
import { projectionsFor } from '../src/adapters/ledger-service.js';
import { openEventStore, openReadModelStore } from '../src/adapters/storage.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';

/**
 * Drops the chosen read models and replays them from event zero. Run it while the service is stopped:
 * the result is the same documents a live runner would have built, byte for byte.
 */
export async function rebuildProjections(config: LedgerConfig, names?: readonly string[]): Promise<void> {
  const PROJECTIONS = projectionsFor(config.accountingTimeZone);
  const chosen = names && names.length > 0 ? PROJECTIONS.filter((p) => names.includes(p.name)) : PROJECTIONS;
  const unknown = (names ?? []).filter((name) => !PROJECTIONS.some((p) => p.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown projection(s): ${unknown.join(', ')}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`,
    );

  const eventStore = await openEventStore(config);
  const readModels = await openReadModelStore(config);
  try {
    const runner = new ProjectionRunner(eventStore, readModels, chosen, { maxBatchEvents: 5_000 });
    await runner.prepare();
    for (const projection of chosen) {
      await readModels.resetProjection(
        projection.name,
        projection.collections.map((c) => c.name),
      );
    }
    const head = await eventStore.headPosition();
    const bar = new cliProgress.SingleBar(
      { format: 'rebuild {projections} [{bar}] {percentage}% | {events} events | {rate} events/s', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const total = head === 'start' ? 1 : Number(head);
    const startedAt = Date.now();
    bar.start(total, 0, { projections: chosen.map((p) => p.name).join(','), events: 0, rate: 0 });
    const applied = await runner.catchUp((position, events) => {
      const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
      bar.update(Number(position), { events, rate: Math.round(events / seconds) });
    });
    bar.update(total);
    bar.stop();
    console.log(
      `rebuilt ${chosen.map((p) => p.name).join(', ')} from ${applied} events in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  } finally {
    await eventStore.close();
    await readModels.close();
  }
}
