import { once } from 'node:events';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { LedgerConfig } from '../src/config.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import { storeFilesInUse } from '../src/adapters/embedded-files.js';
import { requireSoundStoreFiles } from '../src/adapters/sqlite/integrity-check.js';
import { lockEmbeddedStore } from './store-guards.js';

/** Exit code of `ledger serve` refusing a damaged store file (CorruptStoreError); any other failed start exits 1. */
export const SERVE_EXIT_STORE_DAMAGED = 3;

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * Runs the service until SIGINT/SIGTERM. Fails (and the CLI exits non-zero) when it cannot start:
 * a rebuild holds DATA_DIR, storage is unreachable or unwritable, the port is taken. Whatever it had
 * opened by then is closed first: the SQLite files and the DATA_DIR lock are released.
 */
export async function serve(config: LedgerConfig): Promise<void> {
  // Before anything is created: a taken port must not leave a fresh DATA_DIR holding empty stores.
  await ensureCanListen(config);
  // Shared: several services may share the embedded store, but no rebuild may run beside them.
  const lock = lockEmbeddedStore(config, 'shared');
  try {
    // Before anything opens them: a damaged file is refused whole, never served (PRAGMA quick_check).
    requireSoundStoreFiles(storeFilesInUse(config));
  } catch (error) {
    lock?.release();
    throw error;
  }
  let service: LedgerService | undefined;
  let app: FastifyInstance | undefined;
  const release = async () => {
    try {
      await app?.close();
      await service?.close();
    } finally {
      lock?.release();
    }
  };
  try {
    service = await startLedgerService(config, {
      onProjectionError: (error) => console.error('projection runner stopped:', error),
    });
    app = await buildHttpServer(service, { logger: { level: config.logLevel } });
  } catch (error) {
    await release();
    throw error;
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // The port was free when checked, and taken since: the stores stay (closed), as after any failed start.
    await release();
    throw cannotListen(config, error);
  }
  const log = app.log;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: finishing requests in flight');
    const timer = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Stop taking requests and finish those in flight, then stop projections and close the stores:
    // every acknowledged command is already durable, so nothing is lost.
    await release();
    log.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  log.info(
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

/**
 * Binds the port and lets it go at once, so a taken or forbidden port fails the start before any store or
 * lock file is created. Port 0 (any free port) cannot be taken, so it is not checked.
 */
async function ensureCanListen(config: Pick<LedgerConfig, 'host' | 'port'>): Promise<void> {
  if (config.port === 0) return;
  const probe = createServer();
  try {
    probe.listen({ port: config.port, host: config.host, exclusive: true });
    await once(probe, 'listening');
  } catch (error) {
    throw cannotListen(config, error);
  } finally {
    if (probe.listening) await new Promise((closed) => probe.close(closed));
  }
}

function cannotListen(config: Pick<LedgerConfig, 'host' | 'port'>, error: unknown): Error {
  return new Error(`cannot listen on ${config.host}:${config.port}: ${errorMessage(error)}`, { cause: error });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
