import { DomainError } from '../../domain/shared/domain-error.js';
import type { SensitiveText } from '../../domain/shared/sensitive-text.js';
import type { ChannelPaymentOutcome, ChannelPaymentRequest } from '../channel-payments/channel-payment-process.js';
import type { CommandContext } from '../command-context.js';
import type { CardBindings, ContractView } from './card-bindings.js';
import { boundCardOfContract } from './contract-instruments.js';

export interface BindAndPayDeps {
  readonly bindings: Pick<CardBindings, 'get' | 'confirm'>;
  readonly payments: {
    create(request: ChannelPaymentRequest, context: CommandContext): Promise<ChannelPaymentOutcome>;
  };
}

/** The payment bind-and-pay makes once the card is bound: a channel payment without its instrument. */
export type PaymentOnBinding = Omit<ChannelPaymentRequest, 'instrument'>;

/**
 * Bind-and-pay (binding during checkout): the user's code confirms the binding, then the payment goes
 * through the channel-payment flow (routing, risk and step-up, async results) by quick pay with the
 * contract just bound. The order matters:
 *
 * - the payer is checked against the contract's user before the code is spent, so a payment that could
 *   never be made is refused before the binding moves;
 * - a code that is wrong, a binding that fails or expires throws from `confirm`: no payment exists;
 * - the payment's id derives from the merchant and its order number (the channel payments' idempotency
 *   key), so a confirm retried after a lost answer (the contract already bound: `confirm` answers it
 *   again) resumes the one payment, never makes a second.
 *
 * A payment refused after the binding (no channel, the payee account, risk) leaves the contract bound,
 * as the user asked: it pays later by its contract id.
 */
export async function confirmAndPay(
  deps: BindAndPayDeps,
  contractId: string,
  code: SensitiveText,
  payment: PaymentOnBinding,
  actingFor: string | null,
  context: CommandContext,
): Promise<{ readonly contract: ContractView; readonly payment: ChannelPaymentOutcome }> {
  const before = await deps.bindings.get(contractId);
  if (!before || (actingFor !== null && before.requestedBy !== actingFor))
    throw new DomainError('card_contract_not_found', `card contract ${contractId} not found`, { contractId });
  const userId = payment.payer.payerId ?? before.userId;
  if (userId !== before.userId)
    throw new DomainError('card_contract_other_user', `card contract ${contractId} is another user's`, {
      contractId,
    });
  const contract = await deps.bindings.confirm(contractId, code, context);
  const card = await boundCardOfContract(deps.bindings, contractId, { userId, actingFor });
  const outcome = await deps.payments.create(
    { ...payment, payer: { ...payment.payer, payerId: userId }, instrument: { method: 'quick_pay', card } },
    context,
  );
  return { contract, payment: outcome };
}
