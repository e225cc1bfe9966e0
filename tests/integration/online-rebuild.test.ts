import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildOnline } from '../../scripts/rebuild-online.js';
import { BALANCES_COLLECTION } from '../../src/projections/balances.js';
import { builtAside, readModelContents } from '../support/read-model-contents.js';
import { allDocuments } from '../support/read-model-documents.js';
import { openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Online rebuild through the API while commands flow (src/projections/online-rebuild.ts): every read
 * during the rebuild sees the live model whole (each balance as acknowledged, the sum of all of them),
 * and once switched in every read model equals a rebuild from event zero made aside.
 */

interface RebuildAnswer {
  rebuild: {
    phase: string;
    projections: string[];
    switched: string[];
    finishedAt: string | null;
    error: string | null;
    position: string | null;
    head: string | null;
  } | null;
}

describe('online rebuild while commands flow', () => {
  let ledger: TestLedger;
  const wallets: string[] = [];
  /** Acknowledged balance of each wallet, in minor units. */
  const expected = new Map<string, bigint>();

  beforeAll(async () => {
    // One event per step of the build: the rebuild of this small log takes long enough for commands to
    // flow during it (the default 1,000 would build each projection in one step).
    ledger = await startTestLedger(undefined, { ONLINE_REBUILD_BATCH_EVENTS: '1' });
    for (let i = 0; i < 4; i += 1) {
      const wallet = await openWallet(ledger.app);
      wallets.push(wallet.accountId);
      expected.set(wallet.accountId, 0n);
    }
    for (let round = 0; round < 10; round += 1) for (const wallet of wallets) await pay(wallet, 100n);
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function pay(accountId: string, amountMinor: bigint): Promise<string> {
    const answer = await recharge(ledger.app, accountId, (Number(amountMinor) / 100).toFixed(2));
    expect(answer.statusCode).toBe(201);
    expected.set(accountId, expected.get(accountId)! + amountMinor);
    return answer.json<{ position: string }>().position;
  }

  async function status(): Promise<RebuildAnswer['rebuild']> {
    const answer = await ledger.inject({ method: 'GET', url: '/v1/projections/rebuild' });
    expect(answer.statusCode).toBe(200);
    return answer.json<RebuildAnswer>().rebuild;
  }

  it('serves the live model whole during the rebuild, and the rebuilt one, equal to a rebuild aside, after', async () => {
    expect(await status()).toBeNull();
    const started = await ledger.inject({ method: 'POST', url: '/v1/projections/all/rebuild' });
    expect(started.statusCode).toBe(202);
    expect(started.json<RebuildAnswer>().rebuild!.projections).toEqual(
      ledger.service.readModelProjections.map((p) => p.name),
    );
    let commandsDuring = 0;
    const deadline = Date.now() + 120_000;
    for (let i = 0; Date.now() < deadline; i += 1) {
      const wallet = wallets[i % wallets.length]!;
      const position = await pay(wallet, 1n);
      // Read-your-writes through the live model, whatever phase the rebuild is in.
      const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${wallet}?minPosition=${position}` });
      expect(read.statusCode).toBe(200);
      expect(read.json<{ balance: string }>().balance).toBe((Number(expected.get(wallet)!) / 100).toFixed(2));
      // The whole model at once: every wallet there.
      const balances = await allDocuments(ledger.service.readModels, BALANCES_COLLECTION);
      const ours = balances.filter((d) => wallets.includes(d.id));
      expect(ours).toHaveLength(wallets.length);
      const current = await status();
      if (current!.finishedAt !== null) break;
      commandsDuring += 1;
      expect(['building', 'catching-up', 'switching']).toContain(current!.phase);
    }
    const finished = await status();
    expect(finished!.error).toBeNull();
    expect(finished!.phase).toBe('done');
    expect(finished!.switched).toEqual(finished!.projections);
    // The rebuild overlapped with acknowledged commands and their reads (it is 13 projections, each
    // built, caught up and switched; a command and its read take milliseconds).
    expect(commandsDuring).toBeGreaterThan(0);

    // After the switch: a command and its read as before, then every read model equals one built aside.
    const last = await pay(wallets[0]!, 7n);
    for (const projection of ledger.service.readModelProjections)
      await ledger.service.projections.waitForPosition(projection.name, BigInt(last), 20_000);
    for (const wallet of wallets) {
      const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${wallet}` });
      expect(read.json<{ balance: string }>().balance).toBe((Number(expected.get(wallet)!) / 100).toFixed(2));
    }
    const projections = ledger.service.readModelProjections;
    const aside = await builtAside(ledger.service.eventStore, projections);
    try {
      expect(await readModelContents(ledger.service.readModels, projections)).toEqual(
        await readModelContents(aside, projections),
      );
    } finally {
      await aside.close();
    }
  }, 180_000);

  it('names what it refuses: an unknown projection, and a caller who is not an operator', async () => {
    const unknown = await ledger.inject({ method: 'POST', url: '/v1/projections/no-such/rebuild' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json<{ code: string }>().code).toBe('projection_not_found');
    const unsigned = await ledger.app.inject({ method: 'POST', url: '/v1/projections/balances/rebuild' });
    expect(unsigned.statusCode).toBe(401);
  });

  it('`ledger projections rebuild <name> --wait` asks the service over HTTP and follows it to the switch', async () => {
    const address = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
    const keyFile = join(mkdtempSync(join(tmpdir(), 'ledger-key-')), 'operator.pem');
    writeFileSync(keyFile, ledger.operator.privateKeyPem, { mode: 0o600 });
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => logged.push(line);
    try {
      const done = await rebuildOnline(
        'balances',
        { wait: true },
        {
          LEDGER_URL: address,
          LEDGER_KEY_ID: ledger.operator.keyId,
          LEDGER_KEY_FILE: keyFile,
        },
      );
      expect(done).toMatchObject({ phase: 'done', switched: ['balances'], reason: 'operator' });
    } finally {
      console.log = log;
    }
    expect(logged.at(-1)).toBe('rebuild balances: finished done (switched: balances)');
  });

  it('readiness and the projection status show a rebuild while it runs, and the last one after', async () => {
    const projections = await ledger.inject({ method: 'GET', url: '/v1/projections' });
    expect(projections.statusCode).toBe(200);
    expect(projections.json<{ rebuild: { phase: string } | null }>().rebuild?.phase).toBe('done');
    const ready = await ledger.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json<{ checks: Record<string, string> }>().checks['rebuild']).toBeUndefined();
  });
});
