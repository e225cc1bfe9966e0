import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { buildAuditedLedger, copyLedger, type AuditedLedger } from '../audit/audit-fixture.js';
import {
  buildCli,
  freePort,
  runCli,
  startServe,
  removeCli,
  stopAllServes,
  stopServe,
  waitReady,
} from '../support/built-cli.js';

const CHECKER = fileURLToPath(new URL('../../scripts/verify-export.mjs', import.meta.url));

const AUDITS = [
  ['audit', 'verify'],
  ['audit', 'replay'],
  ['audit', 'export'],
] as const;

/** `ledger audit ...`, `ledger rebuild` and the export checker, run as child processes against temporary DATA_DIRs. */
describe('audit and rebuild refuse what would mislead', () => {
  let cli = '';
  let pristine: AuditedLedger;

  beforeAll(async () => {
    cli = buildCli();
    pristine = await buildAuditedLedger();
  }, 120_000);

  afterAll(async () => {
    await stopAllServes();
    removeCli(cli);
  });

  const freshDir = () => mkdtempSync(join(tmpdir(), 'ledger-cli-'));

  it('refuses a DATA_DIR that does not exist, and does not create it', () => {
    const dataDir = join(freshDir(), 'typo');
    for (const args of [...AUDITS, ['rebuild']]) {
      const run = runCli(cli, args, { DATA_DIR: dataDir });
      expect(run.status, args.join(' ')).toBe(args[0] === 'audit' ? 2 : 1);
      expect(run.stderr).toContain(`DATA_DIR ${dataDir} holds no ledger (no events.sqlite`);
      expect(existsSync(dataDir)).toBe(false);
    }
  });

  it('refuses an empty folder, and leaves it empty', () => {
    const dataDir = freshDir();
    for (const args of [...AUDITS, ['rebuild']]) {
      const run = runCli(cli, args, { DATA_DIR: dataDir });
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr).toContain('holds no ledger');
      expect(run.stdout).toBe('');
      expect(readdirSync(dataDir)).toEqual([]);
    }
  });

  it('refuses an event store that holds no events', async () => {
    const dataDir = freshDir();
    await new SqliteEventStore(join(dataDir, EVENTS_FILE)).close();
    const out = join(dataDir, 'export.jsonl');
    for (const args of [['audit', 'verify'], ['audit', 'export'], ['audit', 'export', '--out', out], ['rebuild']]) {
      const run = runCli(cli, args, { DATA_DIR: dataDir });
      expect(run.status, args.join(' ')).toBe(args[0] === 'audit' ? 2 : 1);
      expect(run.stderr).toContain(`the event store in DATA_DIR ${dataDir} holds no events`);
      expect(run.stdout).toBe('');
    }
    // No export file, whole or partial, was left behind.
    expect(readdirSync(dataDir).filter((name) => name.startsWith('export.jsonl'))).toEqual([]);
  });

  it('audit replay refuses a ledger without its read models instead of creating them empty', () => {
    const ledger = copyLedger(pristine);
    for (const file of readdirSync(ledger.dataDir).filter((name) => name.startsWith(READ_MODELS_FILE))) {
      rmSync(join(ledger.dataDir, file));
    }
    const run = runCli(cli, ['audit', 'replay'], { DATA_DIR: ledger.dataDir });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`DATA_DIR ${ledger.dataDir} holds no ledger (no ${READ_MODELS_FILE})`);
    expect(run.stdout).toBe('');
    expect(existsSync(join(ledger.dataDir, READ_MODELS_FILE))).toBe(false);
  });

  it('the export checker refuses an empty export, from a file or from stdin', () => {
    const empty = join(freshDir(), 'empty.jsonl');
    writeFileSync(empty, '');
    for (const run of [runCli(CHECKER, [empty], {}), runCli(CHECKER, ['-'], {}, '\n\n')]) {
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('no events in');
      expect(run.stderr).toContain('an empty export proves nothing');
    }
  });

  it('rebuild refuses while a service holds the store, runs once it stops, and counts as audit verify does', async () => {
    const ledger = copyLedger(pristine);
    const env = { DATA_DIR: ledger.dataDir };
    const serve = startServe(cli, { ...env, PORT: String(await freePort()) });
    try {
      await waitReady(serve);
      const refused = runCli(cli, ['rebuild'], env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`DATA_DIR ${ledger.dataDir} is in use by a running service (ledger serve)`);
      expect(refused.stdout).not.toContain('rebuilt');
    } finally {
      expect(await stopServe(serve)).toBe(0);
    }

    const rebuilt = runCli(cli, ['rebuild'], env);
    expect(rebuilt.stderr.replace(/rebuild .*\n?/g, '')).toBe('');
    expect(rebuilt.status).toBe(0);
    const counted = /replayed (\d+) events in (\d+) streams through position (\d+)/.exec(rebuilt.stdout);
    expect(counted, rebuilt.stdout).not.toBeNull();
    const [, events, streams, position] = counted!.map(Number);

    const verified = runCli(cli, ['audit', 'verify'], env);
    expect(verified.status).toBe(0);
    const summary = JSON.parse(verified.stdout) as { events: number; streams: number; lastPosition: string };
    expect(verified.stderr).toContain(
      `chain intact: ${summary.events} events in ${summary.streams} streams through position ${summary.lastPosition}`,
    );
    // Same log, same end: rebuild reads every stream but the idempotency records, which verify counts too.
    expect(position).toBe(Number(summary.lastPosition));
    const exported = runCli(cli, ['audit', 'export'], env);
    expect(exported.status).toBe(0);
    const lines = exported.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { streamId: string });
    const replayable = lines.filter((line) => !line.streamId.startsWith('idempotency-'));
    expect(lines.length).toBe(summary.events);
    expect(events).toBe(replayable.length);
    expect(streams).toBe(new Set(replayable.map((line) => line.streamId)).size);
    expect(events).toBeLessThan(summary.events);
  });

  it('a service killed with SIGKILL leaves no lock behind: rebuild runs at once', async () => {
    const ledger = copyLedger(pristine);
    const serve = startServe(cli, { DATA_DIR: ledger.dataDir, PORT: String(await freePort()) });
    await waitReady(serve);
    expect(await stopServe(serve, 'SIGKILL')).toBeNull();
    expect(existsSync(join(ledger.dataDir, 'store.lock'))).toBe(true);

    const rebuilt = runCli(cli, ['rebuild'], { DATA_DIR: ledger.dataDir });
    expect(rebuilt.stderr.replace(/rebuild .*\n?/g, '')).toBe('');
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(
      /^rebuilt balances, operations, statements, books, entities, transfer-batches, webhook_endpoints, payer-history, transit, channel-orders, recon-breaks, recon-days, card_contracts: replayed [1-9]\d* events/,
    );
  });
});
