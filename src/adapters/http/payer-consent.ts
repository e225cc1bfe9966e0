import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LedgerService } from '../ledger-service.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { accountNotFound, principalOf, requireAccountOwner } from './authorization.js';
import { PayerPasswordGuard } from './payer-password-guard.js';
import { HttpProblem } from './problem-details.js';

/**
 * Whose money a merchant may take. A merchant moves money out of its own accounts freely; out of anyone
 * else's account (a user's wallet: a payment, a freeze, a pre-authorisation hold) only with that owner's
 * consent, proved by the owner's payment password, verified against its slow hash. An operator (the
 * platform's own cashier and back office) is trusted to have collected consent itself. In every case an
 * owner registered as "may not pay" is refused.
 */
/** One guard per process: wrong passwords count per payer across every route that asks for one. */
const payerPasswordGuard = new PayerPasswordGuard();

export const payerPasswordField = z
  .string()
  .min(6)
  .max(64)
  .optional()
  .describe(
    "The payer's payment password, collected by the merchant's checkout; required when a merchant takes money from an account it does not own. Never stored or logged.",
  );

/** An owner registered as "may not pay" is refused, whatever proves its consent (a password, a payment code). */
export async function requirePayerMayPay(service: LedgerService, ownerId: string) {
  const owner = await service.entities.get(ownerId);
  if (owner && !owner.mayPay) {
    throw new HttpProblem(422, 'payer_may_not_pay', 'Payer may not pay', `entity ${ownerId} is not allowed to pay`);
  }
  return owner;
}

export async function requirePayerConsent(
  service: LedgerService,
  request: FastifyRequest,
  ownerId: string,
  password: string | undefined,
): Promise<void> {
  const principal = principalOf(request);
  const owner = await requirePayerMayPay(service, ownerId);
  if (principal.kind === 'operator' || principal.entityId === ownerId) return;
  if (password === undefined) {
    throw new HttpProblem(
      403,
      'payer_consent_required',
      'Payer consent required',
      "taking money from another owner's account needs that owner's payment password (payerPassword)",
    );
  }
  // Nothing to guess: a payer who never set a payment password cannot consent until it does (not "does not match").
  if (owner && owner.paymentPasswordHash === null) {
    throw new HttpProblem(
      422,
      'payer_password_not_set',
      'Payer has no payment password',
      `entity ${ownerId} has not set a payment password; an operator sets the first one (POST /v1/entities/{entityId}/payment-password)`,
    );
  }
  const lockedMs = payerPasswordGuard.lockedForMs(ownerId);
  if (lockedMs > 0) {
    throw new HttpProblem(
      429,
      'payer_password_locked',
      'Too many wrong payment passwords',
      'too many wrong payment passwords for this payer; try again later',
      {},
      Math.ceil(lockedMs / 1000),
    );
  }
  if (!owner || !(await service.entities.verifyPaymentPasswordOf(owner, password))) {
    payerPasswordGuard.recordFailure(ownerId);
    throw new HttpProblem(
      403,
      'payer_password_invalid',
      'Payer consent refused',
      "the payer's payment password does not match",
    );
  }
  payerPasswordGuard.recordSuccess(ownerId);
}

/**
 * The checks before a merchant charges a payer into its own account (payments, pre-authorisations): the
 * payee is the caller's (or the caller is an operator), and the payer consents. Takes the password out
 * of the body first. Returns both accounts' states.
 */
export async function authoriseCharge(
  service: LedgerService,
  request: FastifyRequest,
  body: { payerAccountId: string; payeeAccountId: string; payerPassword?: string | undefined },
): Promise<{ payer: OpenAccountState; payee: OpenAccountState }> {
  const password = takePayerPassword(body);
  const payee = await existingAccount(service, body.payeeAccountId);
  requireAccountOwner(request, body.payeeAccountId, payee.ownerId);
  const payer = await existingAccount(service, body.payerAccountId);
  await requirePayerConsent(service, request, payer.ownerId, password);
  return { payer, payee };
}

async function existingAccount(service: LedgerService, accountId: string): Promise<OpenAccountState> {
  const state = await service.commands.getAccountState(accountId);
  if (!state.exists) throw accountNotFound(accountId);
  return state;
}

/** Removes the password from the request body at once: nothing after (fingerprints, logs) may see it. */
export function takePayerPassword(body: { payerPassword?: string | undefined }): string | undefined {
  const password = body.payerPassword;
  delete body.payerPassword;
  return password;
}
