import { decideRecharge, type RechargeAccount } from '../recharges/recharge.js';
import type { AccountEvent } from './account-events.js';
import { evolveAccount, initialAccountState, type AccountState } from './account-state.js';
import { decideOpenAccount, type OpenAccount } from './open-account.js';

/** The account decider in Emmett's shape: decide(command, state) -> events; evolve; initialState. */
export type AccountCommand = ({ readonly type: 'OpenAccount' } & OpenAccount) | ({ readonly type: 'RechargeAccount' } & RechargeAccount);

export function decideAccount(command: AccountCommand, state: AccountState): AccountEvent[] {
  switch (command.type) {
    case 'OpenAccount':
      return decideOpenAccount(command, state);
    case 'RechargeAccount':
      return decideRecharge(command, state);
  }
}

export const accountDecider = {
  decide: decideAccount,
  evolve: evolveAccount,
  initialState: initialAccountState,
};
