import { FUNDS_MOVEMENT_EVENT_TYPES, type CounterpartySnapshot } from '../domain/accounts/account-events.js';
import type { LedgerEvent } from '../domain/event-catalogue.js';
import { accountingDate } from '../domain/shared/accounting-day.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { AccountingProjection } from './accounting-zone.js';
import { UNCHANGED, type DocumentChange, type EventEnvelope } from './projection.js';
import { compositeKey, positionKey, sequenceKey, utcInstantKey } from './read-model-keys.js';

/**
 * The external ledger: account statements. Single-entry, one line per movement on an account, in log
 * order, each with what the account held after it. Freezes and releases are lines too: they move money
 * between available and frozen without changing the balance.
 *
 * A line's running balances need the account's previous state, kept in a per-account head document
 * (last sequence, balance, available, frozen). An event changes the head first, then writes its line from
 * the head's new state: the runner applies one event's changes in order and writes both documents with
 * the event's position in one batch, so they are applied, or skipped as a replay, together.
 */
export const STATEMENTS_PROJECTION = 'statements';
export const STATEMENT_LINES_COLLECTION = 'statement_lines';
export const STATEMENT_HEADS_COLLECTION = 'statement_heads';

export const STATEMENT_DIRECTIONS = ['credit', 'debit', 'freeze', 'release', 'deduct'] as const;
export type StatementDirection = (typeof STATEMENT_DIRECTIONS)[number];

export interface StatementHeadDocument extends JsonObject {
  accountId: string;
  ownerId: string;
  accountType: string;
  currency: string;
  /** Sequence of the account's last line; 0 before the first. */
  lastSequence: number;
  balanceMinor: string;
  availableMinor: string;
  frozenMinor: string;
}

export interface StatementLineDocument extends JsonObject {
  accountId: string;
  /** 1, 2, 3... per account, in log order, without gaps. */
  sequence: number;
  eventId: string;
  /** Global log position of the event (decimal string). */
  position: string;
  /** The recharge, payment, refund, transfer, withdrawal, freeze or pre-authorisation step it belongs to. */
  operationId: string;
  /** Movement kind (payment, refund...), "recharge", the freeze purpose, or "release". */
  operationKind: string;
  direction: StatementDirection;
  /** Always positive; `direction` says which way it moved. */
  amountMinor: string;
  currency: string;
  balanceAfterMinor: string;
  availableAfterMinor: string;
  frozenAfterMinor: string;
  counterparty: { accountId: string | null; ownerId: string | null; name: string | null; channel: string | null };
  merchantOrderNo: string | null;
  /** The channel's reference (recharges), for reconciliation. */
  channelOrderNo: string | null;
  /** The freeze or pre-authorisation whose funds moved (freeze, release, deduct lines). */
  freezeId: string | null;
  memo: string;
  occurredAt: string;
  /** Calendar date of occurredAt in the accounting time zone. */
  accountingDate: string;
  /** `<accountId>|<sequence>`: an account's lines in sequence order. */
  accountSequenceKey: string;
  /** `<accountId>|<occurredAt>|<sequence>`: an account's lines in a time range, in order. */
  accountTimeKey: string;
  /** `<accountId>|<accountingDate>|<occurredAt>|<sequence>`: an account's lines over accounting days, in order. */
  accountDateKey: string;
}

/** What one event does to one account's statement. */
interface Movement {
  readonly accountId: string;
  readonly direction: StatementDirection;
  readonly amountMinor: bigint;
  readonly balanceDeltaMinor: bigint;
  readonly frozenDeltaMinor: bigint;
  readonly operationId: string;
  readonly operationKind: string;
  readonly counterparty: CounterpartySnapshot;
  readonly merchantOrderNo: string | null;
  readonly channelOrderNo: string | null;
  readonly freezeId: string | null;
  readonly memo: string;
}

const NOBODY: CounterpartySnapshot = { accountId: null, ownerId: null, name: null, channel: null };

/** An account's opening (its statement head) and every event movementOf reads. */
const STATEMENT_EVENT_TYPES = ['AccountOpened', ...FUNDS_MOVEMENT_EVENT_TYPES] as const;

function movementOf(event: LedgerEvent): Movement | null {
  switch (event.type) {
    case 'FundsRecharged': {
      const d = event.data;
      return {
        accountId: d.accountId,
        direction: 'credit',
        amountMinor: d.amountMinor,
        balanceDeltaMinor: d.amountMinor,
        frozenDeltaMinor: 0n,
        operationId: d.rechargeId,
        operationKind: 'recharge',
        counterparty: { ...NOBODY, channel: d.channel },
        merchantOrderNo: null,
        channelOrderNo: d.channelOrderNo,
        freezeId: null,
        memo: '',
      };
    }
    case 'FundsDebited':
    case 'FundsCredited': {
      const d = event.data;
      const debit = event.type === 'FundsDebited';
      return {
        accountId: d.accountId,
        direction: debit ? 'debit' : 'credit',
        amountMinor: d.amountMinor,
        balanceDeltaMinor: debit ? -d.amountMinor : d.amountMinor,
        frozenDeltaMinor: 0n,
        operationId: d.operationId,
        operationKind: d.kind,
        counterparty: d.counterparty,
        merchantOrderNo: d.merchantOrderNo,
        channelOrderNo: null,
        freezeId: null,
        memo: d.memo,
      };
    }
    case 'FundsFrozen': {
      const d = event.data;
      return {
        accountId: d.accountId,
        direction: 'freeze',
        amountMinor: d.amountMinor,
        balanceDeltaMinor: 0n,
        frozenDeltaMinor: d.amountMinor,
        operationId: d.freezeId,
        operationKind: d.purpose,
        counterparty: NOBODY,
        merchantOrderNo: null,
        channelOrderNo: null,
        freezeId: d.freezeId,
        memo: d.reason,
      };
    }
    case 'FrozenFundsReleased': {
      const d = event.data;
      return {
        accountId: d.accountId,
        direction: 'release',
        amountMinor: d.amountMinor,
        balanceDeltaMinor: 0n,
        frozenDeltaMinor: -d.amountMinor,
        operationId: d.freezeId,
        operationKind: 'release',
        counterparty: NOBODY,
        merchantOrderNo: null,
        channelOrderNo: null,
        freezeId: d.freezeId,
        memo: d.reason,
      };
    }
    case 'FrozenFundsDeducted': {
      const d = event.data;
      return {
        accountId: d.accountId,
        direction: 'deduct',
        amountMinor: d.amountMinor,
        balanceDeltaMinor: -d.amountMinor,
        frozenDeltaMinor: -d.amountMinor,
        operationId: d.operationId,
        operationKind: d.kind,
        counterparty: d.counterparty,
        merchantOrderNo: null,
        channelOrderNo: null,
        freezeId: d.freezeId,
        memo: '',
      };
    }
    default:
      return null;
  }
}

/** How a line moves the balance: what the sum of an account's lines adds up to (DESIGN invariant 3). */
export function balanceEffectMinor(line: Pick<StatementLineDocument, 'direction' | 'amountMinor'>): bigint {
  const amount = BigInt(line.amountMinor);
  return line.direction === 'credit'
    ? amount
    : line.direction === 'debit' || line.direction === 'deduct'
      ? -amount
      : 0n;
}

/** The document id of an account's line for the event at `position`: sorts in log order within the account. */
export function statementLineId(accountId: string, position: bigint): string {
  return `${accountId}:${positionKey(position)}`;
}

function advanceHead(previous: JsonObject | null, movement: Movement, envelope: EventEnvelope): StatementHeadDocument {
  if (previous === null)
    throw new Error(`statements: movement on unknown account ${movement.accountId} at ${envelope.position}`);
  const head = previous as StatementHeadDocument;
  const balance = BigInt(head.balanceMinor) + movement.balanceDeltaMinor;
  const frozen = BigInt(head.frozenMinor) + movement.frozenDeltaMinor;
  return {
    ...head,
    lastSequence: head.lastSequence + 1,
    balanceMinor: balance.toString(),
    frozenMinor: frozen.toString(),
    availableMinor: (balance - frozen).toString(),
  };
}

function lineOf(
  head: StatementHeadDocument,
  movement: Movement,
  envelope: EventEnvelope,
  timeZone: string,
): StatementLineDocument {
  const occurredAt = utcInstantKey(envelope.metadata.occurredAt);
  const date = accountingDate(occurredAt, timeZone);
  const sequence = sequenceKey(head.lastSequence);
  return {
    accountId: movement.accountId,
    sequence: head.lastSequence,
    eventId: envelope.metadata.eventId,
    position: envelope.position.toString(),
    operationId: movement.operationId,
    operationKind: movement.operationKind,
    direction: movement.direction,
    amountMinor: movement.amountMinor.toString(),
    currency: head.currency,
    balanceAfterMinor: head.balanceMinor,
    availableAfterMinor: head.availableMinor,
    frozenAfterMinor: head.frozenMinor,
    counterparty: { ...movement.counterparty },
    merchantOrderNo: movement.merchantOrderNo,
    channelOrderNo: movement.channelOrderNo,
    freezeId: movement.freezeId,
    memo: movement.memo,
    occurredAt,
    accountingDate: date,
    accountSequenceKey: compositeKey(movement.accountId, sequence),
    accountTimeKey: compositeKey(movement.accountId, occurredAt, sequence),
    accountDateKey: compositeKey(movement.accountId, date, occurredAt, sequence),
  };
}

/** The head moves first; the line is written from the head's new state (see the module comment). */
function headThenLine(movement: Movement, envelope: EventEnvelope, timeZone: string): DocumentChange[] {
  let advanced: StatementHeadDocument | undefined;
  return [
    {
      collection: STATEMENT_HEADS_COLLECTION,
      id: movement.accountId,
      apply: (previous) => {
        advanced = advanceHead(previous, movement, envelope);
        return advanced;
      },
    },
    {
      collection: STATEMENT_LINES_COLLECTION,
      id: statementLineId(movement.accountId, envelope.position),
      apply: () => {
        // The head did not move: this event was applied before (a replay), and its line was written with
        // the head in the same batch. Lines are write-once, so the runner does not read them back to know.
        if (advanced === undefined) return UNCHANGED;
        return lineOf(advanced, movement, envelope, timeZone);
      },
    },
  ];
}

export function statementsProjection(timeZone: string): AccountingProjection {
  return {
    name: STATEMENTS_PROJECTION,
    version: 1,
    accountingTimeZone: timeZone,
    collections: [
      {
        name: STATEMENT_LINES_COLLECTION,
        indexes: ['accountSequenceKey', 'accountTimeKey', 'accountDateKey', 'operationId'],
        writeOnce: true,
      },
      { name: STATEMENT_HEADS_COLLECTION, indexes: [] },
    ],
    eventTypes: STATEMENT_EVENT_TYPES,
    handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
      if (event.type === 'AccountOpened') {
        const d = event.data;
        const head: StatementHeadDocument = {
          accountId: d.accountId,
          ownerId: d.ownerId,
          accountType: d.accountType,
          currency: d.currency,
          lastSequence: 0,
          balanceMinor: '0',
          availableMinor: '0',
          frozenMinor: '0',
        };
        return [{ collection: STATEMENT_HEADS_COLLECTION, id: d.accountId, apply: () => head }];
      }
      const movement = movementOf(event);
      return movement === null ? [] : headThenLine(movement, envelope, timeZone);
    },
  };
}
