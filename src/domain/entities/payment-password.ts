import { DomainError } from '../shared/domain-error.js';
import type { PaymentPasswordSet } from './entity-events.js';
import { requireEntity, requireKind } from './entity-rules.js';
import type { EntityState } from './entity-state.js';

/**
 * Setting or changing a payment password. Hashing and verifying are slow crypto, done by the command
 * layer before deciding; the decider gets the new hash and the hash the old password was verified
 * against, and refuses if that is no longer the entity's current hash (a concurrent change won).
 */
export interface SetPaymentPassword {
  readonly entityId: string;
  readonly passwordHash: string;
  /** The current hash the caller's old password matched; null when the entity has no password yet. */
  readonly verifiedCurrentHash: string | null;
}

/** An operator resets a forgotten password after verifying the entity through its phone or e-mail. */
export interface ResetPaymentPassword {
  readonly entityId: string;
  readonly passwordHash: string;
  readonly verifiedVia: 'phone' | 'email';
}

export function decideSetPaymentPassword(command: SetPaymentPassword, state: EntityState): PaymentPasswordSet[] {
  const entity = requireEntity(state, command.entityId);
  requireKind(entity, ['user', 'merchant'], 'hold a payment password');
  if (command.verifiedCurrentHash !== entity.paymentPasswordHash) {
    throw new DomainError('payment_password_mismatch', 'the current payment password does not match', {
      entityId: entity.entityId,
    });
  }
  const reason = entity.paymentPasswordHash === null ? 'initial' : 'change';
  return [
    {
      type: 'PaymentPasswordSet',
      data: { entityId: entity.entityId, passwordHash: command.passwordHash, reason, verifiedVia: null },
    },
  ];
}

export function decideResetPaymentPassword(command: ResetPaymentPassword, state: EntityState): PaymentPasswordSet[] {
  const entity = requireEntity(state, command.entityId);
  requireKind(entity, ['user', 'merchant'], 'hold a payment password');
  if (entity[command.verifiedVia] === null) {
    throw new DomainError(
      'entity_contact_missing',
      `entity ${entity.entityId} has no ${command.verifiedVia} to verify a reset through`,
      {
        entityId: entity.entityId,
        verifiedVia: command.verifiedVia,
      },
    );
  }
  return [
    {
      type: 'PaymentPasswordSet',
      data: {
        entityId: entity.entityId,
        passwordHash: command.passwordHash,
        reason: 'reset',
        verifiedVia: command.verifiedVia,
      },
    },
  ];
}
