import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import type { CommandContext } from '../../src/commands/command-context.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import type { AccountType } from '../../src/domain/accounts/account-type.js';
import { parseAmount, parseCurrency } from '../../src/domain/money/money.js';
import { payerFor, testChannels } from './test-channels.js';

/** The write side on a real embedded event store, without HTTP: for operation-level tests. */
export function commandFixture(dataDir = mkdtempSync(join(tmpdir(), 'ledger-cmd-'))) {
  const eventStore = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const channels = testChannels();
  const commands = new LedgerCommands(eventStore, channels.gateway, 'Asia/Shanghai');
  return {
    eventStore,
    commands,
    channels,
    dataDir,
    close: async () => {
      await channels.close();
      await eventStore.close();
    },
  };
}

export function context(overrides: Partial<CommandContext> = {}): CommandContext {
  const key = randomUUID();
  return {
    actor: 'op-test',
    correlationId: key,
    causationId: null,
    idempotencyKey: key,
    operationKey: key,
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

export const CNY = parseCurrency('CNY');
export const cny = (amount: string) => parseAmount(amount, CNY);

export async function openFunded(
  commands: LedgerCommands,
  type: AccountType,
  amount: string | null,
  ownerId = `o-${randomUUID().slice(0, 8)}`,
): Promise<string> {
  const opened = await commands.openAccount(
    { ownerId, accountType: type, currency: CNY, displayName: `${type} ${ownerId}` },
    context(),
  );
  if (amount !== null) {
    if (type === 'wallet') {
      await commands.recharge(
        { accountId: opened.accountId, amount: cny(amount), payer: await payerFor(commands) },
        context(),
      );
    } else {
      throw new Error('only wallets are funded by recharge in fixtures');
    }
  }
  return opened.accountId;
}

/** `count` payments of 1.25 from a funded wallet into a merchant account it opens for `merchantId`. */
export async function payRepeatedly(commands: LedgerCommands, merchantId: string, count: number): Promise<void> {
  const payer = await openFunded(commands, 'wallet', '100.00');
  const payee = await openFunded(commands, 'merchant_settlement', null, merchantId);
  for (let i = 0; i < count; i += 1) {
    await commands.pay(
      {
        merchantId,
        merchantOrderNo: `order-${i}`,
        description: '',
        payerAccountId: payer,
        payeeAccountId: payee,
        amount: cny('1.25'),
        payerIp: null,
        payerPlatform: null,
      },
      context(),
    );
  }
}
