import { parentPort, workerData } from 'node:worker_threads';
import { projectionsFor } from '../projections/all-projections.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import type { FromProjectionWorker, ProjectionWorkerData, ToProjectionWorker } from './projection-worker-host.js';
import { openEventStore, openReadModelStore } from './storage.js';

/**
 * The projection worker thread (see projection-worker-host.ts): a ProjectionRunner over its own
 * connections to the stores, reporting each checkpoint it writes to the request thread.
 */

/**
 * The embedded store's live subscription sees the request thread's appends by polling (they are another
 * connection's): every 5 ms, one indexed query, so a read-your-writes wait is not held up 50 ms.
 */
const LIVE_POLL_INTERVAL_MS = 5;

const port = parentPort;
if (!port) throw new Error('projection-worker.ts runs as a worker thread');
const { config } = workerData as ProjectionWorkerData;
const send = (message: FromProjectionWorker): void => port.postMessage(message);

const eventStore = await openEventStore(config, { livePollIntervalMs: LIVE_POLL_INTERVAL_MS });
const readModels = await openReadModelStore(config);
const projections = projectionsFor(config.accountingTimeZone);
const runner = new ProjectionRunner(eventStore, readModels, projections, {
  onError: (error) => send({ kind: 'error', error: cloneable(error) }),
  onCheckpoint: (projection, position) => send({ kind: 'checkpoint', projection, position }),
});
await runner.start();

port.on('message', (message: ToProjectionWorker) => {
  switch (message.kind) {
    case 'flush':
      runner.requestFlush();
      break;
    case 'stop':
      void (async () => {
        await runner.stop();
        // What the request thread committed before stopping is applied too (bounded by the host's stop
        // timeout; anything left is applied by the next start: the writes are idempotent).
        await runner.catchUp();
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
