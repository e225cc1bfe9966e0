import type { FastifyRequest } from 'fastify';
import type { ContractPayer } from '../../commands/contracts/contract-instruments.js';
import type { AccountOwners } from '../../commands/accounts/account-owners.js';
import { accountNotFound, principalOf } from './authorization.js';
import { HttpProblem } from './problem-details.js';
import type { ProblemCode } from './problem-responses.js';

/** What quick pay naming a contract may be refused with (src/commands/contracts/contract-instruments.ts). */
export const CONTRACT_INSTRUMENT_CODES = [
  'card_contract_not_found',
  'card_contract_other_user',
  'card_contract_not_bound',
  'card_contract_terminated',
] as const satisfies readonly ProblemCode[];

/** The user who pays with a contract, and the caller acting for them (an operator: any contract). */
export function contractPayerOf(request: FastifyRequest, userId: string): ContractPayer {
  const principal = principalOf(request);
  return { userId, actingFor: principal.kind === 'operator' ? null : principal.entityId };
}

/** A recharge or withdrawal with a contract: the account's holder is the paying (or paid) user. */
export async function accountHolderAsPayer(
  request: FastifyRequest,
  owners: AccountOwners,
  accountId: string,
): Promise<ContractPayer> {
  const ownerId = await owners.ownerOf(accountId);
  if (ownerId === undefined) throw accountNotFound(accountId);
  return contractPayerOf(request, ownerId);
}

/** A channel payment with a contract names its payer: the ledger user the contract must belong to. */
export function namedPayer(request: FastifyRequest, payerId: string | undefined): ContractPayer {
  if (payerId === undefined)
    throw new HttpProblem(
      400,
      'validation_failed',
      'Invalid request',
      'body.payer.payerId: required with a contract: the user paying with it',
      { errors: [{ path: 'body.payer.payerId', message: 'required with a contract: the user paying with it' }] },
    );
  return contractPayerOf(request, payerId);
}
