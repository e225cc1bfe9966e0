import { writeFileSync } from 'node:fs';
import { luhnCheckDigit } from '../../src/domain/accounts/account-number.js';
import { defaultSimulatorConfig } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { SimulatedCardholder } from '../../src/adapters/channels/simulator/simulator-config.js';
import { cardNumber as maskedCardOf, phoneNumber } from '../../src/domain/shared/sensitive-text.js';
import type { SoakSender } from './soak-requests.js';

/**
 * Card binding through the API in the soak (`bind_card`): each client binds fresh cards of its own (a
 * card binds to one user) for its binding user, reads the bank's SMS code from the channel simulator's
 * outbox and confirms. The simulator process knows those cards: the soak starts it with a configuration
 * that adds them to the default cardholders.
 */

/** Cards a client binds at most: its cards are made up before the load, so their number is bounded. */
export const MAX_BINDINGS_PER_CLIENT = 20;
/** The binding users' payment password (made up, as the tests' one). */
export const SOAK_BINDING_PASSWORD = '583920';
/** The test range's City Bank debit BIN (resources/card-bins.csv): signed by sim-citybank, verify_then_sign. */
const CITY_DEBIT_BIN = '0000000001';

/** One binding as the soak asked for it: its contract (once the start was answered) and the confirm's verdict. */
export interface SoakBinding {
  readonly userId: string;
  readonly maskedCard: string;
  contractId: string | null;
  /** The confirm was answered `bound`. */
  acknowledgedBound: boolean;
}

/** The `n`th (1 to MAX_BINDINGS_PER_CLIENT) card of client `client`: its number and phone unique in the run. */
export function soakCardholder(client: number, n: number): SimulatedCardholder {
  if (!(n >= 1 && n <= MAX_BINDINGS_PER_CLIENT)) throw new RangeError(`binding 1 to ${MAX_BINDINGS_PER_CLIENT}`);
  // Unique per (client, n) in its last four digits, so the masked phone names one card's SMS.
  const serial = String(client * 100 + n).padStart(4, '0');
  const body = `${CITY_DEBIT_BIN}0${serial}`;
  return {
    cardNumber: `${body}${luhnCheckDigit(body)}`,
    holderName: `Soak Holder ${client} ${n}`,
    idNumber: `SOAK${serial.padStart(14, '0')}`,
    phone: `1380000${serial}`,
    bankCode: 'CITY',
    cardKind: 'debit',
    balanceMinor: 10_000_000n,
  };
}

/** `POST /v1/card-contracts`'s body for a soak card (a debit card: no expiry or CVN2). */
export function soakBindingBody(userId: string, holder: SimulatedCardholder) {
  return {
    userId,
    paymentPassword: SOAK_BINDING_PASSWORD,
    cardNumber: holder.cardNumber,
    holderName: holder.holderName,
    idNumber: holder.idNumber,
    phone: holder.phone,
    expiry: null,
    cvn2: null,
  };
}

export function maskedSoakCard(holder: SimulatedCardholder): string {
  return maskedCardOf(holder.cardNumber).masked;
}

/** Writes the simulator's configuration: the default one for `seed` plus every client's soak cards. */
export function writeSoakSimulatorConfig(path: string, seed: string, clients: number): void {
  const config = defaultSimulatorConfig(seed);
  const cards = Array.from({ length: clients }, (_, client) =>
    Array.from({ length: MAX_BINDINGS_PER_CLIENT }, (_, i) => soakCardholder(client, i + 1)),
  ).flat();
  const withCards = { ...config, cardholders: [...config.cardholders, ...cards] };
  // The file's amounts are minor units as strings (the configuration's codec).
  writeFileSync(
    path,
    JSON.stringify(withCards, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
  );
}

/** A binding user: a phone (the binding texts nothing to it, but it is required) and a payment password. */
export async function registerBindingUser(sender: SoakSender, seed: string, client: number): Promise<string> {
  const key = `soak-${seed}-setup-binder-${client}`;
  const user = await sender.command<{ entityId: string }>(
    '/v1/entities',
    { kind: 'user', displayName: `Soak binder ${client}`, phone: `+86139000000${String(client).padStart(2, '0')}` },
    key,
  );
  await sender.command(
    `/v1/entities/${user.entityId}/payment-password`,
    { newPassword: SOAK_BINDING_PASSWORD },
    `${key}-password`,
  );
  return user.entityId;
}

/** The newest SMS code the simulator's bank texted to `maskedPhone` (null: none yet). */
export async function bankCodeFor(simulatorUrl: string, maskedPhone: string): Promise<string | null> {
  const response = await fetch(`${simulatorUrl}/control/sms-outbox`);
  if (!response.ok) throw new Error(`the simulator's SMS outbox: ${response.status}`);
  const outbox = (await response.json()) as { maskedPhone: string; code: string }[];
  return outbox.filter((sms) => sms.maskedPhone === maskedPhone).at(-1)?.code ?? null;
}

export function maskedSoakPhone(holder: SimulatedCardholder): string {
  return phoneNumber(holder.phone).masked;
}

/**
 * Each binding the confirm answered `bound` is in its user's contracts once, bound and masked as the
 * card; no contract is bound that no answer acknowledged.
 */
export async function checkBindings(
  bindings: readonly SoakBinding[],
  sender: SoakSender,
  at: string,
  ran: (name: string) => void,
  breach: (text: string) => void,
): Promise<{ lost: number; doubled: number }> {
  let lost = 0;
  let doubled = 0;
  const users = [...new Set(bindings.map((b) => b.userId))];
  for (const userId of users) {
    // A user has at most MAX_BINDINGS_PER_CLIENT contracts: one page of 200 holds them all.
    const page = await sender.read<{ items: { contractId: string; maskedCard: string; status: string }[] }>(
      `/v1/users/${userId}/card-contracts?limit=200&${at}`,
    );
    const mine = bindings.filter((b) => b.userId === userId);
    for (const binding of mine.filter((b) => b.acknowledgedBound)) {
      ran('acknowledged binding listed once, bound');
      const listed = page.items.filter((c) => c.contractId === binding.contractId);
      if (listed.length !== 1 || listed[0]!.status !== 'bound' || listed[0]!.maskedCard !== binding.maskedCard) {
        lost += 1;
        breach(`binding ${binding.contractId} answered bound, listed ${JSON.stringify(listed)}`);
      }
    }
    for (const contract of page.items.filter((c) => c.status === 'bound')) {
      ran('bound contract acknowledged');
      if (!mine.some((b) => b.acknowledgedBound && b.contractId === contract.contractId)) {
        doubled += 1;
        breach(`contract ${contract.contractId} (${contract.maskedCard}) bound without an acknowledged confirm`);
      }
    }
  }
  return { lost, doubled };
}
