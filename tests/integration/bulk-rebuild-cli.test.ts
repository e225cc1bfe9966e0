import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog } from '../../bench/rebuild-1m.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { buildCli, cliEnv, removeCli, runCli } from '../support/built-cli.js';
import { canonicalDump } from '../support/read-model-documents.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor('Asia/Shanghai');
/** Enough log that a rebuild takes a while: the staging files grow for a second or more. */
const LOG = { events: 40_000, wallets: 400, merchants: 8 } as const;
/** A staging file this large means the workers are well into the log. */
const MID_WAY_BYTES = 1_000_000;

async function dumpOf(dataDir: string): Promise<string> {
  const store = new SqliteReadModelStore(join(dataDir, READ_MODELS_FILE));
  try {
    await store.ensureCollections(PROJECTIONS.flatMap((p) => p.collections));
    return await canonicalDump(store, PROJECTIONS);
  } finally {
    await store.close();
  }
}

const stagingFiles = (dataDir: string) => readdirSync(dataDir).filter((name) => name.includes('.rebuild-'));

/** `ledger rebuild` as an operator runs it: a new file built beside the live one, then swapped in. */
describe('ledger rebuild in bulk mode', () => {
  let cli = '';
  let dataDir = '';
  let rebuilt = '';

  beforeAll(async () => {
    cli = buildCli();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-bulk-'));
    await generateLog(join(dataDir, EVENTS_FILE), LOG);
    const first = runCli(cli, ['rebuild'], { DATA_DIR: dataDir });
    expect(first.status, first.stderr).toBe(0);
    rebuilt = await dumpOf(dataDir);
    expect(rebuilt).toContain('checkpoint books ');
  }, 120_000);

  afterAll(() => removeCli(cli));

  it('killed with SIGKILL mid-way leaves the old read models whole, and the next rebuild succeeds', async () => {
    const child = spawn(process.execPath, [cli, 'rebuild'], {
      env: cliEnv({ DATA_DIR: dataDir }),
      stdio: 'ignore',
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let finished = false;
    void exited.then(() => (finished = true));
    const midWay = () =>
      stagingFiles(dataDir).some((name) => {
        try {
          return statSync(join(dataDir, name)).size > MID_WAY_BYTES;
        } catch {
          return false; // removed between the listing and the look
        }
      });
    while (!finished && !midWay()) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(finished, 'the rebuild ended before it could be killed mid-way').toBe(false);
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    expect([code, signal]).toEqual([null, 'SIGKILL']);

    // What the killed rebuild left is staging files beside the live read models, which are as they were.
    expect(stagingFiles(dataDir).length).toBeGreaterThan(0);
    expect(await dumpOf(dataDir)).toBe(rebuilt);

    const again = runCli(cli, ['rebuild'], { DATA_DIR: dataDir });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^rebuilt balances, operations, statements, books, entities, transfer-batches, webhook_endpoints, payer-history, transit, channel-orders, recon-breaks, recon-days, card_contracts: replayed 40000 events/,
    );
    expect(stagingFiles(dataDir)).toEqual([]);
    expect(await dumpOf(dataDir)).toBe(rebuilt);
  }, 120_000);

  it('rebuilds the projections asked for and keeps the others, checkpoints included', async () => {
    const run = runCli(cli, ['rebuild', '--projection', 'balances', 'entities'], { DATA_DIR: dataDir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rebuilt balances, entities: /);
    expect(stagingFiles(dataDir)).toEqual([]);
    expect(await dumpOf(dataDir)).toBe(rebuilt);
  }, 120_000);
});
