import { DomainError } from '../shared/domain-error.js';
import type { EntityRegistered, SecurityLevel } from './entity-events.js';
import type { EntityKind } from './entity-id.js';
import type { EntityState } from './entity-state.js';

export interface RegisterEntity {
  readonly entityId: string;
  readonly kind: EntityKind;
  readonly displayName: string;
  readonly mayPay: boolean;
  readonly phone: string | null;
  readonly email: string | null;
  readonly securityLevel: SecurityLevel;
}

/** One registration per id, ever. Operators are staff, not payers: they never may pay. */
export function decideRegisterEntity(command: RegisterEntity, state: EntityState): EntityRegistered[] {
  if (state.exists)
    throw new DomainError('entity_exists', `entity ${command.entityId} already exists`, { entityId: command.entityId });
  if (command.kind === 'operator' && command.mayPay) {
    throw new DomainError('entity_kind_denies', 'an operator cannot pay', {
      entityId: command.entityId,
      kind: command.kind,
    });
  }
  const { entityId, kind, displayName, mayPay, phone, email, securityLevel } = command;
  return [{ type: 'EntityRegistered', data: { entityId, kind, displayName, mayPay, phone, email, securityLevel } }];
}
