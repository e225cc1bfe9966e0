import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { identifyCard } from '../../../domain/cards/card-identification.js';
import { CARD_KINDS, CARD_NETWORKS } from '../../../domain/cards/card-network.js';
import {
  MAX_CARD_NUMBER_DIGITS,
  MIN_CARD_NUMBER_DIGITS,
  normalizeCardNumber,
} from '../../../domain/cards/card-number.js';
import type { LedgerService } from '../../ledger-service.js';
import { principalOf } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';

/** Card identification: the bank of a card as the user types it, before anything else is asked. */

/** Room for the digits and the spaces or dashes people type between their groups. */
const MAX_TYPED_CARD_LENGTH = 2 * MAX_CARD_NUMBER_DIGITS;

export const cardLookupBody = z
  .strictObject({
    cardNumber: z
      .string()
      .max(MAX_TYPED_CARD_LENGTH)
      .describe(
        `The card number as typed: ${MIN_CARD_NUMBER_DIGITS} to ${MAX_CARD_NUMBER_DIGITS} digits, spaces and dashes ignored. In the body only: never in a URL, and never logged`,
      ),
  })
  .meta({ example: { cardNumber: '6222 0200 0000 0000 018' } });

export const cardLookupView = z
  .object({
    maskedCard: z.string().describe('First 6 and last 4 digits'),
    network: z.enum(CARD_NETWORKS),
    bank: z
      .object({ code: z.string(), name: z.string() })
      .nullable()
      .describe('The issuer, from the BIN table; null when the table has no row for the card'),
    cardKind: z.enum(CARD_KINDS).nullable(),
    luhnValid: z.boolean().describe('Whether the last digit is the Luhn check digit: false is a typing error'),
    source: z.enum(['bin_table', 'network_rule']).describe('What told the network'),
    testCard: z.boolean().describe('A test card of the channel simulator (a test row of the table)'),
  })
  .meta({
    id: 'CardLookup',
    example: {
      maskedCard: '622202*********0018',
      network: 'unionpay',
      bank: { code: 'ICBC', name: 'Industrial and Commercial Bank of China' },
      cardKind: 'debit',
      luhnValid: true,
      source: 'bin_table',
      testCard: false,
    },
  });

export function cardRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/cards/lookup',
      {
        schema: {
          tags: ['cards'],
          summary: 'Identify a card by its number',
          description:
            'The issuing bank, card kind and network of a card number (the longest matching BIN prefix of the table; else the network by its leading digits: 4 Visa, 5 Mastercard, 62/60/9 UnionPay), whether its Luhn check digit is right, and its masked form. Records nothing. A number that is not 12 to 19 digits (spaces and dashes aside) answers 400 `card_number_invalid`; a wrong check digit answers 200 with `luhnValid: false`.',
          body: cardLookupBody,
          response: { 200: cardLookupView, ...problemResponses('card_number_invalid') },
        },
      },
      async (request) => {
        principalOf(request);
        const digits = normalizeCardNumber(request.body.cardNumber);
        if (digits === null)
          throw new HttpProblem(
            400,
            'card_number_invalid',
            'Invalid card number',
            `a card number is ${MIN_CARD_NUMBER_DIGITS} to ${MAX_CARD_NUMBER_DIGITS} digits (spaces and dashes are ignored)`,
          );
        return identifyCard(digits, service.cardBins);
      },
    );
  };
}
