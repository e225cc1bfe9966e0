import { decideRegisterApiKey, decideRevokeApiKey, type RegisterApiKey, type RevokeApiKey } from './api-keys.js';
import type { EntityEvent } from './entity-events.js';
import { evolveEntity, initialEntityState, type EntityState } from './entity-state.js';
import {
  decideResetPaymentPassword,
  decideSetPaymentPassword,
  type ResetPaymentPassword,
  type SetPaymentPassword,
} from './payment-password.js';
import { decideChangePaymentSettings, type ChangePaymentSettings } from './payment-settings.js';
import { decideRegisterEntity, type RegisterEntity } from './register-entity.js';

/** The entity decider in Emmett's shape: decide(command, state) -> events; evolve; initialState. */
export type EntityCommand =
  | ({ readonly type: 'RegisterEntity' } & RegisterEntity)
  | ({ readonly type: 'SetPaymentPassword' } & SetPaymentPassword)
  | ({ readonly type: 'ResetPaymentPassword' } & ResetPaymentPassword)
  | ({ readonly type: 'ChangePaymentSettings' } & ChangePaymentSettings)
  | ({ readonly type: 'RegisterApiKey' } & RegisterApiKey)
  | ({ readonly type: 'RevokeApiKey' } & RevokeApiKey);

export function decideEntity(command: EntityCommand, state: EntityState): EntityEvent[] {
  switch (command.type) {
    case 'RegisterEntity':
      return decideRegisterEntity(command, state);
    case 'SetPaymentPassword':
      return decideSetPaymentPassword(command, state);
    case 'ResetPaymentPassword':
      return decideResetPaymentPassword(command, state);
    case 'ChangePaymentSettings':
      return decideChangePaymentSettings(command, state);
    case 'RegisterApiKey':
      return decideRegisterApiKey(command, state);
    case 'RevokeApiKey':
      return decideRevokeApiKey(command, state);
  }
}

export const entityDecider = {
  decide: decideEntity,
  evolve: evolveEntity,
  initialState: initialEntityState,
};
