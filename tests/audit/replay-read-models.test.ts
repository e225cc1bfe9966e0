import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import type { DocumentWrite } from '../../src/ports/read-model-store.js';
import { BALANCES_COLLECTION, balancesProjection, type BalanceDocument } from '../../src/projections/balances.js';
import { auditReplay } from '../../scripts/audit.js';
import { collect } from '../support/events.js';
import { CapturedOutput, WALLETS, buildAuditedLedger, copyLedger, type AuditedLedger } from './audit-fixture.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor('Asia/Shanghai');

/** Writes to a stopped ledger's read models through the store's own API, as a faulty writer would. */
async function writeReadModels(
  ledger: AuditedLedger,
  write: (store: SqliteReadModelStore) => Promise<void>,
): Promise<void> {
  const store = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
  await store.ensureCollections(balancesProjection.collections);
  try {
    await write(store);
  } finally {
    await store.close();
  }
}

async function storedBalance(store: SqliteReadModelStore, accountId: string) {
  const doc = await store.get<BalanceDocument>(BALANCES_COLLECTION, accountId);
  if (!doc) throw new Error(`no balance document for ${accountId}`);
  return doc;
}

function differences(output: CapturedOutput): Array<Record<string, unknown>> {
  return output.records().filter((record) => record['kind'] === 'difference');
}

describe('ledger audit replay', () => {
  let pristine: AuditedLedger;

  beforeAll(async () => {
    pristine = await buildAuditedLedger();
  });

  it('finds no difference in read models built by the live service', async () => {
    const output = new CapturedOutput();
    expect(await auditReplay(pristine.config, output)).toBe(0);
    const [summary] = output.records() as Array<{
      kind: string;
      command: string;
      ok: boolean;
      projections: Array<Record<string, unknown>>;
    }>;
    expect(summary).toMatchObject({ kind: 'summary', command: 'replay', ok: true });
    expect(output.records()).toHaveLength(1);
    // Every projection the service keeps is replayed; none differs.
    expect(summary!.projections.map((p) => p['projection']).sort()).toEqual(PROJECTIONS.map((p) => p.name).sort());
    for (const projection of summary!.projections)
      expect(projection).toMatchObject({ differences: 0, checkpointMoved: false });
    expect(summary!.projections.find((p) => p['projection'] === 'balances')).toEqual({
      projection: 'balances',
      checkpoint: expect.stringMatching(/^[0-9]+$/),
      replayedEvents: expect.any(Number),
      documents: WALLETS,
      differences: 0,
      checkpointMoved: false,
    });
    expect(output.text('stderr')).toMatch(/^balances: 2 documents match a replay of \d+ events through position \d+$/m);
  });

  it('reports exactly the one document whose balance was overwritten', async () => {
    const ledger = copyLedger(pristine);
    const accountId = ledger.accountIds[1]!;
    let original: Awaited<ReturnType<typeof storedBalance>> | undefined;
    await writeReadModels(ledger, async (store) => {
      original = await storedBalance(store, accountId);
      const forged: BalanceDocument = { ...original.data, balanceMinor: '999999', availableMinor: '999999' };
      const write: DocumentWrite = {
        collection: BALANCES_COLLECTION,
        id: accountId,
        data: forged,
        position: original.position + 1_000n,
      };
      await store.applyBatch('balances', [write], original.position);
    });

    const output = new CapturedOutput();
    expect(await auditReplay(ledger.config, output)).toBe(1);
    expect(differences(output)).toEqual([
      {
        kind: 'difference',
        projection: 'balances',
        collection: BALANCES_COLLECTION,
        id: accountId,
        problem: 'different',
        fields: [
          { field: 'availableMinor', stored: '999999', replayed: original!.data.availableMinor },
          { field: 'balanceMinor', stored: '999999', replayed: original!.data.balanceMinor },
        ],
        storedPosition: String(original!.position + 1_000n),
        replayedPosition: String(original!.position),
      },
    ]);
    expect(output.records().at(-1)).toMatchObject({
      kind: 'summary',
      ok: false,
      projections: expect.arrayContaining([
        expect.objectContaining({ projection: 'balances', documents: WALLETS, differences: 1 }),
      ]),
    });
  });

  it('reports a removed document as missing and an invented one as extra', async () => {
    const ledger = copyLedger(pristine);
    const removedId = ledger.accountIds[0]!;
    const inventedId = '9999999999999999';
    let invented: BalanceDocument | undefined;
    await writeReadModels(ledger, async (store) => {
      const removed = await storedBalance(store, removedId);
      invented = { ...removed.data, accountId: inventedId, balanceMinor: '1', availableMinor: '1' };
      await store.applyBatch(
        'balances',
        [
          { collection: BALANCES_COLLECTION, id: removedId, data: null, position: removed.position + 1n },
          { collection: BALANCES_COLLECTION, id: inventedId, data: invented, position: removed.position + 1n },
        ],
        removed.position,
      );
    });

    const output = new CapturedOutput();
    expect(await auditReplay(ledger.config, output)).toBe(1);
    const found = differences(output);
    expect(found).toHaveLength(2);
    expect(found).toContainEqual(
      expect.objectContaining({
        id: removedId,
        problem: 'missing',
        replayed: expect.objectContaining({ accountId: removedId }),
      }),
    );
    expect(found).toContainEqual(expect.objectContaining({ id: inventedId, problem: 'extra', stored: invented }));
  });

  it('compares as of the stored checkpoint when the log has moved on', async () => {
    const ledger = copyLedger(pristine);
    // A recharge that reached the log but not yet the read models (the projections run behind).
    const eventStore = new SqliteEventStore(join(ledger.dataDir, EVENTS_FILE));
    const streamId = `account-${ledger.accountIds[0]!}`;
    const [last] = await collect(eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 }));
    expect(last?.type).toBe('FundsRecharged');
    const appended = await eventStore.appendToStream(
      streamId,
      [
        {
          type: 'FundsRecharged',
          data: { ...last!.data, rechargeId: randomUUID(), channelOrderNo: 'late-order' },
          metadata: { ...last!.metadata, eventId: randomUUID() },
        },
      ],
      last!.revision,
    );
    await eventStore.close();

    const output = new CapturedOutput();
    expect(await auditReplay(ledger.config, output)).toBe(0);
    const [summary] = output.records() as Array<{ projections: Array<{ projection: string; checkpoint: string }> }>;
    expect(BigInt(summary!.projections.find((p) => p.projection === 'balances')!.checkpoint)).toBeLessThan(
      appended.position,
    );
  });

  it('calls differences inconclusive when the read models change during the audit', async () => {
    const ledger = copyLedger(pristine);
    const accountId = ledger.accountIds[0]!;
    await writeReadModels(ledger, async (store) => {
      const doc = await storedBalance(store, accountId);
      await store.applyBatch(
        'balances',
        [
          {
            collection: BALANCES_COLLECTION,
            id: accountId,
            data: { ...doc.data, frozenMinor: '1' },
            position: doc.position + 1n,
          },
        ],
        doc.position,
      );
    });

    // Stands in for a running service: its projection moves the checkpoint while the audit reports.
    const concurrentWriter = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
    await concurrentWriter.ensureCollections(balancesProjection.collections);
    const output = new CapturedOutput();
    const stdout = new Writable({
      write(chunk: Buffer, encoding, callback) {
        const isDifference = (JSON.parse(chunk.toString()) as { kind: string }).kind === 'difference';
        const written = () => output.stdout.write(chunk, encoding, callback);
        if (!isDifference) return written();
        concurrentWriter
          .getCheckpoint('balances')
          .then((checkpoint) =>
            concurrentWriter.applyBatch('balances', [], (checkpoint === 'start' ? 0n : checkpoint) + 10n),
          )
          .then(written, callback);
      },
    });
    expect(await auditReplay(ledger.config, { stdout, stderr: output.stderr })).toBe(3);
    stdout.end();
    await finished(stdout);
    await concurrentWriter.close();
    expect(output.records().at(-1)).toMatchObject({
      kind: 'summary',
      ok: false,
      projections: expect.arrayContaining([
        expect.objectContaining({ projection: 'balances', differences: 1, checkpointMoved: true }),
      ]),
    });
    expect(output.text('stderr')).toContain('the service wrote read models during the audit');
  });
});
