import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SimulatedCardholder } from '../../src/adapters/channels/simulator/simulator-config.js';
import type { LedgerService } from '../../src/adapters/ledger-service.js';
import type { StartBindingRequest } from '../../src/commands/contracts/card-bindings.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { BINDING_PASSWORD, bindingBodyOf, bindingUser } from './card-binding-fixtures.js';

/** Shared by the card-binding, identity and erasure tests. */
export const TEST_PAYMENT_PASSWORD = BINDING_PASSWORD;

/** Every file under `dir`, for the tests that read every byte of a data directory. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The DomainError `run` is refused with (the test fails if it is not refused so). */
export async function refusal(run: Promise<unknown>): Promise<DomainError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/** A user with a phone and the test payment password, registered through the command layer. */
export function registerPayingUser(
  service: LedgerService,
  phone = '+8613900000001',
  displayName = 'Test user',
): Promise<string> {
  return bindingUser(service.entities, displayName, phone);
}

/** A start of binding `holder`'s card for `userId`, as a merchant would send it (a credit card with its expiry and CVN2). */
export function bindingRequest(
  userId: string,
  holder: SimulatedCardholder,
  overrides: Partial<StartBindingRequest> = {},
): StartBindingRequest {
  return { ...bindingBodyOf(userId, holder), requestedBy: 'merchant-test', ...overrides };
}
