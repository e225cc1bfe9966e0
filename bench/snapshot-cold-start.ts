import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLedgerService, type LedgerService } from '../src/adapters/ledger-service.js';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteSnapshotStore } from '../src/adapters/sqlite/sqlite-snapshot-store.js';
import { EVENTS_FILE, SNAPSHOTS_FILE } from '../src/adapters/storage.js';
import { accountStreamId } from '../src/commands/accounts/open-account-handler.js';
import { deriveId } from '../src/commands/command-context.js';
import { toNewEvent } from '../src/commands/stream-command-handler.js';
import { loadConfig } from '../src/config.js';
import { accountDecider } from '../src/domain/accounts/account-decider.js';
import type { AccountState } from '../src/domain/accounts/account-state.js';
import { decodeEvent } from '../src/domain/event-catalogue.js';
import { MAX_EVENTS_PER_APPEND, type NewEvent } from '../src/ports/event-store.js';
import { log, nowMs, timed, withTempDir } from './harness.js';
import { BENCH_CURRENCY, benchAmountMinor, benchContext } from './ledger-fixtures.js';
import { BENCH_CHANNELS, benchPayer } from './payment-ledger.js';

/**
 * The first command on a long account after a cold start, with and without snapshots. Not one of
 * `npm run bench`'s figures (bench/ has the formal cold-start figure); run it alone:
 *
 *   npm run build && node dist/bench/snapshot-cold-start.js [--events 1000000] [--every 1000] [--repeat 5]
 *
 * How: a service opens a wallet and a second, fresh wallet; with it stopped, `--events` FundsCredited
 * events (decided by the account decider, encoded by toNewEvent, appended through SqliteEventStore with
 * its hash chain) go onto the first wallet's stream. Then three cold services in turn, each new on the
 * same DATA_DIR, projections off (so only the command side runs), answer one recharge on the long wallet
 * (timed) and one on the fresh wallet (the baseline):
 *   1. SNAPSHOT_EVERY_EVENTS=0: the long stream is read in full;
 *   2. snapshots on, none stored yet: read in full, and the read takes the snapshot (written after the
 *      answer; the service's close waits for it);
 *   3. snapshots on: the stream starts from that snapshot (`--repeat` cold services in turn, each one
 *      recharge newer than the snapshot).
 */
const USAGE = 'usage: node dist/bench/snapshot-cold-start.js [--events N] [--every N] [--repeat N]';
const NAME = 'snapshot-cold-start';
/** Appends in flight while the history is written (each of MAX_EVENTS_PER_APPEND events). */
const APPENDS_IN_FLIGHT = 20;

interface ColdRun {
  readonly label: string;
  readonly startMs: number;
  readonly firstOnLongMs: number;
  readonly firstOnFreshMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      every: { type: 'string', default: '1000' },
      repeat: { type: 'string', default: '5' },
    },
    strict: true,
  });
  const events = Number(values.events);
  const every = Number(values.every);
  const repeat = Number(values.repeat);
  if ([events, every, repeat].some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error(USAGE);

  await withTempDir(NAME, async (dir) => {
    const setup = await startLedgerService(loadConfig({ DATA_DIR: dir, SNAPSHOT_EVERY_EVENTS: '0' }), {
      runProjections: false,
    });
    const longId = await openWallet(setup, 'long');
    const freshId = await openWallet(setup, 'fresh');
    await setup.close();

    log(NAME, `appending ${events.toLocaleString('en-US')} FundsCredited events to the long wallet`);
    const { seconds } = await timed(() => appendCredits(join(dir, EVENTS_FILE), longId, events));
    log(NAME, `appended in ${seconds.toFixed(1)} s`);

    const runs: ColdRun[] = [];
    runs.push(await coldRun(dir, '0', 'snapshots off: full read', longId, freshId));
    runs.push(await coldRun(dir, String(every), 'snapshots on, none yet: full read, takes one', longId, freshId));
    for (let i = 1; i <= repeat; i += 1)
      runs.push(await coldRun(dir, String(every), `snapshots on: from the snapshot (${i}/${repeat})`, longId, freshId));

    const snapshots = new SqliteSnapshotStore(join(dir, SNAPSHOTS_FILE));
    const snapshot = await snapshots.load(accountStreamId(longId));
    await snapshots.close();
    for (const run of runs)
      log(
        NAME,
        `${run.label}: service start ${run.startMs.toFixed(1)} ms; first recharge on the long wallet ${run.firstOnLongMs.toFixed(1)} ms, on the fresh wallet ${run.firstOnFreshMs.toFixed(1)} ms`,
      );
    console.log(
      JSON.stringify(
        {
          events,
          snapshotEveryEvents: every,
          snapshotRevision: snapshot?.revision.toString() ?? null,
          snapshotBytes: snapshot ? Buffer.byteLength(JSON.stringify(snapshot.state)) : null,
          runs,
        },
        null,
        2,
      ),
    );
  });
}

async function openWallet(service: LedgerService, name: string): Promise<string> {
  const opened = await service.commands.openAccount(
    { ownerId: `u-${name}`, accountType: 'wallet', currency: BENCH_CURRENCY, displayName: `${name} wallet` },
    benchContext(`open-${name}`),
  );
  return opened.accountId;
}

/** A new service on `dir`: how long it takes to start, and its first recharge on each wallet. */
async function coldRun(dir: string, every: string, label: string, longId: string, freshId: string): Promise<ColdRun> {
  const warnings: string[] = [];
  const started = nowMs();
  const service = await startLedgerService(loadConfig({ DATA_DIR: dir, SNAPSHOT_EVERY_EVENTS: every }), {
    channels: BENCH_CHANNELS,
    runProjections: false,
    onSnapshotWarning: (message, details) => warnings.push(`${message}: ${details['reason'] ?? ''}`),
  });
  const startMs = nowMs() - started;
  try {
    // The card is bound before anything is timed: binding is the channels' work, not a cold start's.
    const payer = await benchPayer(service);
    const recharge = async (accountId: string) => {
      const sent = nowMs();
      await service.commands.recharge(
        { accountId, amount: { amountMinor: 100n, currency: BENCH_CURRENCY }, payer },
        benchContext(`recharge-${label}-${accountId}`),
      );
      return nowMs() - sent;
    };
    // The fresh wallet first: whatever a first command costs in a new process falls on the baseline.
    const firstOnFreshMs = await recharge(freshId);
    const firstOnLongMs = await recharge(longId);
    if (warnings.length > 0) throw new Error(`snapshot warnings: ${warnings.join('; ')}`);
    return { label, startMs, firstOnLongMs, firstOnFreshMs };
  } finally {
    await service.close();
  }
}

/** `count` FundsCredited events on `accountId`, in appends of MAX_EVENTS_PER_APPEND, many in flight. */
async function appendCredits(eventsFile: string, accountId: string, count: number): Promise<void> {
  const store = new SqliteEventStore(eventsFile);
  try {
    const streamId = accountStreamId(accountId);
    let state: AccountState = accountDecider.initialState();
    let revision = -1n;
    for await (const recorded of store.readStream(streamId)) {
      state = accountDecider.evolve(state, decodeEvent(recorded.type, recorded.data) as never);
      revision = recorded.revision;
    }
    let written = 0;
    while (written < count) {
      const appends: Promise<unknown>[] = [];
      for (let a = 0; a < APPENDS_IN_FLIGHT && written < count; a += 1) {
        const batch: NewEvent[] = [];
        while (batch.length < MAX_EVENTS_PER_APPEND && written < count) {
          const context = benchContext(`credit-${written}`);
          const [credited] = accountDecider.decide(
            {
              type: 'CreditAccount',
              accountId,
              amount: { amountMinor: benchAmountMinor(written), currency: BENCH_CURRENCY },
              kind: 'refund',
              operationId: deriveId(context.operationKey, 'refund'),
              merchantOrderNo: null,
              counterparty: { accountId: null, ownerId: null, name: 'Bench merchant', channel: null },
              memo: 'bench refund',
            },
            state,
          );
          state = accountDecider.evolve(state, credited!);
          batch.push(toNewEvent(credited!, 0, streamId, context));
          written += 1;
        }
        appends.push(store.appendToStream(streamId, batch, revision));
        revision += BigInt(batch.length);
      }
      await Promise.all(appends);
    }
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
