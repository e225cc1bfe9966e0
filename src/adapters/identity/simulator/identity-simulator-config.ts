import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { testCardholders } from '../../channels/simulator/default-simulator-config.js';

/**
 * What the simulated identity service knows and how it misbehaves. Its records are test persons only
 * (ID numbers starting `TEST`, so no real person's): by default the channel simulator's test cardholders
 * (the same name, ID number, phone and card, so a binding and a verification agree) and one person with a
 * Chinese name, to show the masked form a Chinese name takes (`*三`).
 */
const range = z
  .strictObject({ min: z.int().min(0).max(60_000), max: z.int().min(0).max(60_000) })
  .refine((r) => r.min <= r.max, 'min <= max');

export const identityFailures = z.strictObject({
  /** Queries held past any client's timeout (answered after `heldAnswerMs`, or never). */
  timeoutRatePpm: z.int().min(0).max(1_000_000),
  /** Queries answered 500 SYSTEM_ERROR. */
  serverErrorRatePpm: z.int().min(0).max(1_000_000),
  /** Every query answered 503 BUSY. */
  outage: z.boolean(),
  latencyMs: range,
});
export type IdentityFailures = z.infer<typeof identityFailures>;

export const simulatedPerson = z.strictObject({
  name: z.string().min(1).max(64),
  idNumber: z.string().regex(/^TEST[0-9A-Z]{1,28}$/, 'test ID numbers only: TEST...'),
  phone: z.string().min(5).max(20),
  cardNumbers: z.array(z.string().regex(/^[0-9]{12,19}$/)).max(16),
});
export type SimulatedPerson = z.infer<typeof simulatedPerson>;

export const identitySimulatorConfig = z.strictObject({
  seed: z.string().min(1).max(128),
  accountId: z.string().min(1).max(32),
  keyId: z.string().min(1).max(64),
  secretBase64: z.base64(),
  heldAnswerMs: z.int().min(1).max(600_000),
  persons: z.array(simulatedPerson).max(10_000),
  failures: identityFailures,
});
export type IdentitySimulatorConfig = z.infer<typeof identitySimulatorConfig>;

/** The service's key, derived from the seed as the channel simulator's are (both sides derive the same). */
export function simulatedIdentitySecret(seed: string): Buffer {
  return createHmac('sha256', `ledger-identity-simulator:${seed}`).update('identity').digest();
}

/** A test person with a Chinese name (no card): its masked name is `*三`. */
export const TEST_PERSON_ZHANG = {
  name: '张三',
  idNumber: 'TEST00000000000099',
  phone: '10000000099',
  cardNumbers: [],
} as const satisfies SimulatedPerson;

export function defaultIdentitySimulatorConfig(seed = 'ledger'): IdentitySimulatorConfig {
  return {
    seed,
    accountId: 'LEDGER0001',
    keyId: 'sim-identity-key-1',
    secretBase64: simulatedIdentitySecret(seed).toString('base64'),
    heldAnswerMs: 60_000,
    persons: [
      ...testCardholders.map((holder) => ({
        name: holder.holderName,
        idNumber: holder.idNumber,
        phone: holder.phone,
        cardNumbers: [holder.cardNumber],
      })),
      { ...TEST_PERSON_ZHANG, cardNumbers: [] },
    ],
    failures: { timeoutRatePpm: 0, serverErrorRatePpm: 0, outage: false, latencyMs: { min: 0, max: 5 } },
  };
}
