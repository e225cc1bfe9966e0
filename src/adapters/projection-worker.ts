import { parentPort, workerData } from 'node:worker_threads';
import { projectionsFor } from '../projections/all-projections.js';
import { LeasedProjections, leaseTimingFor } from '../projections/leased-projections.js';
import { RebuildRefusedError } from '../projections/online-rebuild.js';
import { onlineRebuildAreaFor } from './online-rebuild-area.js';
import type { FromProjectionWorker, ProjectionWorkerData, ToProjectionWorker } from './projection-worker-host.js';
import { openEventStore, openReadModelStore } from './storage.js';

/**
 * The projection worker thread (see projection-worker-host.ts): the projections, under the projections
 * lease (LeasedProjections), over their own connections to the stores, reporting each checkpoint they
 * write to the request thread.
 */

/**
 * The embedded store's live subscription sees the request thread's appends by polling (they are another
 * connection's): every 5 ms, one indexed query, so a read-your-writes wait is not held up 50 ms.
 */
const LIVE_POLL_INTERVAL_MS = 5;

const port = parentPort;
if (!port) throw new Error('projection-worker.ts runs as a worker thread');
const { config, holder } = workerData as ProjectionWorkerData;
const send = (message: FromProjectionWorker): void => port.postMessage(message);

const eventStore = await openEventStore(config, { livePollIntervalMs: LIVE_POLL_INTERVAL_MS });
const readModels = await openReadModelStore(config);
const projections = projectionsFor(config.accountingTimeZone);
const live = new LeasedProjections(eventStore, readModels, projections, {
  holder,
  timing: leaseTimingFor(config.projectionLeaseTtlMs),
  onError: (error) => send({ kind: 'error', error: cloneable(error) }),
  onCheckpoint: (projection, position) => send({ kind: 'checkpoint', projection, position }),
  onLeaseChange: (grant, reason) =>
    send({ kind: 'lease', token: grant?.token ?? null, ...(reason === undefined ? {} : { reason }) }),
  rebuildArea: onlineRebuildAreaFor(config, readModels),
  rebuildBatchEvents: config.onlineRebuildBatchEvents,
  onRebuildStatus: (status) => send({ kind: 'rebuild-status', status }),
});
await live.start();

port.on('message', (message: ToProjectionWorker) => {
  switch (message.kind) {
    case 'flush':
      live.requestFlush();
      break;
    case 'rebuild':
      live.rebuild(message.projections).then(
        (status) => send({ kind: 'rebuild-answer', requestId: message.requestId, status }),
        (error: unknown) =>
          send({
            kind: 'rebuild-answer',
            requestId: message.requestId,
            refused:
              error instanceof RebuildRefusedError
                ? { code: error.code, message: error.message }
                : { code: 'projections_not_held', message: String(error) },
          }),
      );
      break;
    case 'stop':
      void (async () => {
        // The holder writes what it applied and what the request thread committed before stopping (bounded
        // by the host's stop timeout; anything left is applied by the next holder: the writes are
        // idempotent), then releases the lease.
        await live.stop();
        await Promise.all([eventStore.close(), readModels.close()]);
        port.close();
      })();
      break;
  }
});
send({
  kind: 'ready',
  checkpoints: await Promise.all(
    projections.map(async (p) => [p.name, await readModels.getCheckpoint(p.name)] as const),
  ),
});

/** Errors cross threads by structured clone; anything that would not survive it goes as its text. */
function cloneable(error: unknown): unknown {
  try {
    structuredClone(error);
    return error;
  } catch {
    return new Error(String(error));
  }
}
