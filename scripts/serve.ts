import type { LedgerConfig } from '../src/config.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import { startLedgerService } from '../src/adapters/ledger-service.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

export async function serve(config: LedgerConfig): Promise<void> {
  const service = await startLedgerService(config, {
    onProjectionError: (error) => console.error('projection runner stopped:', error),
  });
  const app = await buildHttpServer(service, { logger: { level: config.logLevel } });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Stop taking requests and finish those in flight, then stop projections and close the stores:
    // every acknowledged command is already durable, so nothing is lost.
    await app.close();
    await service.close();
    app.log.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    {
      eventStore: service.eventStore.engine,
      readModels: service.readModels.engine,
      dataDir:
        service.eventStore.engine === 'sqlite' || service.readModels.engine === 'sqlite' ? config.dataDir : undefined,
      accountingTimeZone: config.accountingTimeZone,
    },
    'ledger ready: API docs at /docs, OpenAPI at /openapi.json',
  );
}
