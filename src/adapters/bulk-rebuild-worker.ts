import { parentPort, workerData } from 'node:worker_threads';
import { projectionsFor } from '../projections/all-projections.js';
import { rebuildProjectionsInBulk } from '../projections/bulk-rebuild.js';
import { openStaging, type BulkRebuildWorkerData, type FromBulkRebuildWorker } from './bulk-rebuild.js';
import { openEventStore } from './storage.js';

/**
 * One worker of a bulk rebuild (see bulk-rebuild.ts): its projections, its own connections to the event
 * store and the staging area, reporting its progress and what it read to the rebuilding thread.
 */

const port = parentPort;
if (!port) throw new Error('bulk-rebuild-worker.ts runs as a worker thread');
const job = workerData as BulkRebuildWorkerData;
const send = (message: FromBulkRebuildWorker): void => port.postMessage(message);

try {
  const known = projectionsFor(job.config.accountingTimeZone);
  const projections = job.projections.map((name) => {
    const projection = known.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection: ${name}`);
    return projection;
  });
  const eventStore = await openEventStore(job.config);
  try {
    const staging = await openStaging(job.staging);
    try {
      const tally = await rebuildProjectionsInBulk(eventStore, staging, projections, {
        through: job.through,
        limits: job.limits,
        countStreams: job.countStreams,
        onProgress: (position) => send({ kind: 'progress', position }),
      });
      send({ kind: 'done', tally });
    } finally {
      await staging.close();
    }
  } finally {
    await eventStore.close();
  }
} catch (error) {
  send({ kind: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
