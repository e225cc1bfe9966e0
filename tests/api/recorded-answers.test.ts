import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { positionString } from '../../src/adapters/http/api-schemas.js';
import { runCommand } from '../../src/adapters/http/idempotent-command.js';
import { problemOf, sendProblem } from '../../src/adapters/http/problem-details.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { IdempotencyKeeper } from '../../src/commands/idempotency.js';

/** runCommand never records an answer the route's response schema rejects: it would be replayed as a 500 for ever. */
describe('recorded answers', () => {
  const store = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-answers-')), 'events.sqlite'));
  afterAll(async () => {
    await store.close();
  });

  it('an answer its schema rejects is raised unrecorded, and a retry under the same key derives it again', async () => {
    const deps = { idempotency: new IdempotencyKeeper(store, systemClock), clock: systemClock };
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.setErrorHandler((error, request, reply) => sendProblem(request, reply, problemOf(error)));
    // The first run derives a position the schema refuses (as a finished operation once did: "-1").
    const positions = ['-1', '42'];
    let runs = 0;
    app.post(
      '/things',
      { schema: { response: { 201: z.object({ position: positionString }) } } },
      async (request, reply) => {
        await runCommand(request, reply, deps, async () => {
          runs += 1;
          return { statusCode: 201, body: { position: positions[runs - 1]! } };
        });
      },
    );
    const send = () =>
      app.inject({ method: 'POST', url: '/things', headers: { 'idempotency-key': 'answer-key-1' }, payload: {} });

    const first = await send();
    expect([first.statusCode, first.json().code]).toEqual([500, 'internal_error']);
    const retry = await send();
    expect([retry.statusCode, retry.json()]).toEqual([201, { position: '42' }]);
    const replay = await send();
    expect([replay.statusCode, replay.headers['idempotent-replayed'], replay.json()]).toEqual([
      201,
      'true',
      { position: '42' },
    ]);
    expect(runs).toBe(2);
    const recorded = (await store.readAll({ after: 'start', maxCount: 100 })).filter(
      (event) => event.type === 'IdempotentResponseRecorded',
    );
    expect(recorded.map((event) => event.data)).toEqual([{ statusCode: 201, body: { position: '42' } }]);
    await app.close();
  });
});
