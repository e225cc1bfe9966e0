import { describe, expect, it } from 'vitest';
import type { ContractView } from '../../src/commands/contracts/card-bindings.js';
import {
  boundCardOfContract,
  resolvePayeeCard,
  resolvePayerInstrument,
  type ContractSource,
} from '../../src/commands/contracts/contract-instruments.js';

const CONTRACT_ID = '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01';

function contract(overrides: Partial<ContractView> = {}): ContractView {
  return {
    contractId: CONTRACT_ID,
    userId: 'usr_alice',
    requestedBy: 'mch_shop',
    status: 'bound',
    channelId: 'sim-citybank',
    signing: 'verify_then_sign',
    maskedCard: '000000******0004',
    cardFingerprint: `cfp1_${'x'.repeat(43)}`,
    bankCode: 'CITY',
    cardKind: 'debit',
    maskedPhone: '100****0001',
    contractNo: 'CT0001',
    failure: null,
    startedAt: '2026-12-01T02:00:00.000Z',
    expiresAt: '2026-12-01T02:15:00.000Z',
    ...overrides,
  };
}

/** The contract's stream as `CardBindings.get` reads it, held in memory: the resolver's one input. */
const holding = (view: ContractView | undefined): ContractSource => ({ get: async () => view });
const alice = { userId: 'usr_alice', actingFor: 'mch_shop' };

describe('quick pay naming a contract', () => {
  it('resolves a bound contract to its card at its channel, naming the contract', async () => {
    await expect(boundCardOfContract(holding(contract()), CONTRACT_ID, alice)).resolves.toEqual({
      bankCode: 'CITY',
      cardKind: 'debit',
      contracts: [{ channelId: 'sim-citybank', contractNo: 'CT0001' }],
      contractId: CONTRACT_ID,
    });
    // An operator acts for any merchant's contract (still the user's own).
    await expect(
      boundCardOfContract(holding(contract()), CONTRACT_ID, { userId: 'usr_alice', actingFor: null }),
    ).resolves.toMatchObject({ contractId: CONTRACT_ID });
  });

  it.each([
    ['unknown', undefined, alice, 'card_contract_not_found'],
    ["another merchant's", contract({ requestedBy: 'mch_rival' }), alice, 'card_contract_not_found'],
    ["another user's", contract(), { userId: 'usr_bob', actingFor: 'mch_shop' }, 'card_contract_other_user'],
    ['pre-bound', contract({ status: 'pre_bound' }), alice, 'card_contract_not_bound'],
    [
      'awaiting the bank code',
      contract({ status: 'awaiting_bank_code', contractNo: null }),
      alice,
      'card_contract_not_bound',
    ],
    ['failed', contract({ status: 'failed', failure: 'expired' }), alice, 'card_contract_not_bound'],
    ['terminated', contract({ status: 'terminated' }), alice, 'card_contract_terminated'],
  ] as const)('refuses a contract %s', async (_what, view, payer, code) => {
    await expect(boundCardOfContract(holding(view), CONTRACT_ID, payer)).rejects.toMatchObject({ code });
  });

  it('passes a card named by hand, or another method, through without asking who pays', async () => {
    const card = {
      bankCode: 'CITY',
      cardKind: 'debit' as const,
      contracts: [{ channelId: 'sim-citybank', contractNo: 'X1' }],
    };
    const unasked = async () => {
      throw new Error('the payer is asked only for a contract');
    };
    await expect(resolvePayerInstrument(holding(undefined), { method: 'quick_pay', card }, unasked)).resolves.toEqual({
      method: 'quick_pay',
      card,
    });
    const banking = { method: 'online_banking' as const, bankCode: 'CITY', returnUrl: 'https://shop.example/r' };
    await expect(resolvePayerInstrument(holding(undefined), banking, unasked)).resolves.toEqual(banking);
    await expect(resolvePayeeCard(holding(undefined), card, unasked)).resolves.toEqual(card);
    await expect(
      resolvePayeeCard(holding(contract()), { contractId: CONTRACT_ID }, async () => alice),
    ).resolves.toMatchObject({ contractId: CONTRACT_ID, contracts: [{ contractNo: 'CT0001' }] });
  });
});
