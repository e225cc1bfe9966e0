import { DomainError } from '../shared/domain-error.js';
import type { EntityKind } from './entity-id.js';
import type { ApiKey, EntityState, RegisteredEntity } from './entity-state.js';

/** Checks shared by every entity command; each says exactly which rule refused. */
export function requireEntity(state: EntityState, entityId: string): RegisteredEntity {
  if (!state.exists) throw new DomainError('entity_not_found', `entity ${entityId} does not exist`, { entityId });
  return state;
}

export function requireKind(entity: RegisteredEntity, allowed: readonly EntityKind[], what: string): void {
  if (!allowed.includes(entity.kind)) {
    throw new DomainError('entity_kind_denies', `a ${entity.kind} cannot ${what}`, {
      entityId: entity.entityId,
      kind: entity.kind,
    });
  }
}

export function requireKey(entity: RegisteredEntity, keyNo: number): ApiKey {
  const key = entity.keys[keyNo - 1];
  if (!key) {
    throw new DomainError('api_key_not_found', `entity ${entity.entityId} has no key ${keyNo}`, {
      entityId: entity.entityId,
      keyNo: String(keyNo),
    });
  }
  return key;
}
