import { FUNDS_MOVEMENT_EVENT_TYPES } from '../domain/accounts/account-events.js';
import type { AccountFlags } from '../domain/accounts/account-flags.js';
import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { utcInstantKey } from './read-model-keys.js';

/**
 * Account balances: one document per account with balance, available and frozen funds in minor units
 * (decimal strings: exact, and readable by any reporting tool). balance = available + frozen always.
 */
export const BALANCES_COLLECTION = 'account_balances';

/** An account's control flags as stored: the limit in minor units, as a decimal string. */
export interface StoredAccountFlags extends JsonObject {
  mayRecharge: boolean;
  mayWithdraw: boolean;
  mayPay: boolean;
  mayReceive: boolean;
  maySendTransfers: boolean;
  mayReceiveTransfers: boolean;
  mayOverdraw: boolean;
  overdraftLimitMinor: string;
}

function storedFlags(flags: AccountFlags): StoredAccountFlags {
  return { ...flags, overdraftLimitMinor: flags.overdraftLimitMinor.toString() };
}

export interface BalanceDocument extends JsonObject {
  accountId: string;
  ownerId: string;
  accountType: string;
  currency: string;
  status: string;
  displayName: string;
  subjectCode: string;
  balanceMinor: string;
  availableMinor: string;
  frozenMinor: string;
  flags: StoredAccountFlags;
  openedAt: string;
  lastMovementAt: string | null;
}

function adjustFunds(
  accountId: string,
  envelope: EventEnvelope,
  balanceDelta: bigint,
  frozenDelta: bigint,
): DocumentChange {
  return {
    collection: BALANCES_COLLECTION,
    id: accountId,
    apply: (previous) => {
      if (previous === null)
        throw new Error(`balances: movement on unknown account ${accountId} at ${envelope.position}`);
      const doc = previous as BalanceDocument;
      const balance = BigInt(doc.balanceMinor) + balanceDelta;
      const frozen = BigInt(doc.frozenMinor) + frozenDelta;
      return {
        ...doc,
        balanceMinor: balance.toString(),
        frozenMinor: frozen.toString(),
        availableMinor: (balance - frozen).toString(),
        lastMovementAt: envelope.metadata.occurredAt,
      };
    },
  };
}

/** A change of an account's flags or status: the funds stay as they are. */
function settingChanged(
  accountId: string,
  what: string,
  setting: Pick<BalanceDocument, 'flags'> | Pick<BalanceDocument, 'status'>,
): DocumentChange {
  return {
    collection: BALANCES_COLLECTION,
    id: accountId,
    apply: (previous) => {
      if (previous === null) throw new Error(`balances: ${what} change on unknown account ${accountId}`);
      return { ...previous, ...setting };
    },
  };
}

export const balancesProjection: Projection = {
  name: 'balances',
  version: 1,
  collections: [{ name: BALANCES_COLLECTION, indexes: ['ownerId', 'accountType', 'currency', 'status', 'openedAt'] }],
  eventTypes: ['AccountOpened', ...FUNDS_MOVEMENT_EVENT_TYPES, 'AccountFlagsChanged', 'AccountStatusChanged'],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'AccountOpened': {
        const d = event.data;
        const doc: BalanceDocument = {
          accountId: d.accountId,
          ownerId: d.ownerId,
          accountType: d.accountType,
          currency: d.currency,
          status: 'active',
          displayName: d.displayName,
          subjectCode: d.subjectCode,
          balanceMinor: '0',
          availableMinor: '0',
          frozenMinor: '0',
          flags: storedFlags(d.flags),
          openedAt: utcInstantKey(envelope.metadata.occurredAt),
          lastMovementAt: null,
        };
        return [{ collection: BALANCES_COLLECTION, id: d.accountId, apply: () => doc }];
      }
      case 'FundsRecharged':
      case 'FundsCredited':
        return [adjustFunds(event.data.accountId, envelope, event.data.amountMinor, 0n)];
      case 'FundsDebited':
        return [adjustFunds(event.data.accountId, envelope, -event.data.amountMinor, 0n)];
      case 'FundsFrozen':
        return [adjustFunds(event.data.accountId, envelope, 0n, event.data.amountMinor)];
      case 'FrozenFundsReleased':
        return [adjustFunds(event.data.accountId, envelope, 0n, -event.data.amountMinor)];
      case 'FrozenFundsDeducted':
        return [adjustFunds(event.data.accountId, envelope, -event.data.amountMinor, -event.data.amountMinor)];
      case 'AccountFlagsChanged':
        return [settingChanged(event.data.accountId, 'flags', { flags: storedFlags(event.data.flags) })];
      case 'AccountStatusChanged':
        return [settingChanged(event.data.accountId, 'status', { status: event.data.status })];
      default:
        // Events that move no account's funds (entities, keys, ...) leave balances unchanged.
        return [];
    }
  },
};
