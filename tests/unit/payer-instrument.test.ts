import { describe, expect, it } from 'vitest';
import {
  chargeInstrumentAt,
  channelsHolding,
  choiceOf,
  contractAt,
  payeeCardRequestJson,
  payerInstrumentJson,
  payerInstrumentRequestJson,
  payoutChoiceOf,
} from '../../src/domain/channels/payer-instrument.js';

const card = {
  bankCode: 'CITY',
  cardKind: 'debit' as const,
  contracts: [
    { channelId: 'sim-citybank', contractNo: 'CB-1' },
    { channelId: 'sim-cardnet', contractNo: 'CN-9' },
  ],
};

describe('a payer instrument', () => {
  it('gives the router its choice and the chosen channel what it needs', () => {
    const quick = payerInstrumentJson.parse({ method: 'quick_pay', card });
    expect(choiceOf(quick)).toEqual({ method: 'quick_pay', bankCode: 'CITY', cardKind: 'debit' });
    expect(channelsHolding(quick)).toEqual(['sim-citybank', 'sim-cardnet']);
    expect(chargeInstrumentAt(quick, 'sim-cardnet')).toEqual({ method: 'quick_pay', contractNo: 'CN-9' });
    expect(chargeInstrumentAt(quick, 'sim-wallet')).toBeNull();
    expect(contractAt(card, 'sim-citybank')).toBe('CB-1');
    expect(payoutChoiceOf(card)).toEqual(choiceOf(quick));

    const banking = payerInstrumentJson.parse({
      method: 'online_banking',
      bankCode: 'CITY',
      returnUrl: 'https://shop.example/back',
    });
    expect(channelsHolding(banking)).toBeNull();
    expect(chargeInstrumentAt(banking, 'sim-citybank')).toEqual({
      method: 'online_banking',
      bankCode: 'CITY',
      returnUrl: 'https://shop.example/back',
    });
    const wallet = payerInstrumentJson.parse({ method: 'platform_pay', platform: 'wechat', returnUrl: null });
    expect(choiceOf(wallet)).toEqual({ method: 'platform_pay', platform: 'wechat' });
  });

  it('refuses two contracts at one channel, no contract, a card number for a bank code, a non-http return URL', () => {
    const twice = { ...card, contracts: [card.contracts[0], card.contracts[0]] };
    expect(payerInstrumentJson.safeParse({ method: 'quick_pay', card: twice }).success).toBe(false);
    expect(payerInstrumentJson.safeParse({ method: 'quick_pay', card: { ...card, contracts: [] } }).success).toBe(
      false,
    );
    expect(
      payerInstrumentJson.safeParse({ method: 'online_banking', bankCode: 'CITY BANK', returnUrl: 'https://x.example' })
        .success,
    ).toBe(false);
    expect(
      payerInstrumentJson.safeParse({ method: 'online_banking', bankCode: 'CITY', returnUrl: 'javascript:alert(1)' })
        .success,
    ).toBe(false);
  });

  it('is named by a contract id or by hand, never both; the recorded card may name its contract', () => {
    const contractId = '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01';
    expect(payerInstrumentRequestJson.parse({ method: 'quick_pay', contractId })).toEqual({
      method: 'quick_pay',
      contractId,
    });
    expect(payerInstrumentRequestJson.safeParse({ method: 'quick_pay', card }).success).toBe(true);
    expect(payerInstrumentRequestJson.safeParse({ method: 'quick_pay', card: { ...card, contractId } }).success).toBe(
      false,
    );
    expect(payerInstrumentRequestJson.safeParse({ method: 'quick_pay', contractId, card }).success).toBe(false);
    expect(payerInstrumentRequestJson.safeParse({ method: 'quick_pay', contractId: 'CT-1' }).success).toBe(false);
    expect(payeeCardRequestJson.safeParse({ contractId }).success).toBe(true);
    expect(payeeCardRequestJson.safeParse({ ...card, contractId }).success).toBe(false);
    expect(payerInstrumentJson.parse({ method: 'quick_pay', card: { ...card, contractId } })).toMatchObject({
      card: { contractId },
    });
  });
});
