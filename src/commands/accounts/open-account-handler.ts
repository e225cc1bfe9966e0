import { createHash } from 'node:crypto';
import type { AccountCommand } from '../../domain/accounts/account-decider.js';
import type { AccountEvent } from '../../domain/accounts/account-events.js';
import { generateAccountNumber, type AccountNumber } from '../../domain/accounts/account-number.js';
import type { AccountState } from '../../domain/accounts/account-state.js';
import type { AccountType } from '../../domain/accounts/account-type.js';
import type { CurrencyCode } from '../../domain/money/currency.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore, RecordedEvent } from '../../ports/event-store.js';
import { deriveEventId, type CommandContext } from '../command-context.js';
import type { HandledCommand, StreamCommandHandler } from '../stream-command-handler.js';

export type AccountHandler = StreamCommandHandler<AccountCommand, AccountEvent, AccountState>;

export function accountStreamId(accountId: string): string {
  return `account-${accountId}`;
}

/** Attempts at drawing an unused account number (a clash needs two equal 12-digit draws). */
const MAX_NUMBER_DRAWS = 5;

export interface OpenAccountRequest {
  readonly ownerId: string;
  readonly accountType: AccountType;
  readonly currency: CurrencyCode;
  readonly displayName: string;
}

/**
 * Opens an account under a fresh number. The number is drawn from digits derived from the operation key,
 * so a retried request draws the same number and finds its own account instead of opening a second one.
 */
export async function openAccount(
  eventStore: EventStore,
  handler: AccountHandler,
  request: OpenAccountRequest,
  context: CommandContext,
): Promise<HandledCommand<AccountEvent, AccountState> & { accountId: AccountNumber }> {
  for (let draw = 0; draw < MAX_NUMBER_DRAWS; draw += 1) {
    const accountId = generateAccountNumber(request.accountType, derivedDigits(`${context.operationKey}/${draw}`));
    try {
      const handled = await handler.handle(
        accountStreamId(accountId),
        { type: 'OpenAccount', accountId, ...request },
        context,
      );
      return { ...handled, accountId };
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'account_exists')) throw error;
      // This number is taken. If our own earlier attempt took it (a retried request), answer with it.
      const streamId = accountStreamId(accountId);
      const opened = await firstEvent(eventStore, streamId);
      if (opened?.metadata.eventId === deriveEventId(context.operationKey, streamId, 0)) {
        const current = await handler.load(streamId);
        return { events: [], state: current.state, revision: current.revision, position: opened.position, accountId };
      }
    }
  }
  throw new Error(`no unused account number after ${MAX_NUMBER_DRAWS} draws`);
}

function derivedDigits(seed: string): () => number {
  const bytes = createHash('sha256').update(seed).digest();
  let index = 0;
  return () => {
    const digit = bytes[index % bytes.length]! % 10;
    index += 1;
    return digit;
  };
}

async function firstEvent(eventStore: EventStore, streamId: string): Promise<RecordedEvent | undefined> {
  for await (const event of eventStore.readStream(streamId, { maxCount: 1 })) return event;
  return undefined;
}
