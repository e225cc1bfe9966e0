import type {
  BoundCard,
  PayeeCardRequest,
  PayerInstrument,
  PayerInstrumentRequest,
} from '../../domain/channels/payer-instrument.js';
import { assert, DomainError } from '../../domain/shared/domain-error.js';
import type { ContractView } from './card-bindings.js';

/** Reads a contract from its own stream (`CardBindings.get`): the write path's view, never a read model's. */
export interface ContractSource {
  get(contractId: string): Promise<ContractView | undefined>;
}

/**
 * Who pays (or is paid) with a contract: the user it must belong to, and the caller acting for them (a
 * merchant sees only the contracts it started; null: an operator, who sees every contract).
 */
export interface ContractPayer {
  readonly userId: string;
  readonly actingFor: string | null;
}

/**
 * Quick pay naming a bind-card contract: the contract's stream gives the card's bank, kind and the
 * contract number at its channel, which operations carry exactly as a card named by hand (routing among
 * the channels holding it, risk, step-up, async results: one payment path). Refused, with stable codes,
 * before anything is recorded: a contract the caller may not see (404, as an unknown one: no existence
 * oracle), another user's (403), one not bound yet (pre-bound, awaiting its code, failed: 409) or
 * terminated (409). Checked at each request: an unbound card stops paying at once.
 */
export async function boundCardOfContract(
  contracts: ContractSource,
  contractId: string,
  payer: ContractPayer,
): Promise<BoundCard> {
  const contract = await contracts.get(contractId);
  if (!contract || (payer.actingFor !== null && contract.requestedBy !== payer.actingFor))
    throw new DomainError('card_contract_not_found', `card contract ${contractId} not found`, { contractId });
  if (contract.userId !== payer.userId)
    throw new DomainError('card_contract_other_user', `card contract ${contractId} is another user's`, {
      contractId,
    });
  if (contract.status === 'terminated')
    throw new DomainError('card_contract_terminated', `card contract ${contractId} was terminated`, {
      contractId,
    });
  if (contract.status !== 'bound')
    throw new DomainError('card_contract_not_bound', `card contract ${contractId} is ${contract.status}`, {
      contractId,
      status: contract.status,
    });
  assert(contract.contractNo !== null, 'a bound contract has its contract number');
  assert(
    contract.bankCode !== null && contract.cardKind !== 'prepaid',
    'a bound contract is of a bank card that can be signed',
  );
  return {
    bankCode: contract.bankCode,
    cardKind: contract.cardKind,
    contracts: [{ channelId: contract.channelId, contractNo: contract.contractNo }],
    contractId,
  };
}

/** A payer's instrument as operations record it: a contract reference resolved, anything else as given. */
export async function resolvePayerInstrument(
  contracts: ContractSource,
  instrument: PayerInstrumentRequest,
  payer: () => Promise<ContractPayer>,
): Promise<PayerInstrument> {
  if (!('contractId' in instrument)) return instrument;
  return { method: 'quick_pay', card: await boundCardOfContract(contracts, instrument.contractId, await payer()) };
}

/** A payout's bound card: a contract reference resolved, a card named by hand as given. */
export async function resolvePayeeCard(
  contracts: ContractSource,
  payee: PayeeCardRequest,
  payer: () => Promise<ContractPayer>,
): Promise<BoundCard> {
  return 'contractId' in payee ? boundCardOfContract(contracts, payee.contractId, await payer()) : payee;
}
