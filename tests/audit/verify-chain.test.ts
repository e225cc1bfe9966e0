import { SETUP_STREAMS } from '../support/test-ledger.js';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { EVENTS_FILE } from '../../src/adapters/storage.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { UnknownStreamError, auditVerify } from '../../scripts/audit.js';
import {
  CapturedOutput,
  FIXTURE_STREAMS,
  RECHARGES_PER_WALLET,
  buildAuditedLedger,
  copyLedger,
  countStoredEvents,
  eventRow,
  tamperWithEventsFile,
  type AuditedLedger,
} from './audit-fixture.js';

const accountStream = (accountId: string): string => `account-${accountId}`;

describe('ledger audit verify', () => {
  let pristine: AuditedLedger;
  let storedEvents: number;

  beforeAll(async () => {
    pristine = await buildAuditedLedger();
    storedEvents = countStoredEvents(pristine.dataDir);
  });

  it('passes an untouched log, idempotency streams included, whatever the page size', async () => {
    const output = new CapturedOutput();
    expect(await auditVerify(pristine.config, {}, output)).toBe(0);
    // Each command (registration, opening, recharge) claims an idempotency key: a stream besides its own.
    const streams = SETUP_STREAMS + FIXTURE_STREAMS;
    expect(output.records()).toEqual([
      {
        kind: 'summary',
        command: 'verify',
        ok: true,
        streams,
        events: storedEvents,
        lastPosition: String(storedEvents),
      },
    ]);
    expect(output.text('stderr')).toContain(`chain intact: ${storedEvents} events in ${streams} streams`);

    const eventStore = new SqliteEventStore(join(pristine.dataDir, EVENTS_FILE));
    const paged = await verifyChain(eventStore, { pageSizeEvents: 2 });
    await eventStore.close();
    expect(paged).toMatchObject({ streams, events: storedEvents, firstBreak: null });
  });

  it('finds one changed character of an amount at that exact stream and revision', async () => {
    const ledger = copyLedger(pristine);
    const streamId = accountStream(ledger.accountIds[1]!);
    let position = 0;
    tamperWithEventsFile(ledger.dataDir, (db) => {
      const row = eventRow(db, streamId, 2); // the wallet's second recharge: 22.00
      const tampered = row.data.replace('"amountMinor":"2200"', '"amountMinor":"9200"');
      expect(tampered).not.toBe(row.data);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(tampered, row.position);
      position = row.position;
    });

    const output = new CapturedOutput();
    expect(await auditVerify(ledger.config, {}, output)).toBe(1);
    const [broken, summary] = output.records();
    expect(broken).toMatchObject({ kind: 'break', streamId, revision: 2, position: String(position), check: 'hash' });
    expect(broken!['expected']).not.toBe(broken!['found']);
    expect(summary).toMatchObject({ kind: 'summary', ok: false });
    expect(output.text('stderr')).toContain(
      `chain broken: ${streamId} revision 2 (position ${position}): hash expected`,
    );
  });

  it('finds a deleted event as a gap at the event after it', async () => {
    const ledger = copyLedger(pristine);
    const streamId = accountStream(ledger.accountIds[0]!);
    tamperWithEventsFile(ledger.dataDir, (db) => {
      db.prepare('DELETE FROM events WHERE stream_id = ? AND revision = 1').run(streamId);
    });

    const output = new CapturedOutput();
    expect(await auditVerify(ledger.config, {}, output)).toBe(1);
    expect(output.records()[0]).toMatchObject({
      kind: 'break',
      streamId,
      revision: 2,
      check: 'revision',
      expected: '1',
      found: '2',
    });
  });

  it('finds swapped prevHashes at the first of the two events', async () => {
    const ledger = copyLedger(pristine);
    const streamId = accountStream(ledger.accountIds[0]!);
    let originalPrevHash = '';
    tamperWithEventsFile(ledger.dataDir, (db) => {
      const first = eventRow(db, streamId, 1);
      const second = eventRow(db, streamId, 2);
      const swap = db.prepare('UPDATE events SET prev_hash = ? WHERE position = ?');
      swap.run(second.prev_hash, first.position);
      swap.run(first.prev_hash, second.position);
      originalPrevHash = first.prev_hash;
    });

    const output = new CapturedOutput();
    expect(await auditVerify(ledger.config, {}, output)).toBe(1);
    expect(output.records()[0]).toMatchObject({
      kind: 'break',
      streamId,
      revision: 1,
      check: 'prevHash',
      expected: originalPrevHash,
    });
  });

  it('checks idempotency streams like every other stream', async () => {
    const ledger = copyLedger(pristine);
    let streamId = '';
    tamperWithEventsFile(ledger.dataDir, (db) => {
      const row = db
        .prepare(
          `SELECT position, stream_id, data FROM events WHERE stream_id LIKE 'idempotency-%' AND type = 'IdempotentResponseRecorded' ORDER BY position LIMIT 1`,
        )
        .get() as { position: number; stream_id: string; data: string };
      const tampered = row.data.replace('"statusCode":201', '"statusCode":200');
      expect(tampered).not.toBe(row.data);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(tampered, row.position);
      streamId = row.stream_id;
    });

    const output = new CapturedOutput();
    expect(await auditVerify(ledger.config, {}, output)).toBe(1);
    expect(output.records()[0]).toMatchObject({ kind: 'break', streamId, revision: 1, check: 'hash' });
  });

  it('fails to check (rather than passing) when a stored event no longer parses, naming the page', async () => {
    const ledger = copyLedger(pristine);
    tamperWithEventsFile(ledger.dataDir, (db) => {
      const row = eventRow(db, accountStream(ledger.accountIds[0]!), 1);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.slice(0, -1), row.position);
    });
    await expect(auditVerify(ledger.config, {}, new CapturedOutput())).rejects.toThrow(
      /^cannot read the page of up to 1000 events after position start: /,
    );
  });

  it('verifies one stream on its own, and refuses a stream that does not exist', async () => {
    const ledger = copyLedger(pristine);
    const [intact, damaged] = ledger.accountIds.map(accountStream) as [string, string];
    tamperWithEventsFile(ledger.dataDir, (db) => {
      const row = eventRow(db, damaged, 3);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(
        row.data.replace('"channel":"sim-', '"channel":"SIM-'),
        row.position,
      );
    });

    const good = new CapturedOutput();
    expect(await auditVerify(ledger.config, { stream: intact }, good)).toBe(0);
    expect(good.records()).toEqual([
      {
        kind: 'summary',
        command: 'verify',
        ok: true,
        streams: 1,
        events: 1 + RECHARGES_PER_WALLET,
        lastPosition: expect.any(String),
      },
    ]);

    const bad = new CapturedOutput();
    expect(await auditVerify(ledger.config, { stream: damaged }, bad)).toBe(1);
    expect(bad.records()[0]).toMatchObject({ kind: 'break', streamId: damaged, revision: 3, check: 'hash' });

    await expect(
      auditVerify(ledger.config, { stream: 'account-0000000000000000' }, new CapturedOutput()),
    ).rejects.toThrow(UnknownStreamError);
  });
});
