import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import type { ProjectionStatus } from '../../src/client/api-types.js';
import type { PayerInstrument } from '../../src/domain/channels/payer-instrument.js';
import { LedgerClient } from '../../src/client/ledger-client.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import {
  buildCli,
  freePort,
  removeCli,
  runCli,
  startServe,
  stopAllServes,
  stopServe,
  waitReady,
  type ServeProcess,
} from '../support/built-cli.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';
import { canonicalDump } from '../support/read-model-documents.js';
import { bindCardAtSimulatorProcess } from '../support/test-channels.js';

const TTL_MS = 1_500;

/**
 * Two real `ledger serve` processes on one embedded DATA_DIR: only one runs the projections (the lease
 * holder), the other answers read-your-writes from the shared checkpoints; killed with SIGKILL, the
 * holder is replaced within its TTL, and the read models end up equal to a fresh rebuild.
 */
describe('the projections lease between two ledger serve processes', () => {
  let cli = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-lease-'));
  // Both processes charge at one channel simulator process, as two instances share a real bank.
  const env: Record<string, string> = { DATA_DIR: dataDir, PROJECTION_LEASE_TTL_MS: String(TTL_MS) };
  let keyId = '';
  let privateKeyPem = '';
  let bank: SimulatorProcess;
  let payer: PayerInstrument;

  beforeAll(async () => {
    bank = await startSimulatorProcess(['--seed', 'ledger']);
    env['CHANNELS_URL'] = bank.url;
    payer = { method: 'quick_pay', card: await bindCardAtSimulatorProcess(bank.url) };
    cli = buildCli();
    const created = runCli(cli, ['admin', 'create-operator', '--name', 'Lease drill'], env);
    expect(created.status).toBe(0);
    const entityId = /entity id: (op-[0-9a-f-]{36})/.exec(created.stdout)?.[1];
    keyId = /key id:\s+(\S+)/.exec(created.stdout)![1]!;
    privateKeyPem = readFileSync(join(dataDir, 'keys', `${entityId}.pem`), 'utf8');
  }, 120_000);
  afterAll(async () => {
    await stopAllServes();
    removeCli(cli);
    await bank.stop();
  });

  const clientOf = (serve: ServeProcess) => new LedgerClient({ baseUrl: serve.baseUrl, keyId, privateKeyPem });
  const status = (serve: ServeProcess): Promise<ProjectionStatus> => clientOf(serve).getProjectionStatus();

  /** Recharges through `via` and reads the balance back through `readVia` at the position it answered. */
  async function rechargeAndRead(via: ServeProcess, readVia: ServeProcess, accountId: string): Promise<string> {
    const recharged = await clientOf(via).recharge({
      accountId,
      amount: '1.00',
      currency: 'CNY',
      payer,
    });
    const account = await clientOf(readVia).getAccount(accountId, { minPosition: recharged.position });
    return account.balance;
  }

  it('runs the projections in one process, hands them over when it is killed, and loses nothing', async () => {
    const first = startServe(cli, { ...env, PORT: String(await freePort()) });
    await waitReady(first);
    const second = startServe(cli, { ...env, PORT: String(await freePort()) });
    await waitReady(second);

    const [a, b] = await Promise.all([status(first), status(second)]);
    expect([a.instance.holding, b.instance.holding]).toEqual([true, false]);
    // Both read the same lease from the store: held by the first, token 1, not expired.
    for (const seen of [a, b]) {
      expect(seen.leases).toHaveLength(1);
      expect(seen.leases[0]).toMatchObject({
        name: 'projections',
        holder: a.instance.holder,
        token: '1',
        expired: false,
      });
    }
    expect(b.instance.holder).not.toBe(a.instance.holder);

    // Commands through either; read-your-writes exact through the one that does not run the projections.
    const client = clientOf(second);
    const user = await client.registerEntity({ kind: 'user', displayName: 'Lease user' });
    const wallet = await client.openAccount({ ownerId: user.entityId, type: 'wallet', currency: 'CNY' });
    for (let i = 1; i <= 3; i += 1) {
      expect(await rechargeAndRead(i % 2 === 0 ? first : second, second, wallet.accountId)).toBe(`${i}.00`);
    }

    expect(await stopServe(first, 'SIGKILL')).toBeNull();
    const killedAtMs = Date.now();
    let takenOver: ProjectionStatus | undefined;
    while (Date.now() - killedAtMs < 4 * TTL_MS) {
      const seen = await status(second);
      if (seen.instance.holding) {
        takenOver = seen;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const handOverMs = Date.now() - killedAtMs;
    // The dead holder's lease runs out at most a TTL after its last renewal, and the survivor polls every
    // TTL/3: the hand-over takes at most 4/3 of the TTL, plus this loop's own polling.
    expect(takenOver, `not taken over ${handOverMs} ms after the kill`).toBeDefined();
    expect(handOverMs).toBeLessThan((4 / 3) * TTL_MS + 500);
    expect(takenOver!.leases[0]).toMatchObject({ holder: b.instance.holder, token: '2', expired: false });

    // The survivor keeps the read models up: commands through it answer minPosition exactly.
    for (let i = 4; i <= 6; i += 1) expect(await rechargeAndRead(second, second, wallet.accountId)).toBe(`${i}.00`);

    // A graceful stop releases the lease: nobody holds it, and the token stays for the next holder to pass.
    expect(await stopServe(second)).toBe(0);
    const ledgerProjections = projectionsFor('Asia/Shanghai');
    const events = new SqliteEventStore(join(dataDir, EVENTS_FILE));
    const live = new SqliteReadModelStore(join(dataDir, READ_MODELS_FILE));
    const fresh = new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-lease-fresh-')), READ_MODELS_FILE));
    try {
      expect(await live.listLeases()).toMatchObject([{ name: 'projections', holder: null, token: 2n }]);
      await live.ensureCollections(ledgerProjections.flatMap((p) => p.collections));
      await new ProjectionRunner(events, fresh, ledgerProjections).catchUp();
      // No document or checkpoint written twice wrongly: the two holders' work is exactly one replay's.
      expect(await canonicalDump(live, ledgerProjections)).toBe(await canonicalDump(fresh, ledgerProjections));
    } finally {
      await Promise.all([events.close(), live.close(), fresh.close()]);
    }

    // What the CLI shows, from the store.
    const shown = runCli(cli, ['projections'], env);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('lease projections: free (released; token 2)');
    expect(shown.stdout).toMatch(/balances\s+checkpoint \d+/);
  }, 90_000);

  it('a lease a killed service left does not hold up the service started after a rebuild', async () => {
    const killed = startServe(cli, { ...env, PORT: String(await freePort()) });
    await waitReady(killed);
    const held = await status(killed);
    expect(held.instance.holding).toBe(true);
    expect(await stopServe(killed, 'SIGKILL')).toBeNull();

    // Under the exclusive lock no service can be alive: the rebuild frees the lease it left.
    const rebuilt = runCli(cli, ['rebuild'], env);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    const shown = runCli(cli, ['projections'], env);
    expect(shown.stdout).toContain(`lease projections: free (released; token ${held.leases[0]!.token})`);

    // A TTL far beyond this test: only a freed lease lets the next service run the projections at once.
    const next = startServe(cli, { ...env, PROJECTION_LEASE_TTL_MS: '600000', PORT: String(await freePort()) });
    await waitReady(next);
    const after = await status(next);
    expect(after.instance.holding).toBe(true);
    expect(BigInt(after.leases[0]!.token)).toBe(BigInt(held.leases[0]!.token) + 1n);
    expect(await stopServe(next)).toBe(0);
  }, 90_000);
});
