import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z, type ZodType } from 'zod';
import { idempotencyHeaders } from '../src/adapters/http/api-schemas.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import type { LedgerService } from '../src/adapters/ledger-service.js';
import { openSqliteDatabase } from '../src/adapters/sqlite/open-database.js';
import { extraFigure, listenLocal, log, type Figure, type HttpLoadResult } from './harness.js';

/**
 * The limit route: the most a signed, durable command can do on this stack, the baseline the HTTP
 * benchmarks' headline figures are measured against (the bare route only says what Fastify itself can
 * parse and answer).
 *
 * It is the service's own HTTP server (`buildHttpServer` on the benchmark's running service: the same
 * Fastify options, body parser, hooks, error handler, zod compilers and request authentication, which
 * resolves the key, verifies the request's Ed25519 signature and claims its nonce) with one more route,
 * POST LIMIT_PATH, that validates the body with the real route's zod schema and makes ONE durable
 * insert of the request, group-committed like the event store's appends (queued while a commit runs,
 * one transaction and one fsync per batch, WAL + synchronous=FULL), and answers 201 after the commit.
 * What a real command adds beyond this (deciding, hash chain, several appends, idempotency records,
 * projections) is what the ratio against it measures.
 */
export const LIMIT_PATH = '/bench/limit';

/** The event store's default (SqliteEventStore maxAppendsPerCommit): the same batches, the same fsyncs. */
const MAX_INSERTS_PER_COMMIT = 512;
const CREATED = 201;

export interface LimitRoute {
  readonly app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** Requests committed so far (acknowledged or about to be). */
  committedRows(): number;
  close(): Promise<void>;
}

/**
 * Starts the limit route for `service` on 127.0.0.1, its inserts into a SQLite file in `dir`. `body`
 * is the zod schema of the real route whose requests it takes (they are validated the same way).
 */
export async function startLimitRoute(service: LedgerService, dir: string, body: ZodType): Promise<LimitRoute> {
  const store = new GroupCommitInserts(join(dir, 'limit-route.sqlite'));
  let app: FastifyInstance | undefined;
  const close = async () => {
    await app?.close();
    store.close();
  };
  try {
    app = await buildHttpServer(service, { logger: false });
    await app.register(limitRoute(store, body));
    return { app, baseUrl: await listenLocal(app), committedRows: () => store.committedRows(), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Every request the limit route acknowledged (201) must be committed; requests in flight when a load run
 * stopped may be committed without their response being counted: up to `connections` more per run.
 */
export function checkLimitRoute(
  benchmark: string,
  committedRows: number,
  runs: readonly HttpLoadResult[],
  connections: number,
): void {
  const acknowledged = runs.reduce((sum, run) => sum + (run.statusCounts[String(CREATED)] ?? 0), 0);
  const inFlightAllowance = connections * runs.length;
  const ok = committedRows >= acknowledged && committedRows <= acknowledged + inFlightAllowance;
  log(
    benchmark,
    `${ok ? 'check' : 'WARNING'}: the limit route committed ${committedRows} rows for ${acknowledged} acknowledged requests (+ up to ${inFlightAllowance} in flight)`,
  );
}

/** `<benchmark>-limit-route`: the limit route's rate beside the bare route's (`bareNote` says what that is). */
export function limitRouteFigure(
  benchmark: string,
  limitPerSecond: number,
  barePerSecond: number,
  bareNote: string,
): Figure {
  return extraFigure({
    name: `${benchmark}-limit-route`,
    value: limitPerSecond,
    unit: 'req/s',
    baseline: bareNote,
    baselineValue: barePerSecond,
  });
}

function limitRoute(store: GroupCommitInserts, body: ZodType): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      LIMIT_PATH,
      {
        schema: {
          hide: true,
          headers: idempotencyHeaders,
          body,
          response: { [CREATED]: z.object({ requestId: z.string() }) },
        },
      },
      async (request, reply) => {
        const requestId = await store.insert(
          request.actor ?? '',
          request.headers['idempotency-key'],
          JSON.stringify(request.body),
        );
        reply.code(CREATED);
        return { requestId: String(requestId) };
      },
    );
  };
}

interface PendingInsert {
  readonly actor: string;
  readonly idempotencyKey: string;
  readonly body: string;
  readonly resolve: (rowId: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One row per request, durably, with the event store's group commit: inserts queued in one turn of the
 * event loop (setImmediate) or while a commit runs share one BEGIN IMMEDIATE transaction, at most
 * MAX_INSERTS_PER_COMMIT each; every caller's promise resolves after its transaction committed.
 */
class GroupCommitInserts {
  private readonly db: Database.Database;
  private readonly insertRow: Database.Statement<[string, string, string]>;
  private readonly pending: PendingInsert[] = [];
  private flushScheduled = false;
  private committed = 0;

  constructor(file: string) {
    this.db = openSqliteDatabase(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS requests (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      actor           TEXT NOT NULL,
      idempotency_key TEXT NOT NULL,
      body            TEXT NOT NULL
    )`);
    this.insertRow = this.db.prepare('INSERT INTO requests (actor, idempotency_key, body) VALUES (?, ?, ?)');
  }

  insert(actor: string, idempotencyKey: string, body: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ actor, idempotencyKey, body, resolve, reject });
      if (this.pending.length >= MAX_INSERTS_PER_COMMIT) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  committedRows(): number {
    return this.committed;
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_INSERTS_PER_COMMIT);
      let rowIds: number[];
      try {
        rowIds = this.db
          .transaction(() =>
            batch.map((row) => Number(this.insertRow.run(row.actor, row.idempotencyKey, row.body).lastInsertRowid)),
          )
          .immediate();
      } catch (error) {
        for (const row of batch) row.reject(error);
        continue;
      }
      this.committed += batch.length;
      batch.forEach((row, index) => row.resolve(rowIds[index]!));
    }
  }

  close(): void {
    if (this.pending.length > 0) this.flush();
    if (this.db.open) this.db.close();
  }
}
