import { decideRecharge, type RechargeAccount } from '../recharges/recharge.js';
import {
  decideChangeFlags,
  decideChangeStatus,
  type ChangeAccountFlags,
  type ChangeAccountStatus,
} from './account-controls.js';
import type { AccountEvent } from './account-events.js';
import { evolveAccount, initialAccountState, type AccountState } from './account-state.js';
import {
  decideDeductFrozen,
  decideFreeze,
  decideRelease,
  type DeductFrozenFunds,
  type FreezeFunds,
  type ReleaseFrozenFunds,
} from './freezes.js';
import { decideCredit, decideDebit, type Movement } from './movements.js';
import { decideOpenAccount, type OpenAccount } from './open-account.js';

/** The account decider in Emmett's shape: decide(command, state) -> events; evolve; initialState. */
export type AccountCommand =
  | ({ readonly type: 'OpenAccount' } & OpenAccount)
  | ({ readonly type: 'RechargeAccount' } & RechargeAccount)
  | ({ readonly type: 'DebitAccount' } & Movement)
  | ({ readonly type: 'CreditAccount' } & Movement)
  | ({ readonly type: 'FreezeFunds' } & FreezeFunds)
  | ({ readonly type: 'ReleaseFrozenFunds' } & ReleaseFrozenFunds)
  | ({ readonly type: 'DeductFrozenFunds' } & DeductFrozenFunds)
  | ({ readonly type: 'ChangeAccountFlags' } & ChangeAccountFlags)
  | ({ readonly type: 'ChangeAccountStatus' } & ChangeAccountStatus)
  /** Several steps on one account that must land together (e.g. credit back, then hold again). */
  | { readonly type: 'Sequence'; readonly accountId: string; readonly commands: readonly AccountCommand[] };

export function decideAccount(command: AccountCommand, state: AccountState): AccountEvent[] {
  switch (command.type) {
    case 'OpenAccount':
      return decideOpenAccount(command, state);
    case 'RechargeAccount':
      return decideRecharge(command, state);
    case 'DebitAccount':
      return decideDebit(command, state);
    case 'CreditAccount':
      return decideCredit(command, state);
    case 'FreezeFunds':
      return decideFreeze(command, state);
    case 'ReleaseFrozenFunds':
      return decideRelease(command, state);
    case 'DeductFrozenFunds':
      return decideDeductFrozen(command, state);
    case 'ChangeAccountFlags':
      return decideChangeFlags(command, state);
    case 'ChangeAccountStatus':
      return decideChangeStatus(command, state);
    case 'Sequence': {
      const events: AccountEvent[] = [];
      let current = state;
      for (const step of command.commands) {
        const stepEvents = decideAccount(step, current);
        current = stepEvents.reduce(evolveAccount, current);
        events.push(...stepEvents);
      }
      return events;
    }
  }
}

export const accountDecider = {
  decide: decideAccount,
  evolve: evolveAccount,
  initialState: initialAccountState,
};
