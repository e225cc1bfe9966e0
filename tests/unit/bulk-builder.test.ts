import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { rebuildProjectionsInBulk } from '../../src/projections/bulk-rebuild.js';
import { UNCHANGED, type DocumentChange, type Projection } from '../../src/projections/projection.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { cny, commandFixture, context, openFunded } from '../support/command-fixtures.js';
import { canonicalDump } from '../support/read-model-documents.js';
import { payerFor } from '../support/test-channels.js';

/**
 * The live runner's rules that no shipped projection happens to lean on today, pinned on a projection made
 * for them, bulk against live: a document changed twice by one event is changed once; a change that
 * answers UNCHANGED writes nothing; a write-once document changed twice by one event is written once;
 * and what the bulk builder refuses, a write-once document written by two events.
 */

const COUNTERS = 'rules_counters';
const LINES = 'rules_lines';

function rulesProjection(lineIdOf: (position: bigint) => string): Projection {
  const bump = (id: string): DocumentChange => ({
    collection: COUNTERS,
    id,
    apply: (previous) => ({ id, n: ((previous?.['n'] as number | undefined) ?? 0) + 1 }),
  });
  return {
    name: 'rules',
    version: 1,
    collections: [
      { name: COUNTERS, indexes: ['n'] },
      { name: LINES, indexes: ['position'], writeOnce: true },
    ],
    eventTypes: ['FundsRecharged'],
    handle(event, envelope) {
      if (event.type !== 'FundsRecharged') return [];
      const line = (text: string): DocumentChange => ({
        collection: LINES,
        id: lineIdOf(envelope.position),
        apply: () => ({ position: String(envelope.position), text }),
      });
      return [
        bump(event.data.accountId),
        bump(event.data.accountId),
        // Every recharge: the document the cache keeps hot.
        bump('all'),
        { collection: COUNTERS, id: 'never', apply: () => UNCHANGED },
        line('first'),
        line('second'),
      ];
    },
  };
}

describe('the bulk builder keeps the live runner rules', () => {
  const fixture = commandFixture();

  beforeAll(async () => {
    const wallets = [];
    for (let i = 0; i < 5; i += 1) wallets.push(await openFunded(fixture.commands, 'wallet', '1.00'));
    for (let i = 0; i < 40; i += 1) {
      const accountId = wallets[(i * 3) % wallets.length]!;
      await fixture.commands.recharge(
        { accountId, amount: cny('0.10'), payer: await payerFor(fixture.commands) },
        context(),
      );
    }
  });
  afterAll(() => fixture.close());

  const bulkDump = async (projection: Projection, file: string, maxBatchEvents: number, maxCachedDocuments: number) => {
    const head = await fixture.eventStore.headPosition();
    if (head === 'start') throw new Error('no events');
    const staging = new SqliteReadModelStore(join(fixture.dataDir, file), { bulk: true });
    try {
      await rebuildProjectionsInBulk(fixture.eventStore, staging, [projection], {
        through: head,
        limits: { maxBatchEvents, maxCachedDocuments, maxPendingWrites: 3 },
      });
    } finally {
      await staging.close();
    }
    const built = new SqliteReadModelStore(join(fixture.dataDir, file));
    try {
      await built.ensureCollections(projection.collections);
      return await canonicalDump(built, [projection]);
    } finally {
      await built.close();
    }
  };

  it('one change per document and event, nothing for UNCHANGED, write-once documents once', async () => {
    const projection = rulesProjection((position) => `line-${position}`);
    const live = new SqliteReadModelStore(':memory:');
    try {
      await new ProjectionRunner(fixture.eventStore, live, [projection], { maxBatchEvents: 4 }).catchUp();
      const expected = await canonicalDump(live, [projection]);
      expect(expected).toContain(`${COUNTERS} all `);
      expect(expected).not.toContain(`${COUNTERS} never `);
      expect(expected).toContain('"text":"first"');
      expect(expected).not.toContain('"text":"second"');
      for (const [batch, cache] of [
        [1, 1],
        [3, 2],
        [7, 50],
        [1_000, 1],
      ] as const) {
        expect(await bulkDump(projection, `rules-${batch}-${cache}.sqlite`, batch, cache), `${batch}/${cache}`).toBe(
          expected,
        );
      }
    } finally {
      await live.close();
    }
  });

  it('refuses a write-once document written by two events, where the live runner would keep the last', async () => {
    const projection = rulesProjection(() => 'the-one-line');
    await expect(bulkDump(projection, 'rules-twice.sqlite', 5, 10)).rejects.toThrow(/UNIQUE constraint failed/);
  });
});
