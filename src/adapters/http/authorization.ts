import type { FastifyRequest } from 'fastify';
import type { AccountOwners } from '../../commands/accounts/account-owners.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import { HttpProblem } from './problem-details.js';

/**
 * Who is calling, as request authentication established it (see request-authentication.ts), and the
 * checks routes make with it. Roles:
 *   - operator: the platform's staff; may do everything;
 *   - merchant: acts on its own resources (and for its users, through its own accounts);
 *   - users never call the API.
 */
export interface Principal {
  readonly kind: 'merchant' | 'operator';
  readonly entityId: string;
  /** "<entityId>/<keyNo>": the key that signed this request. */
  readonly keyId: string;
}

/** The authenticated caller. A route outside the exempt list always has one; a missing one is a bug, refused anyway. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new HttpProblem(401, 'signature_missing', 'Authentication required', 'this request must be signed');
  return request.principal;
}

export function requireOperator(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.kind !== 'operator') throw forbidden('only an operator may do this');
  return principal;
}

/** `ownerId`: the entity that owns the resource (an account's ownerId, a merchant's own entity id). */
export function requireOwnerOrOperator(request: FastifyRequest, ownerId: string): Principal {
  const principal = principalOf(request);
  if (principal.kind !== 'operator' && principal.entityId !== ownerId)
    throw forbidden('this resource belongs to another entity');
  return principal;
}

/** The one answer for an account the caller may not see and for one that does not exist: no existence oracle. */
export function accountNotFound(accountId: string): DomainError {
  return new DomainError('account_not_found', `account ${accountId} does not exist`, { accountId });
}

/**
 * An account the caller must own (or be an operator): another owner's account answers exactly like an
 * unknown one (404 account_not_found), so account numbers cannot be probed for existence.
 */
export function requireAccountOwner(request: FastifyRequest, accountId: string, ownerId: string): Principal {
  const principal = principalOf(request);
  if (principal.kind !== 'operator' && principal.entityId !== ownerId) throw accountNotFound(accountId);
  return principal;
}

/**
 * For commands on an account: an operator may act on any; a merchant only on an account it owns (its
 * `ownerId`, read from the event store, so an account opened a moment ago counts). An account that does
 * not exist passes: the command refuses it (404) for everyone alike, and another owner's account is
 * refused with that same 404.
 */
export async function requireAccountOwnerOrOperator(
  request: FastifyRequest,
  owners: AccountOwners,
  accountId: string,
): Promise<Principal> {
  const principal = principalOf(request);
  if (principal.kind === 'operator') return principal;
  const ownerId = await owners.ownerOf(accountId);
  return ownerId === undefined ? principal : requireAccountOwner(request, accountId, ownerId);
}

function forbidden(detail: string): HttpProblem {
  return new HttpProblem(403, 'forbidden', 'Forbidden', detail);
}
