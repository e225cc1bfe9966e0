import { assert } from '../shared/domain-error.js';
import type { PaymentCodeDeviceEvent, PaymentCodeSlotEvent } from './payment-code-events.js';

/**
 * Who holds a slot (`codeslot-<slot>`) and which seed a device holds (`codedevice-<deviceId>`). Both are
 * appended at the exact revision the decision was made on, so two instances never both take a slot, and
 * of two logins on one device each sees the other (the second reloads and finds the first).
 */
type Claim = PaymentCodeSlotEvent['data'];
type Binding = PaymentCodeDeviceEvent['data'];

export type SlotState = { readonly holder: Claim | null };
export type DeviceState = { readonly holder: Binding | null };

export type SlotCommand = {
  readonly type: 'ClaimSlot';
  readonly claim: Claim;
  /**
   * Whether the current holder's seed was revoked (read from its user's stream by the caller). A revoked
   * seed never lives again and an expired one neither, so taking the slot on either is safe even if
   * that knowledge is a moment old.
   */
  readonly holderRevoked: boolean;
};

export type DeviceCommand = { readonly type: 'BindDevice'; readonly binding: Omit<Binding, 'previous'> };

export function decideSlot(command: SlotCommand, state: SlotState): PaymentCodeSlotEvent[] {
  const { claim } = command;
  const holder = state.holder;
  if (holder?.seedId === claim.seedId) return [];
  // A claim whose seed was never issued (its issuance died after the claim) holds the slot until it expires.
  const holderLive = holder !== null && !command.holderRevoked && Date.parse(claim.at) < Date.parse(holder.expiresAt);
  // Taken: nothing recorded; the caller sees another seed still holding the slot and draws another.
  if (holderLive) return [];
  assert(Date.parse(claim.expiresAt) > Date.parse(claim.at), 'a slot is claimed for a seed that expires later');
  return [{ type: 'PaymentCodeSlotClaimed', data: claim }];
}

export function evolveSlot(_state: SlotState, event: PaymentCodeSlotEvent): SlotState {
  return { holder: event.data };
}

export function decideDevice(command: DeviceCommand, state: DeviceState): PaymentCodeDeviceEvent[] {
  const holder = state.holder;
  if (holder?.seedId === command.binding.seedId) return [];
  const previous = holder && { userId: holder.userId, seedId: holder.seedId };
  return [{ type: 'PaymentCodeDeviceBound', data: { ...command.binding, previous } }];
}

export function evolveDevice(_state: DeviceState, event: PaymentCodeDeviceEvent): DeviceState {
  return { holder: event.data };
}

export const slotDecider = {
  decide: decideSlot,
  evolve: evolveSlot,
  initialState: (): SlotState => ({ holder: null }),
};
export const deviceDecider = {
  decide: decideDevice,
  evolve: evolveDevice,
  initialState: (): DeviceState => ({ holder: null }),
};
