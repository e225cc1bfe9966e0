import { z } from 'zod';
import type { PayerChoice } from './channel-profile.js';

/**
 * How a payer pays (or a payee is paid) through a channel, as an operation records it: the choice the
 * router reads (method, bank or platform, card kind) and what the chosen channel needs to carry it out.
 *
 * A bound card is known by its **contracts**: the contract number each channel returned when the card
 * was signed there (a card may be signed at several channels; the router may only choose among those).
 * Contract numbers are the channels' references, not card numbers: they may be recorded. A caller names
 * the card either by hand (bank, kind, contract numbers) or by its bind-card contract's id
 * (`{ method: 'quick_pay', contractId }`), which the write path resolves from the contract's stream to the
 * same card (src/commands/contracts/contract-instruments.ts), recorded with the contract's id beside it.
 */
export const MAX_CONTRACTS_PER_CARD = 8;

const code = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" or "-", at most 32');
const contractNo = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, 'printable ASCII without spaces, at most 64')
  // A bare run of 12 to 19 digits is a card number: it must never reach the event log.
  .refine(
    (value) => !/^[0-9]{12,19}$/.test(value.replace(/[-.]/g, '')),
    "looks like a card number; send the channel's contract number of the bound card",
  );
const returnUrl = z.url({ protocol: /^https?$/ }).max(2_000);

export const boundCardJson = z.strictObject({
  bankCode: code,
  cardKind: z.enum(['debit', 'credit']),
  contracts: z
    .array(z.strictObject({ channelId: code, contractNo }))
    .min(1)
    .max(MAX_CONTRACTS_PER_CARD)
    .refine((list) => new Set(list.map((c) => c.channelId)).size === list.length, 'one contract per channel'),
});

/** A bound card as operations record it: a card resolved from a contract names the contract too. */
export const recordedBoundCardJson = boundCardJson.extend({
  contractId: z.uuid().optional().describe('The bind-card contract the card was resolved from'),
});

const onlineBankingJson = z.strictObject({ method: z.literal('online_banking'), bankCode: code, returnUrl });
const platformPayJson = z.strictObject({
  method: z.literal('platform_pay'),
  platform: code,
  returnUrl: returnUrl.nullable(),
});

/** The instrument as an operation records it (quick pay: the card resolved, at its channels). */
export const payerInstrumentJson = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('quick_pay'), card: recordedBoundCardJson }),
  onlineBankingJson,
  platformPayJson,
]);

/** A bound card named by its bind-card contract's id (resolved on the write path, never trusted as typed). */
export const contractReferenceJson = z.strictObject({
  contractId: z.uuid().describe("The bound card's contract id (POST /v1/card-contracts)"),
});

/** The instrument as a caller names it: quick pay by the card's contracts, or by its contract id. */
export const payerInstrumentRequestJson = z.union([
  z.strictObject({ method: z.literal('quick_pay'), card: boundCardJson }),
  z.strictObject({ method: z.literal('quick_pay'), ...contractReferenceJson.shape }),
  onlineBankingJson,
  platformPayJson,
]);

/** A payout's destination as a caller names it: the bound card by hand, or by its contract id. */
export const payeeCardRequestJson = z.union([boundCardJson, contractReferenceJson]);

export type BoundCard = z.infer<typeof recordedBoundCardJson>;
export type PayerInstrument = z.infer<typeof payerInstrumentJson>;
export type PayerInstrumentRequest = z.infer<typeof payerInstrumentRequestJson>;
export type PayeeCardRequest = z.infer<typeof payeeCardRequestJson>;

/** What the router is asked: the choice, without the channel-specific parts. */
export function choiceOf(instrument: PayerInstrument): PayerChoice {
  switch (instrument.method) {
    case 'quick_pay':
      return { method: 'quick_pay', bankCode: instrument.card.bankCode, cardKind: instrument.card.cardKind };
    case 'online_banking':
      return { method: 'online_banking', bankCode: instrument.bankCode };
    case 'platform_pay':
      return { method: 'platform_pay', platform: instrument.platform };
  }
}

/** A payout goes to a bound card: the router judges it as that card's quick-pay choice. */
export function payoutChoiceOf(card: BoundCard): PayerChoice {
  return { method: 'quick_pay', bankCode: card.bankCode, cardKind: card.cardKind };
}

/**
 * The channels that can carry this instrument at all, whatever their profiles say: a bound card only at
 * the channels holding one of its contracts; null: any channel (the router judges by profile).
 */
export function channelsHolding(instrument: PayerInstrument): readonly string[] | null {
  return instrument.method === 'quick_pay' ? instrument.card.contracts.map((c) => c.channelId) : null;
}

/** What the chosen channel is sent (the channel port's `ChargeInstrument`). */
export type ChannelInstrument =
  | { readonly method: 'quick_pay'; readonly contractNo: string }
  | { readonly method: 'online_banking'; readonly bankCode: string; readonly returnUrl: string }
  | { readonly method: 'platform_pay'; readonly platform: string };

/** What the chosen channel is sent; null when the instrument cannot go through it (no contract there). */
export function chargeInstrumentAt(instrument: PayerInstrument, channelId: string): ChannelInstrument | null {
  switch (instrument.method) {
    case 'quick_pay': {
      const contract = instrument.card.contracts.find((c) => c.channelId === channelId);
      return contract ? { method: 'quick_pay', contractNo: contract.contractNo } : null;
    }
    case 'online_banking':
      return { method: 'online_banking', bankCode: instrument.bankCode, returnUrl: instrument.returnUrl };
    case 'platform_pay':
      return { method: 'platform_pay', platform: instrument.platform };
  }
}

/** The contract number of a bound card at a channel (a payout's destination), or null. */
export function contractAt(card: BoundCard, channelId: string): string | null {
  return card.contracts.find((c) => c.channelId === channelId)?.contractNo ?? null;
}
