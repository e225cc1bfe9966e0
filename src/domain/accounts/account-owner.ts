import type { EntityKind } from '../entities/entity-id.js';
import { DomainError } from '../shared/domain-error.js';
import { ACCOUNT_TYPES, type AccountType } from './account-type.js';

/**
 * Who may own an account of each kind: wallets belong to users, settlement accounts to merchants, and the
 * platform's own kinds (channel clearing, fee income, suspense, operating) to the platform itself, named
 * by the reserved owner id `platform` (it is no registered entity).
 */
export const PLATFORM_OWNER_ID = 'platform';

/** The registered entity an account is to be opened for, as far as the rule needs it. */
export interface ProspectiveOwner {
  readonly kind: EntityKind;
}

/** Refuses an account for an owner that does not exist (404) or is of the wrong kind for it (422). */
export function requireFittingOwner(
  accountType: AccountType,
  ownerId: string,
  owner: ProspectiveOwner | undefined,
): void {
  const wanted = ACCOUNT_TYPES[accountType].ownerKind;
  if (wanted === 'platform') {
    if (ownerId !== PLATFORM_OWNER_ID) throw unfit(accountType, ownerId, `the platform ("${PLATFORM_OWNER_ID}")`);
    return;
  }
  if (ownerId === PLATFORM_OWNER_ID) throw unfit(accountType, ownerId, `a ${wanted}`);
  if (!owner) throw new DomainError('entity_not_found', `entity ${ownerId} does not exist`, { entityId: ownerId });
  if (owner.kind !== wanted) throw unfit(accountType, ownerId, `a ${wanted}`);
}

function unfit(accountType: AccountType, ownerId: string, wanted: string): DomainError {
  return new DomainError('account_owner_unfit', `a ${accountType} account is owned by ${wanted}, not ${ownerId}`, {
    ownerId,
    type: accountType,
  });
}
