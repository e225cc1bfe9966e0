import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';
import { DomainError } from '../shared/domain-error.js';

/**
 * Which user holds a card, on the card's own stream (`cardclaim-<fingerprint>`): a binding claims the
 * card before any channel call, and its failure or termination releases it. One stream per card makes two
 * bindings of one card (by one user or two, from any instance) contend on its revision, so at most one
 * goes on: a read model, lagging behind, could let both through.
 */
const cardFingerprint = z.string().regex(/^cfp1_[A-Za-z0-9_-]{43}$/);

export const cardClaimed = z.strictObject({
  type: z.literal('CardClaimed'),
  data: z.strictObject({
    cardFingerprint,
    userId: z.string().min(1).max(64),
    contractId: z.uuid(),
    claimedAt: utcInstant,
  }),
});

export const cardClaimReleased = z.strictObject({
  type: z.literal('CardClaimReleased'),
  data: z.strictObject({ cardFingerprint, contractId: z.uuid(), releasedAt: utcInstant }),
});

export const cardClaimEventSchemas = [cardClaimed, cardClaimReleased] as const;
export type CardClaimEvent = z.output<(typeof cardClaimEventSchemas)[number]>;

export type CardClaimCommand =
  | {
      readonly type: 'ClaimCard';
      readonly cardFingerprint: string;
      readonly userId: string;
      readonly contractId: string;
      readonly at: string;
    }
  | {
      readonly type: 'ReleaseCard';
      readonly cardFingerprint: string;
      readonly contractId: string;
      readonly at: string;
    };

export type CardClaimState =
  { readonly claimed: false } | { readonly claimed: true; readonly userId: string; readonly contractId: string };

/**
 * `card_bound_to_another_user`: refused, not flagged. A card is one person's; a second user who knows its
 * number, the holder's name, ID number and phone is either the holder with a second account (who can
 * unbind it there) or someone else: the bank's SMS to the holder's phone stops the latter, but charging
 * one card from two wallets would also let either pay the other's orders. The same user again is refused
 * `card_binding_in_progress` naming the claiming contract: the caller answers that contract when it is
 * bound (binding a card twice gives the first contract), else the refusal (one binding at a time).
 */
export function decideCardClaim(command: CardClaimCommand, state: CardClaimState): CardClaimEvent[] {
  if (command.type === 'ReleaseCard')
    return state.claimed && state.contractId === command.contractId
      ? [
          {
            type: 'CardClaimReleased',
            data: { cardFingerprint: command.cardFingerprint, contractId: command.contractId, releasedAt: command.at },
          },
        ]
      : [];
  if (state.claimed) {
    if (state.contractId === command.contractId) return [];
    if (state.userId !== command.userId)
      throw new DomainError('card_bound_to_another_user', 'this card is bound to another user', {});
    throw new DomainError('card_binding_in_progress', 'this card is already bound (or being bound) by this user', {
      contractId: state.contractId,
    });
  }
  return [
    {
      type: 'CardClaimed',
      data: {
        cardFingerprint: command.cardFingerprint,
        userId: command.userId,
        contractId: command.contractId,
        claimedAt: command.at,
      },
    },
  ];
}

export function evolveCardClaim(_state: CardClaimState, event: CardClaimEvent): CardClaimState {
  return event.type === 'CardClaimed'
    ? { claimed: true, userId: event.data.userId, contractId: event.data.contractId }
    : { claimed: false };
}

export const cardClaimDecider = {
  decide: decideCardClaim,
  evolve: evolveCardClaim,
  initialState: (): CardClaimState => ({ claimed: false }),
};
