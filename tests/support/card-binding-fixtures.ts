import type { SimulatedCardholder } from '../../src/adapters/channels/simulator/simulator-config.js';
import type { EntityCommands } from '../../src/commands/entities/entity-commands.js';
import { context } from './command-fixtures.js';

export const BINDING_PASSWORD = '583920';

/** A user who can bind cards: a phone and a payment password (BINDING_PASSWORD). */
export async function bindingUser(entities: EntityCommands, displayName: string, phone: string): Promise<string> {
  const { entityId } = await entities.register({ kind: 'user', displayName, phone }, context());
  await entities.setPaymentPassword(entityId, { newPassword: BINDING_PASSWORD, currentPassword: null }, context(), {
    takeover: false,
  });
  return entityId;
}

/** `POST /v1/card-contracts`'s body for a test cardholder's card (a credit card's expiry and CVN2 made up). */
export function bindingBodyOf(userId: string, holder: SimulatedCardholder, overrides: object = {}) {
  return {
    userId,
    paymentPassword: BINDING_PASSWORD,
    cardNumber: holder.cardNumber,
    holderName: holder.holderName,
    idNumber: holder.idNumber,
    phone: holder.phone,
    expiry: holder.cardKind === 'credit' ? '1230' : null,
    cvn2: holder.cardKind === 'credit' ? '123' : null,
    ...overrides,
  };
}
