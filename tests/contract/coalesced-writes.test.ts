import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import type { DocumentWrite, LeaseFence, ReadModelStore } from '../../src/ports/read-model-store.js';
import { PositionWaitTimeoutError, ProjectionRunner } from '../../src/projections/projection-runner.js';
import { commandFixture, payRepeatedly } from '../support/command-fixtures.js';
import { readModelContents } from '../support/read-model-contents.js';
import { FaultyReadModelStore } from './faulty-read-model-store.js';

/**
 * Coalesced read-model writes: the live runner applies events in memory and writes each changed
 * document's latest version once, with the checkpoint, every N events or T ms. The checkpoint never runs
 * ahead of the written documents, even when the process dies between the two.
 */
const projections = projectionsFor('Asia/Shanghai');
const PAYMENTS = 12;

function everything(store: ReadModelStore): ReturnType<typeof readModelContents> {
  return readModelContents(store, projections);
}

/** Counts the document writes each projection's batches carry. */
class CountingReadModelStore extends FaultyReadModelStore {
  readonly writes = new Map<string, number>();
  override async applyBatch(
    projection: string,
    writes: readonly DocumentWrite[],
    checkpoint: bigint,
    fence?: LeaseFence,
  ) {
    this.writes.set(projection, (this.writes.get(projection) ?? 0) + writes.length);
    return super.applyBatch(projection, writes, checkpoint, fence);
  }
}

describe('coalesced read-model writes', () => {
  const fixture = commandFixture();
  let rebuilt: ReadModelStore;

  beforeAll(async () => {
    await payRepeatedly(fixture.commands, 'm-coalesce', PAYMENTS);
    rebuilt = new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-coalesce-')), 'rebuilt.sqlite'));
    await new ProjectionRunner(fixture.eventStore, rebuilt, projections).catchUp();
  });
  afterAll(async () => {
    await Promise.all([rebuilt.close(), fixture.close()]);
  });

  it('catches up in a write per catchUpFlushEvents events, not per page, to the same read models', async () => {
    const counted = async (catchUpFlushEvents: number) => {
      const store = new CountingReadModelStore(
        new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-coalesce-')), 'rm.sqlite')),
      );
      await new ProjectionRunner(fixture.eventStore, store, projections, {
        maxBatchEvents: 4,
        catchUpFlushEvents,
      }).catchUp();
      const contents = await everything(store);
      await store.close();
      return { writes: store.writes.get('balances') ?? 0, contents };
    };
    const perPage = await counted(1);
    const coalesced = await counted(10_000);
    expect(coalesced.contents).toEqual(await everything(rebuilt));
    expect(perPage.contents).toEqual(coalesced.contents);
    // The payer's and the merchant's balance once each, against once per page they changed in.
    expect(coalesced.writes).toBe(2);
    expect(perPage.writes).toBeGreaterThan(coalesced.writes * 2);
  });

  it('writes a busy document once per flush, and a read-your-writes wait does not sit out the interval', async () => {
    const store = new CountingReadModelStore(
      new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-coalesce-')), 'rm.sqlite')),
    );
    // An interval far beyond the test's timeout: only the wait's request can make the runner write.
    const runner = new ProjectionRunner(fixture.eventStore, store, projections, {
      maxBatchEvents: 5,
      maxPendingEvents: 10_000,
      flushIntervalMs: 600_000,
    });
    await runner.start();
    try {
      const head = await fixture.eventStore.headPosition();
      if (head === 'start') throw new Error('no events');
      const started = performance.now();
      await runner.waitForPosition('balances', head, 10_000);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(await store.getCheckpoint('balances')).toBe(head);
      expect(await everything(store)).toEqual(await everything(rebuilt));
      // Two balances (payer, payee) changed by every payment: written once per flush (one flush, or a few
      // if the wait asked early), where writing per batch of 5 events wrote them once per batch (28 times).
      expect(store.writes.get('balances')).toBeLessThan(PAYMENTS);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('a process killed between the documents and the checkpoint leaves the checkpoint behind, and recovers exactly', async () => {
    const dataDir = fixture.dataDir;
    // The third flush (a store batch per projection a flush), its third projection.
    const crashAtBatch = 2 * projections.length + 3;
    const child = spawn(
      process.execPath,
      [
        '--import',
        join(import.meta.dirname, '../support/typescript-hooks.ts'),
        join(import.meta.dirname, 'coalesced-crash-child.ts'),
        dataDir,
        String(crashAtBatch),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal, stderr: signal === 'SIGKILL' ? '' : stderr }).toEqual({
      code: null,
      signal: 'SIGKILL',
      stderr: '',
    });

    const store = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
    try {
      const head = await fixture.eventStore.headPosition();
      if (head === 'start') throw new Error('no events');
      const crashed = projections[2]!.name;
      const checkpoint = await store.getCheckpoint(crashed);
      // Two flushes of 20 events were written; the third's documents are, its checkpoint is not.
      expect(checkpoint).not.toBe('start');
      expect(checkpoint).toBeLessThan(head);
      // The projections written before the crash in that flush moved on; the ones after did not.
      expect(await store.getCheckpoint(projections[1]!.name)).toBeGreaterThan(checkpoint as bigint);
      expect(await store.getCheckpoint(projections[3]!.name)).toBe(checkpoint);

      // minPosition answers from the written checkpoint: what it covers is there, what it does not is waited for.
      const reader = new ProjectionRunner(fixture.eventStore, store, projections, { checkpointPollIntervalMs: 5 });
      await reader.prepare();
      await reader.waitForPosition(crashed, checkpoint as bigint, 1_000);
      await expect(reader.waitForPosition(crashed, head, 300)).rejects.toBeInstanceOf(PositionWaitTimeoutError);

      // Recovered: the documents ahead of the checkpoint are not applied twice, nothing is skipped.
      await new ProjectionRunner(fixture.eventStore, store, projections).catchUp();
      expect(await everything(store)).toEqual(await everything(rebuilt));
      for (const projection of projections) expect(await store.getCheckpoint(projection.name)).toBe(head);
    } finally {
      await store.close();
    }
  });
});
