import type { EntityMayPayChanged, EntitySecurityLevelChanged, SecurityLevel } from './entity-events.js';
import { requireEntity } from './entity-rules.js';
import { DomainError } from '../shared/domain-error.js';
import type { EntityState } from './entity-state.js';

/** Change whether an entity may pay, and how much proof its payments need. Unchanged values record nothing. */
export interface ChangePaymentSettings {
  readonly entityId: string;
  readonly mayPay?: boolean;
  readonly securityLevel?: SecurityLevel;
}

export function decideChangePaymentSettings(
  command: ChangePaymentSettings,
  state: EntityState,
): Array<EntityMayPayChanged | EntitySecurityLevelChanged> {
  const entity = requireEntity(state, command.entityId);
  const events: Array<EntityMayPayChanged | EntitySecurityLevelChanged> = [];
  if (command.mayPay !== undefined && command.mayPay !== entity.mayPay) {
    if (entity.kind === 'operator') {
      throw new DomainError('entity_kind_denies', 'an operator cannot pay', {
        entityId: entity.entityId,
        kind: entity.kind,
      });
    }
    events.push({ type: 'EntityMayPayChanged', data: { entityId: entity.entityId, mayPay: command.mayPay } });
  }
  if (command.securityLevel !== undefined && command.securityLevel !== entity.securityLevel) {
    events.push({
      type: 'EntitySecurityLevelChanged',
      data: { entityId: entity.entityId, securityLevel: command.securityLevel },
    });
  }
  return events;
}
